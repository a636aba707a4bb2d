// Package aftercommit runs work after the outermost transaction of a request commits. Cache
// invalidation uses it: invalidating before a surrounding transaction commits would let a reader
// refill the cache with the old row in between.
package aftercommit

import (
	"context"
	"sync"
)

type hooksKey struct{}

// Hooks collects functions to run after a commit.
type Hooks struct {
	mu  sync.Mutex
	fns []func()
}

// With returns a context whose Do calls are deferred until Run.
func With(ctx context.Context) (context.Context, *Hooks) {
	h := &Hooks{}
	return context.WithValue(ctx, hooksKey{}, h), h
}

// Do runs fn now, or after the surrounding transaction commits when ctx carries one.
func Do(ctx context.Context, fn func()) {
	if h, ok := ctx.Value(hooksKey{}).(*Hooks); ok {
		h.mu.Lock()
		h.fns = append(h.fns, fn)
		h.mu.Unlock()
		return
	}
	fn()
}

// Active reports whether ctx belongs to a transaction whose commit is still ahead. Caches must not be
// filled from such a transaction: it may still roll back.
func Active(ctx context.Context) bool {
	_, ok := ctx.Value(hooksKey{}).(*Hooks)
	return ok
}

// Run runs the deferred functions once; call it after the commit.
func (h *Hooks) Run() {
	h.mu.Lock()
	fns := h.fns
	h.fns = nil
	h.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}
