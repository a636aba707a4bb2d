// Package storetest is the storage contract: one suite per store interface (users and their API keys,
// catalog, content, orders), run with the same assertions against every implementation — the PostgreSQL stores and the
// Redis-cached stores over them. An implementation that passes behaves, as far as the domains can
// tell, like any other: same errors, same read-after-write, same transaction semantics.
package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/uow"
)

// Stores is one implementation under test over one fresh database, with the unit of work they share.
type Stores struct {
	Tx      uow.Runner
	Users   identity.Store
	Catalog catalog.Store
	Content content.Store
	Orders  orders.Store
}

// Factory returns the stores of the implementation under test over a fresh database.
type Factory func(t *testing.T) Stores

// Run runs every suite against the implementation. It returns how many cases ran.
func Run(t *testing.T, newStores Factory) int {
	n := 0
	for _, s := range []struct {
		name  string
		cases []testCase
	}{{"users", userCases}, {"api keys", apiKeyCases}, {"catalog", catalogCases}, {"content", contentCases}, {"orders", orderCases}} {
		t.Run(s.name, func(t *testing.T) {
			st := newStores(t)
			for _, c := range s.cases {
				n++
				t.Run(c.name, func(t *testing.T) { c.run(t, st) })
			}
		})
	}
	return n
}

type testCase struct {
	name string
	run  func(t *testing.T, s Stores)
}

var ctx = context.Background()

// errRollback makes InTx roll back.
var errRollback = errors.New("roll back")

// must(call())(t) is call's value, failing the test on its error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantNotFound(t *testing.T, err error, resource string) {
	t.Helper()
	if !apperr.IsNotFound(err, resource) {
		t.Fatalf("err = %v, want NotFound(%q)", err, resource)
	}
}

func wantDuplicate(t *testing.T, err error, resource, field string) {
	t.Helper()
	if !apperr.IsDuplicate(err, resource, field) {
		t.Fatalf("err = %v, want Duplicate(%q, %q)", err, resource, field)
	}
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// inTx runs fn in a unit of work that rolls back.
func rolledBack(t *testing.T, s Stores, fn func(ctx context.Context)) {
	t.Helper()
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		fn(ctx)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
}

func ptr[T any](v T) *T { return &v }
