package edge

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/storefront/storefront/internal/ratelimit"
)

// ratePolicy writes the rate-limit fields of one policy: the IETF draft's RateLimit-Policy and RateLimit
// (draft-ietf-httpapi-ratelimit-headers-09, Structured Fields: `"user";q=1000;w=60`, `"user";r=998;t=1`),
// GitHub's X-RateLimit-*, and RateLimit-Limit/-Remaining/-Reset, the names of earlier drafts, which the
// released v1 contract carries (deprecated there, kept for the life of /v1).
type ratePolicy struct {
	name   string
	quota  int
	policy []string // RateLimit-Policy never changes for a policy: built once
	limit  []string
}

func newRatePolicy(name string, limit int, window time.Duration) ratePolicy {
	q := strconv.Itoa(limit)
	return ratePolicy{name: name, quota: limit, limit: []string{q},
		policy: []string{strconv.Quote(name) + ";q=" + q + ";w=" + strconv.Itoa(int(window.Seconds()))}}
}

// Header keys as net/http canonicalises them, for direct map writes.
var (
	keyRateLimitPolicy = http.CanonicalHeaderKey("RateLimit-Policy")
	keyRateLimit       = http.CanonicalHeaderKey("RateLimit")
)

func (p ratePolicy) write(h http.Header, d ratelimit.Decision) {
	remaining := strconv.Itoa(d.Remaining)
	reset := strconv.Itoa(int(math.Ceil(d.Reset.Seconds())))
	h[keyRateLimitPolicy] = p.policy // shared, never appended to (see securityHeaders)
	h[keyRateLimit] = []string{strconv.Quote(p.name) + ";r=" + remaining + ";t=" + reset}
	for _, prefix := range []string{"X-Ratelimit-", "Ratelimit-"} {
		h[prefix+"Limit"] = p.limit
		h[prefix+"Remaining"] = []string{remaining}
		h[prefix+"Reset"] = []string{reset}
	}
}
