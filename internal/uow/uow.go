// Package uow is the unit of work as the domains see it. InTx runs a function inside one transaction
// (a savepoint when one is already under way, so services compose), and the actions registered with
// AfterCommit run only once the outermost transaction has committed: cache invalidation, metrics,
// waking background workers. Nothing else in the service begins a transaction.
//
// The bookkeeping lives here and the transaction itself in the implementation (internal/postgres),
// which calls Begin and End around every transaction and savepoint it opens; a transaction therefore
// cannot exist without its after-commit actions.
package uow

import (
	"context"
	"sync"
)

// Runner runs fn in a unit of work: fn's context carries the transaction, every store call made with it
// takes part, and fn's error rolls the unit back.
type Runner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Unit is the bookkeeping of one transaction or savepoint.
type Unit struct {
	// Tx is the implementation's transaction handle.
	Tx     any
	parent *Unit

	mu       sync.Mutex
	onCommit []func() // run after the outermost commit
	onEnd    []func() // run after the outermost transaction ends, whatever its outcome
	ended    bool
}

type unitKey struct{}

// Begin returns ctx carrying a new unit for tx, nested in ctx's unit when there is one. Only Runner
// implementations call it, right after they begin tx, and call End when tx ends.
func Begin(ctx context.Context, tx any) (context.Context, *Unit) {
	u := &Unit{Tx: tx, parent: Current(ctx)}
	return context.WithValue(ctx, unitKey{}, u), u
}

// Current is ctx's innermost unit, or nil outside any.
func Current(ctx context.Context) *Unit {
	u, _ := ctx.Value(unitKey{}).(*Unit)
	return u
}

// Active reports whether ctx belongs to a transaction whose commit is still ahead. Caches must not be
// filled from such a transaction: what it read may still be rolled back.
func Active(ctx context.Context) bool { return Current(ctx) != nil }

// AfterCommit runs fn once the outermost transaction of ctx has committed, or now outside any. When
// the transaction (or the savepoint fn was registered in) rolls back, fn never runs.
func AfterCommit(ctx context.Context, fn func()) { later(ctx, fn, false) }

// AfterEnd runs fn once the outermost transaction of ctx has ended, whether it committed or not, or now
// outside any: for work that is harmless after a rollback and needed when a COMMIT that reported a
// failure may still have been applied (cache invalidation).
func AfterEnd(ctx context.Context, fn func()) { later(ctx, fn, true) }

func later(ctx context.Context, fn func(), always bool) {
	u := Current(ctx)
	if u == nil {
		fn()
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if always {
		u.onEnd = append(u.onEnd, fn)
	} else {
		u.onCommit = append(u.onCommit, fn)
	}
}

// End closes the unit: committed says whether its work was kept (committed, or a savepoint released).
// A savepoint hands its actions to the enclosing unit (only the AfterEnd ones when it rolled back); the
// outermost unit runs them. Ending twice does nothing.
func (u *Unit) End(committed bool) {
	u.mu.Lock()
	if u.ended {
		u.mu.Unlock()
		return
	}
	u.ended = true
	onCommit, onEnd := u.onCommit, u.onEnd
	u.onCommit, u.onEnd = nil, nil
	u.mu.Unlock()
	if !committed {
		onCommit = nil
	}
	if p := u.parent; p != nil {
		p.mu.Lock()
		p.onCommit = append(p.onCommit, onCommit...)
		p.onEnd = append(p.onEnd, onEnd...)
		p.mu.Unlock()
		return
	}
	for _, fn := range onCommit {
		fn()
	}
	for _, fn := range onEnd {
		fn()
	}
}
