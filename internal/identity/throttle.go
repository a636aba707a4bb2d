package identity

import (
	"context"
	"time"

	"github.com/storefront/storefront/internal/uow"
)

// LoginThrottle limits sign-in attempts per email and client address: MaxLoginFailures failures per
// LoginWindow. An attempt is counted before the password is checked, atomically, so parallel attempts
// cannot slip past the limit; a successful sign-in clears the count.
type LoginThrottle interface {
	// Attempt counts one attempt; when the limit is reached it refuses and says how long to wait.
	Attempt(ctx context.Context, email, ip string) (allowed bool, retryAfter time.Duration, err error)
	// Succeeded clears the count after a correct password.
	Succeeded(ctx context.Context, email, ip string) error
}

// StoreThrottle keeps the throttle in the identity Store (PostgreSQL): a sliding window of attempts,
// counted and recorded under a per-key lock.
type StoreThrottle struct {
	Store Store
	Tx    uow.Runner
}

func (t StoreThrottle) Attempt(ctx context.Context, email, ip string) (allowed bool, retryAfter time.Duration, err error) {
	err = t.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := t.Store.LockLoginAttempts(ctx, email, ip); err != nil {
			return err
		}
		n, wait, err := t.Store.RecentLoginFailures(ctx, email, ip, LoginWindow)
		if err != nil {
			return err
		}
		if n >= MaxLoginFailures {
			retryAfter = wait
			return nil
		}
		allowed = true
		return t.Store.RecordLoginFailure(ctx, email, ip)
	})
	return allowed, retryAfter, err
}

func (t StoreThrottle) Succeeded(ctx context.Context, email, ip string) error {
	return t.Store.ClearLoginFailures(ctx, email, ip)
}
