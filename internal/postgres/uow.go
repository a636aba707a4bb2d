package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/uow"
)

// DB is the one unit of work over PostgreSQL, and the handle every store shares. It is the only code
// that begins transactions: InTx begins one (or a savepoint inside the transaction already under way),
// registers it with package uow so after-commit actions are bound to it, and commits or rolls it back.
// Stores find the transaction in the context; outside one they use the pool.
type DB struct {
	pool    *pgxpool.Pool
	cursors cursorCodec
}

var _ uow.Runner = (*DB)(nil)

// NewDB returns the unit of work over the pool. Page cursors are signed with a key derived from secret
// (the deployment's JWT secret, so every instance accepts the others'); nil picks a random key.
func NewDB(pool *pgxpool.Pool, secret []byte) *DB {
	return &DB{pool: pool, cursors: newCursorCodec(secret)}
}

// InTx runs fn in a transaction, or in a savepoint when ctx already carries one. fn's error rolls it
// back and is returned as is. Ending the transaction does not depend on ctx: a caller that went away
// must not leave it open. After-commit actions run once the outermost transaction has committed
// (AfterEnd ones also after a rollback or a failed COMMIT, which may still have been applied).
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	var tx pgx.Tx
	if parent := txFrom(ctx); parent != nil {
		tx, err = parent.Begin(ctx)
	} else {
		tx, err = d.pool.Begin(ctx)
	}
	if err != nil {
		return translate(fmt.Errorf("beginning transaction: %w", err), "transaction")
	}
	ctx, unit := uow.Begin(ctx, tx)
	end := context.WithoutCancel(ctx)
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback(end) // a no-op when Commit failed (pgx rolled back already)
		}
		unit.End(committed)
	}()
	if err := fn(ctx); err != nil {
		return err
	}
	if err := tx.Commit(end); err != nil {
		return translate(fmt.Errorf("committing: %w", err), "transaction")
	}
	committed = true
	return nil
}

func txFrom(ctx context.Context) pgx.Tx {
	if u := uow.Current(ctx); u != nil {
		if tx, ok := u.Tx.(pgx.Tx); ok {
			return tx
		}
	}
	return nil
}

// conn is the context's transaction, else the pool.
func (d *DB) conn(ctx context.Context) db.DBTX {
	if tx := txFrom(ctx); tx != nil {
		return tx
	}
	return d.pool
}

func (d *DB) q(ctx context.Context) *db.Queries { return db.New(d.conn(ctx)) }
