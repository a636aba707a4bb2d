package edge

import (
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
	policies := map[string]ratePolicy{
		"anonymous": newRatePolicy("anonymous", limits.Anonymous, time.Minute),
		"user":      newRatePolicy("user", limits.User, time.Minute),
		"api_key":   newRatePolicy("api_key", limits.APIKey, time.Minute),
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if l == nil || !strings.HasPrefix(c.Request().URL.Path, "/v1/") {
				return next(c)
			}
			name, key, limit := "anonymous", "ip:"+c.RealIP(), limits.Anonymous
			if cred, err := creds.of(c); err == nil && cred != nil {
				name, key, limit = cred.limitKey(limits)
			}
			d, err := l.Take(c.Request().Context(), key, limit, time.Minute)
			if err != nil {
				return next(c)
			}
			policy := policies[name]
			if policy.quota != limit { // an API key with a limit of its own
				policy = newRatePolicy(name, limit, time.Minute)
			}
			policy.write(c.Response().Header(), d)
			if !d.Allowed {
				e := apperr.New(apperr.KindRateLimited, "Too many requests; slow down and retry after the time in Retry-After.")
				e.RetryAfter = d.RetryAfter
				return e
			}
			return next(c)
		}
	}
}
