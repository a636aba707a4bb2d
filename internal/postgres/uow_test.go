package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/postgres"
	"github.com/storefront/storefront/internal/testenv"
	"github.com/storefront/storefront/internal/uow"
)

// The outermost transaction runs again after a serialization failure or a deadlock, as a fresh unit:
// the failed attempt's after-commit actions never run; a savepoint's failure is not retried alone; and
// other errors are never retried.
func TestInTxRetriesLostTransactions(t *testing.T) {
	pool, err := postgres.Connect(context.Background(), testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	d := postgres.NewDB(pool, nil)
	ctx := context.Background()
	lost := func(code string) error {
		return apperr.Concurrent(fmt.Errorf("updating: %w", &pgconn.PgError{Code: code}))
	}

	for _, code := range []string{"40001", "40P01"} {
		t.Run("retried on "+code, func(t *testing.T) {
			attempts, after := 0, []int{}
			err := d.InTx(ctx, func(ctx context.Context) error {
				attempts++
				n := attempts
				uow.AfterCommit(ctx, func() { after = append(after, n) })
				if n < 3 {
					return lost(code)
				}
				return nil
			})
			if err != nil || attempts != 3 || len(after) != 1 || after[0] != 3 {
				t.Fatalf("err %v, attempts %d, after-commit actions of attempts %v; want attempt 3's only", err, attempts, after)
			}
		})
	}
	t.Run("gives up after a bound", func(t *testing.T) {
		attempts := 0
		err := d.InTx(ctx, func(ctx context.Context) error { attempts++; return lost("40001") })
		if !apperr.IsTransient(err) || attempts != 4 {
			t.Fatalf("err %v after %d attempts", err, attempts)
		}
	})
	t.Run("a savepoint is not retried alone", func(t *testing.T) {
		outer, inner := 0, 0
		_ = d.InTx(ctx, func(ctx context.Context) error {
			outer++
			return d.InTx(ctx, func(ctx context.Context) error {
				inner++
				if outer == 1 {
					return lost("40001")
				}
				return nil
			})
		})
		if outer != 2 || inner != 2 {
			t.Fatalf("outer ran %d times, inner %d; want the whole transaction run again", outer, inner)
		}
	})
	t.Run("other errors are not retried", func(t *testing.T) {
		attempts := 0
		boom := errors.New("boom")
		if err := d.InTx(ctx, func(ctx context.Context) error { attempts++; return boom }); !errors.Is(err, boom) || attempts != 1 {
			t.Fatalf("err %v after %d attempts", err, attempts)
		}
	})
	if d.Retries.Load() != 2+2+3+1 {
		t.Fatalf("retries counted %d", d.Retries.Load())
	}
}
