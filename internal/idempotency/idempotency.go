// Package idempotency is the contract between the HTTP layer, which replays stored responses, and the
// storage that keeps them. A request's work and its stored response commit in one transaction.
package idempotency

import (
	"context"
	"time"
)

// Keys live this long; an in-progress key whose request died is free again after StaleAfter.
const (
	TTL        = 24 * time.Hour
	StaleAfter = time.Minute
)

// Response is what is stored and replayed.
type Response struct {
	Status int
	Header map[string]string
	Body   []byte
}

// Claim is the outcome of presenting a key: either this request owns it (ID), or an earlier one does.
type Claim struct {
	ID         int64
	Replay     *Response // the earlier request finished: answer with this
	InProgress bool      // the earlier request is still running
	Mismatch   bool      // the key was used with a different request
}

// Tx is one unit of work.
type Tx interface {
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Store keeps keys and responses.
type Store interface {
	// Claim takes the key for this request (fingerprint identifies method, path and body) or reports
	// what an earlier request with it left.
	Claim(ctx context.Context, scope, key string, fingerprint []byte) (Claim, error)
	// Begin starts the unit of work; stores used with the returned context take part in it.
	Begin(ctx context.Context) (context.Context, Tx, error)
	// Complete stores the response inside the unit of work of ctx.
	Complete(ctx context.Context, id int64, r Response) error
	// Release forgets a claimed key, so a retry runs again (after failures that changed nothing).
	Release(ctx context.Context, id int64) error
	// DeleteExpired removes keys past their lifetime.
	DeleteExpired(ctx context.Context) (int64, error)
}
