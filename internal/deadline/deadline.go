// Package deadline bounds a context the way context.WithTimeout does, but makes the timer only when
// something waits on the context.
//
// Much of the hot path never waits: a product served from rueidis's client-side cache, or a request
// answered without touching the database, never asks its context for Done. context.WithTimeout still
// costs a timer, an allocation, and a registration in the parent's cancellation list under its lock,
// per request and per Redis operation (about 5% of the CPU of a cached read). Within gives the same
// contract and defers that cost to the first Done or Err: Deadline answers at once, Value passes
// through, and the first Done or Err makes the real context.WithDeadline (at the deadline fixed when
// Within was called), which from then on answers everything. One difference remains: context.Cause of
// such a context that nothing has waited on yet reports its parent's cause (nil past the deadline,
// where WithTimeout's reports DeadlineExceeded); ask Err, which arms it, first.
package deadline

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Within returns a copy of parent that is done at the latest d from now, and its cancel function,
// which must be called (as with context.WithTimeout) once the work is over.
func Within(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	c := &lazy{Context: parent, at: time.Now().Add(d)}
	return c, c.cancel
}

type lazy struct {
	context.Context // the parent, until armed
	at              time.Time
	mu              sync.Mutex
	armed           atomic.Pointer[armed]
	cancelled       bool
}

type armed struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// arm makes the real context, once.
func (c *lazy) arm() context.Context {
	if a := c.armed.Load(); a != nil {
		return a.ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.armed.Load(); a != nil {
		return a.ctx
	}
	ctx, cancel := context.WithDeadline(c.Context, c.at)
	if c.cancelled {
		cancel() // cancelled before anything waited: done at once, with context.Canceled
	}
	c.armed.Store(&armed{ctx: ctx, cancel: cancel})
	return ctx
}

func (c *lazy) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.at) {
		return d, true
	}
	return c.at, true
}

func (c *lazy) Done() <-chan struct{} { return c.arm().Done() }

func (c *lazy) Err() error { return c.arm().Err() }

// Value passes through to the parent; once armed, through the real context, so that a context derived
// from this one finds the real context's cancellation (and context.Cause its cause).
func (c *lazy) Value(key any) any {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Value(key)
	}
	return c.Context.Value(key)
}

func (c *lazy) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelled = true
	if a := c.armed.Load(); a != nil {
		a.cancel()
	}
}

func (c *lazy) String() string { return "deadline.Within(" + c.at.String() + ")" }
