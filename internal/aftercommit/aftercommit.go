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
	mu     sync.Mutex
	fns    []func()
	always []func()
}

// With returns a context whose Do calls are deferred until Run.
func With(ctx context.Context) (context.Context, *Hooks) {
	h := &Hooks{}
	return context.WithValue(ctx, hooksKey{}, h), h
}

// Do runs fn now, or after the surrounding transaction commits when ctx carries one.
func Do(ctx context.Context, fn func()) { later(ctx, fn, false) }

// Always runs fn now, or after the surrounding transaction ends, whether it committed or not: for work
// that is harmless when the transaction rolled back and needed when a failed COMMIT may still have been
// applied (cache invalidation).
func Always(ctx context.Context, fn func()) { later(ctx, fn, true) }

func later(ctx context.Context, fn func(), always bool) {
	h, ok := ctx.Value(hooksKey{}).(*Hooks)
	if !ok {
		fn()
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if always {
		h.always = append(h.always, fn)
	} else {
		h.fns = append(h.fns, fn)
	}
}

// Active reports whether ctx belongs to a transaction whose commit is still ahead. Caches must not be
// filled from such a transaction: it may still roll back.
func Active(ctx context.Context) bool {
	_, ok := ctx.Value(hooksKey{}).(*Hooks)
	return ok
}

// Run runs the deferred functions once; call it after the commit.
func (h *Hooks) Run() { h.run(true) }

// Abandon runs only the Always functions once; call it when the commit failed or the transaction was
// rolled back.
func (h *Hooks) Abandon() { h.run(false) }

func (h *Hooks) run(committed bool) {
	h.mu.Lock()
	fns, always := h.fns, h.always
	h.fns, h.always = nil, nil
	h.mu.Unlock()
	if committed {
		for _, fn := range fns {
			fn()
		}
	}
	for _, fn := range always {
		fn()
	}
}
