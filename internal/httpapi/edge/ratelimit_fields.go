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
	quoted string   // the name as a Structured Fields string
	policy []string // RateLimit-Policy never changes for a policy: built once
	limit  []string
}

func newRatePolicy(name string, limit int, window time.Duration) ratePolicy {
	q := strconv.Itoa(limit)
	return ratePolicy{name: name, quota: limit, quoted: strconv.Quote(name), limit: []string{q},
		policy: []string{strconv.Quote(name) + ";q=" + q + ";w=" + strconv.Itoa(int(window.Seconds()))}}
}

// Header keys as net/http canonicalises them, for direct map writes.
var (
	keyRateLimitPolicy = http.CanonicalHeaderKey("RateLimit-Policy")
	keyRateLimit       = http.CanonicalHeaderKey("RateLimit")
	keyLimit           = http.CanonicalHeaderKey("RateLimit-Limit")
	keyRemaining       = http.CanonicalHeaderKey("RateLimit-Remaining")
	keyReset           = http.CanonicalHeaderKey("RateLimit-Reset")
	keyGitHubLimit     = http.CanonicalHeaderKey("X-RateLimit-Limit")
	keyGitHubRemaining = http.CanonicalHeaderKey("X-RateLimit-Remaining")
	keyGitHubReset     = http.CanonicalHeaderKey("X-RateLimit-Reset")
)

// write sets the fields. The value slices are shared between fields and, for the policy's constant
// ones, between responses: nothing appends to a response header's slice in place (see securityHeaders).
func (p ratePolicy) write(h http.Header, d ratelimit.Decision) {
	remaining := []string{strconv.Itoa(d.Remaining)}
	reset := []string{strconv.Itoa(int(math.Ceil(d.Reset.Seconds())))}
	h[keyRateLimitPolicy] = p.policy
	h[keyRateLimit] = []string{p.quoted + ";r=" + remaining[0] + ";t=" + reset[0]}
	h[keyGitHubLimit], h[keyLimit] = p.limit, p.limit
	h[keyGitHubRemaining], h[keyRemaining] = remaining, remaining
	h[keyGitHubReset], h[keyReset] = reset, reset
}
