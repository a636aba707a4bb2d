package edge

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/ratelimit"
)

// RateLimits are requests per minute.
type RateLimits struct {
	Anonymous int // per client address
	User      int // per signed-in user
	APIKey    int // per API key, unless an admin set the key's own
}

// limitRates counts every /v1 request against a global limit: the user's when it carries a valid access
// token, the key's when it carries a valid API key, else the client address's. The operational
// endpoints are not limited. When the limiter cannot answer, the request is served (fail open) and the
// limiter counts and logs the failure.
func limitRates(l ratelimit.Limiter, limits RateLimits, creds *credentials) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if l == nil || !strings.HasPrefix(c.Request().URL.Path, "/v1/") {
				return next(c)
			}
			key, limit := "ip:"+c.RealIP(), limits.Anonymous
			if cred, err := creds.of(c); err == nil && cred != nil {
				key, limit = cred.limitKey(limits)
			}
			d, err := l.Take(c.Request().Context(), key, limit, time.Minute)
			if err != nil {
				return next(c)
			}
			h := c.Response().Header()
			reset := strconv.Itoa(int(math.Ceil(d.Reset.Seconds())))
			for _, prefix := range []string{"RateLimit-", "X-RateLimit-"} {
				h.Set(prefix+"Limit", strconv.Itoa(d.Limit))
				h.Set(prefix+"Remaining", strconv.Itoa(d.Remaining))
				h.Set(prefix+"Reset", reset)
			}
			if !d.Allowed {
				e := apperr.New(apperr.KindRateLimited, "Too many requests; slow down and retry after the time in Retry-After.")
				e.RetryAfter = d.RetryAfter
				return e
			}
			return next(c)
		}
	}
}
