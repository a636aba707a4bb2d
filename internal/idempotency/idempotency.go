// Package idempotency is the contract between the HTTP layer, which replays stored responses, and the
// storage that keeps them. A request's work and its stored response commit in one transaction; a
// request in flight holds its key with a lock that ends with its transaction, so nothing is left behind
// by a crash.
package idempotency

import (
	"context"
	"time"
)

// TTL is how long a stored response is replayed.
const TTL = 24 * time.Hour

// Response is what is stored and replayed.
type Response struct {
	Status int
	Header map[string]string
	Body   []byte
}

// Claim is what presenting a key found. The zero value means: this request owns the key, go ahead.
type Claim struct {
	Replay     *Response // an earlier request finished: answer with this
	InProgress bool      // an earlier request with this key is still running
	Mismatch   bool      // the key was used with a different request
}

// Store keeps keys and responses. Claim and Complete run inside the unit of work of their context.
type Store interface {
	// Claim, inside the unit of work of ctx, takes the key until the unit ends and reports what an
	// earlier request left. fingerprint identifies the request (method, path, body).
	Claim(ctx context.Context, scope, key string, fingerprint []byte) (Claim, error)
	// Complete stores the response inside the unit of work of ctx.
	Complete(ctx context.Context, scope, key string, fingerprint []byte, r Response) error
	// DeleteExpired removes keys past their lifetime.
	DeleteExpired(ctx context.Context) (int64, error)
}
