package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/apperr"
)

type txKey struct{}

// WithTx makes every store call made with the returned context run inside tx. The idempotency layer
// uses it so the stored response commits in the same transaction as the work it records; a store's own
// transactions become savepoints inside it.
func WithTx(ctx context.Context, tx pgx.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

func txFrom(ctx context.Context) pgx.Tx {
	tx, _ := ctx.Value(txKey{}).(pgx.Tx)
	return tx
}

// base is what every store shares: the pool, and the transaction it is bound to inside InTx.
type base struct {
	pool *pgxpool.Pool
	tx   pgx.Tx
}

// conn is the bound transaction, else the context's transaction, else the pool.
func (b base) conn(ctx context.Context) db.DBTX {
	if b.tx != nil {
		return b.tx
	}
	if tx := txFrom(ctx); tx != nil {
		return tx
	}
	return b.pool
}

func (b base) q(ctx context.Context) *db.Queries { return db.New(b.conn(ctx)) }

// inTx runs fn in a transaction: a new one, or a savepoint inside the one already under way.
func (b base) inTx(ctx context.Context, fn func(base) error) error {
	parent := b.tx
	if parent == nil {
		parent = txFrom(ctx)
	}
	var (
		tx  pgx.Tx
		err error
	)
	if parent != nil {
		tx, err = parent.Begin(ctx)
	} else {
		tx, err = b.pool.Begin(ctx)
	}
	if err != nil {
		return apperr.Internal(fmt.Errorf("beginning transaction: %w", err))
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := fn(base{pool: b.pool, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return apperr.Internal(fmt.Errorf("committing: %w", err))
	}
	return nil
}
