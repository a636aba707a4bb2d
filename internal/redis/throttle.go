package redis

import (
	"context"
	"time"

	"github.com/storefront/storefront/internal/identity"
)

// LoginThrottle keeps the failed sign-in throttle in Redis, on the same limiter as request rates, so it
// holds across instances. While Redis is unreachable it falls back to the PostgreSQL throttle.
type LoginThrottle struct {
	limiter  *Limiter
	fallback identity.LoginThrottle
}

var _ identity.LoginThrottle = (*LoginThrottle)(nil)

// NewLoginThrottle returns a Redis throttle with a fallback.
func NewLoginThrottle(l *Limiter, fallback identity.LoginThrottle) *LoginThrottle {
	return &LoginThrottle{limiter: l, fallback: fallback}
}

func throttleKey(email, ip string) string { return "login:" + ip + ":" + email }

func (t *LoginThrottle) Attempt(ctx context.Context, email, ip string) (bool, time.Duration, error) {
	d, err := t.limiter.CountInWindow(ctx, throttleKey(email, ip), identity.MaxLoginFailures, identity.LoginWindow)
	if err != nil {
		return t.fallback.Attempt(ctx, email, ip)
	}
	return d.Allowed, d.RetryAfter, nil
}

func (t *LoginThrottle) Succeeded(ctx context.Context, email, ip string) error {
	if err := t.limiter.Reset(ctx, throttleKey(email, ip)); err != nil {
		return t.fallback.Succeeded(ctx, email, ip)
	}
	return nil
}
