package identity

import (
	"context"
	"time"

	"github.com/storefront/storefront/internal/uow"
)

// The failed sign-in throttle. Two limits, both counted in PostgreSQL, so every instance sees the same
// counts and none is lost when Redis comes or goes:
//   - per account and address: MaxLoginFailures failures within LoginWindow refuse further attempts
//     from that address for that account;
//   - per account, from every address: past MaxAccountLoginFailures failures within AccountLoginWindow,
//     attempts from addresses that have failed for the account are refused too. An address with no
//     failures for the account may still try, so a real user is not locked out by someone guessing from
//     elsewhere; each new address an attacker brings buys it one guess.
//
// An attempt is counted before the password is checked, under a per-account lock, so parallel attempts
// cannot slip past either limit; a correct password clears the address's count.
const (
	MaxLoginFailures        = 5
	LoginWindow             = 15 * time.Minute
	MaxAccountLoginFailures = 20
	AccountLoginWindow      = time.Hour
)

// LoginThrottle limits sign-in attempts.
type LoginThrottle interface {
	// Attempt counts one attempt; when a limit is reached it refuses and says how long to wait.
	Attempt(ctx context.Context, email, ip string) (allowed bool, retryAfter time.Duration, err error)
	// Succeeded clears the address's count after a correct password.
	Succeeded(ctx context.Context, email, ip string) error
}

// StoreThrottle keeps the throttle in the identity Store.
type StoreThrottle struct {
	Store Store
	Tx    uow.Runner
}

func (t StoreThrottle) Attempt(ctx context.Context, email, ip string) (allowed bool, retryAfter time.Duration, err error) {
	err = t.Tx.InTx(ctx, func(ctx context.Context) error {
		allowed, retryAfter = false, 0 // the unit may run this again (a serialization failure)
		if err := t.Store.LockLoginAttempts(ctx, email); err != nil {
			return err
		}
		here, wait, err := t.Store.RecentLoginFailures(ctx, email, ip, LoginWindow)
		if err != nil {
			return err
		}
		if here >= MaxLoginFailures {
			retryAfter = wait
			return nil
		}
		if here > 0 {
			all, wait, err := t.Store.RecentAccountLoginFailures(ctx, email, AccountLoginWindow)
			if err != nil {
				return err
			}
			if all >= MaxAccountLoginFailures {
				retryAfter = wait
				return nil
			}
		}
		allowed = true
		return t.Store.RecordLoginFailure(ctx, email, ip)
	})
	return allowed, retryAfter, err
}

func (t StoreThrottle) Succeeded(ctx context.Context, email, ip string) error {
	return t.Store.ClearLoginFailures(ctx, email, ip)
}
