package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/uow"
)

// DB is the one unit of work over PostgreSQL, and the handle every store shares. It is the only code
// that begins transactions: InTx begins one (or a savepoint inside the transaction already under way),
// registers it with package uow so after-commit actions are bound to it, and commits or rolls it back.
// Stores find the transaction in the context; outside one they use the pool, and their read-only
// methods may use a replica (reads).
type DB struct {
	pool     *pgxpool.Pool
	cursors  cursorCodec
	txOpts   pgx.TxOptions
	replicas *Replicas // nil without DATABASE_REPLICA_URLS
	// Retries counts transactions run again after a serialization failure or a deadlock.
	Retries atomic.Int64
}

var _ uow.Runner = (*DB)(nil)

// NewDB returns the unit of work over the pool. Page cursors are signed with a key derived from secret
// (the deployment's JWT secret, so every instance accepts the others'); nil picks a random key.
func NewDB(pool *pgxpool.Pool, secret []byte) *DB {
	return &DB{pool: pool, cursors: newCursorCodec(secret)}
}

// isolations maps DATABASE_ISOLATION to PostgreSQL's levels; read_committed is the server's default.
var isolations = map[string]pgx.TxIsoLevel{
	"":                "",
	"read_committed":  pgx.ReadCommitted,
	"repeatable_read": pgx.RepeatableRead,
	"serializable":    pgx.Serializable,
}

// SetIsolation makes every transaction begin at the level (config.Isolations). A distributed engine
// such as CockroachDB runs SERIALIZABLE only; running PostgreSQL so shows the service copes with the
// serialization failures that level brings.
func (d *DB) SetIsolation(level string) error {
	iso, ok := isolations[level]
	if !ok {
		return fmt.Errorf("unknown isolation %q", level)
	}
	d.txOpts.IsoLevel = iso
	return nil
}

// maxAttempts bounds how often the outermost transaction runs when it keeps losing to concurrent ones.
const maxAttempts = 4

// InTx runs fn in a transaction, or in a savepoint when ctx already carries one. fn's error rolls it
// back and is returned as is. Ending the transaction does not depend on ctx: a caller that went away
// must not leave it open. After-commit actions run once the outermost transaction has committed
// (AfterEnd ones also after a rollback or a failed COMMIT, which may still have been applied).
//
// The outermost transaction is run again, up to maxAttempts times in all, when it fails with a
// serialization failure or a deadlock (40001, 40P01: at SERIALIZABLE, or on a distributed engine, a
// transaction may lose to a concurrent one at any statement or at COMMIT). Each attempt is a fresh
// unit: a failed attempt's AfterCommit actions never run. fn must therefore be safe to run again:
// it may only change the database and what it returns (callers assign their results inside fn), and
// anything it calls outside (the payment provider) must take an idempotency key. A savepoint is never
// retried alone: PostgreSQL requires the whole transaction to be run again.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if parent := txFrom(ctx); parent != nil {
		return d.attempt(ctx, parent, fn)
	}
	for n := 1; ; n++ {
		err := d.attempt(ctx, nil, fn)
		if err == nil {
			d.committed(ctx)
			return nil
		}
		if n == maxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		d.Retries.Add(1)
		// Jitter, growing with each attempt, so the two losers of a conflict do not collide again.
		wait := time.Duration(rand.Int64N(int64(time.Millisecond) << n))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// attempt runs fn once in a transaction (parent nil) or a savepoint of parent.
func (d *DB) attempt(ctx context.Context, parent pgx.Tx, fn func(ctx context.Context) error) (err error) {
	var tx pgx.Tx
	if parent != nil {
		tx, err = parent.Begin(ctx)
	} else {
		tx, err = d.pool.BeginTx(ctx, d.txOpts)
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
	if parent != nil {
		// A savepoint that succeeded is kept, not released: RELEASE would be a round trip that changes
		// nothing (its work commits or rolls back with the transaction either way).
		committed = true
		return nil
	}
	if err := tx.Commit(end); err != nil {
		return translate(fmt.Errorf("committing: %w", err), "transaction")
	}
	committed = true
	return nil
}

// retryable reports whether err is a serialization failure or a deadlock, however wrapped (stores
// keep the driver error as the cause of apperr.Concurrent).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == serializationFailure || pe.Code == deadlockDetected)
}

func txFrom(ctx context.Context) pgx.Tx {
	if u := uow.Current(ctx); u != nil {
		if tx, ok := u.Tx.(pgx.Tx); ok {
			return tx
		}
	}
	return nil
}

// SetReplicas routes the reads that may lag to the replicas (see Replicas).
func (d *DB) SetReplicas(r *Replicas) { d.replicas = r }

// Replicas is the read router, nil without replicas.
func (d *DB) Replicas() *Replicas { return d.replicas }

// committed follows an outermost commit: with replicas, it remembers where the caller's writes are, so
// the caller's next reads go to a replica only once it has replayed them. It runs before the caller
// is answered.
func (d *DB) committed(ctx context.Context) {
	if d.replicas == nil {
		return
	}
	if r := uow.ReaderOf(ctx); r != nil && r.Caller != "" {
		d.replicas.wrote(ctx, r.Caller)
	}
}

// reads is where a read-only store method reads: the context's transaction; else, when the request's
// reads may lag (uow.Reader), a replica that has replayed the caller's writes; else the primary.
func (d *DB) reads(ctx context.Context) db.DBTX {
	if tx := txFrom(ctx); tx != nil {
		return tx
	}
	if d.replicas != nil {
		if r := uow.ReaderOf(ctx); r != nil && r.MayLag {
			return d.replicas.pick(ctx, r)
		}
	}
	return d.pool
}

// rq is q over reads.
func (d *DB) rq(ctx context.Context) *db.Queries { return db.New(d.reads(ctx)) }

// conn is the context's transaction, else the pool.
func (d *DB) conn(ctx context.Context) db.DBTX {
	if tx := txFrom(ctx); tx != nil {
		return tx
	}
	return d.pool
}

func (d *DB) q(ctx context.Context) *db.Queries { return db.New(d.conn(ctx)) }
