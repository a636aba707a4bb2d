package uow

import (
	"context"
	"sync"
)

// Reader says who is reading and whether the reads of this request may lag behind the latest writes.
// The edge sets one per request: GET requests may lag (their reads outside a transaction may go to a
// read replica), writes may not. The unit of work's implementation decides where each read goes: it
// remembers each caller's last write, so a caller's reads never miss what that caller wrote
// (read-your-writes), and reads in a transaction always see the primary.
type Reader struct {
	// Caller names the caller across requests ("user:<id>"); empty when anonymous.
	Caller string
	// MayLag: this request's reads tolerate a bounded staleness (except of the caller's own writes).
	MayLag bool

	once sync.Once
	pos  uint64
	err  error
}

type readerKey struct{}

// WithReader returns ctx carrying r.
func WithReader(ctx context.Context, r *Reader) context.Context {
	return context.WithValue(ctx, readerKey{}, r)
}

// ReaderOf is ctx's reader, or nil.
func ReaderOf(ctx context.Context) *Reader {
	r, _ := ctx.Value(readerKey{}).(*Reader)
	return r
}

// Latest returns ctx whose reads must see the latest writes (a cache about to be filled must not be
// filled from a replica's older copy).
func Latest(ctx context.Context) context.Context {
	if r := ReaderOf(ctx); r == nil || !r.MayLag {
		return ctx
	}
	return context.WithValue(ctx, readerKey{}, (*Reader)(nil))
}

// Position is the caller's write position as resolve finds it, looked up once per request (resolve
// runs on the first call only); what a position means is the implementation's business.
func (r *Reader) Position(resolve func() (uint64, error)) (uint64, error) {
	r.once.Do(func() { r.pos, r.err = resolve() })
	return r.pos, r.err
}
