package edge

import (
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/ratelimit"
)

// RateLimits are requests per minute.
type RateLimits struct {
	Anonymous int // per client address
	User      int // per signed-in user
}

// limitRates counts every /v1 request against a global limit: the user's when it carries a valid access
// token, else the client address's. The operational endpoints are not limited. When the limiter cannot
// answer, the request is served (fail open) and the limiter counts and logs the failure.
func limitRates(l ratelimit.Limiter, limits RateLimits, tokens *identity.TokenIssuer) echo.MiddlewareFunc {
	anonymous, user := newRatePolicy("anonymous", limits.Anonymous, time.Minute), newRatePolicy("user", limits.User, time.Minute)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if l == nil || !strings.HasPrefix(c.Request().URL.Path, "/v1/") {
				return next(c)
			}
			key, limit, policy := "ip:"+c.RealIP(), limits.Anonymous, anonymous
			if raw, sent := bearerToken(c); sent {
				if p, err := tokens.Verify(raw); err == nil {
					key, limit, policy = "user:"+p.UserID.String(), limits.User, user
				}
			}
			d, err := l.Take(c.Request().Context(), key, limit, time.Minute)
			if err != nil {
				return next(c)
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
