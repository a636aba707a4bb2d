package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

// TestRequestTimeoutCancelsBlockedWork: an order blocked on a product row another transaction holds is
// cancelled at REQUEST_TIMEOUT and answers 503 UNAVAILABLE with Retry-After; nothing of it is kept, and
// once the lock is gone the same Idempotency-Key places the order. (The request's deadline makes its
// timer only when the work first waits, here in pgx: this is the path that proves it fires.)
func TestRequestTimeoutCancelsBlockedWork(t *testing.T) {
	env := testenv.Start(t, "REQUEST_TIMEOUT=700ms")
	ctx := context.Background()
	_, admin := env.Admin("deadline-admin@example.com")
	product := catalogFixture{env, admin}.product(t, apiclient.ProductCreate{Name: "Locked Tea", PriceCents: 1500, Stock: 10})
	_, tokens := env.Customers(1, "deadline")

	holder, err := env.App.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback(ctx) }()
	if _, err := holder.Exec(ctx, "SELECT 1 FROM products WHERE public_id = $1 FOR UPDATE", product.Id); err != nil {
		t.Fatal(err)
	}

	key := uuid.NewString()
	order := apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: product.Id, Quantity: 1}}, ShippingAddress: address}
	start := time.Now()
	r, err := env.Client.CreateOrderWithResponse(ctx, &apiclient.CreateOrderParams{IdempotencyKey: key}, order, testenv.Bearer(tokens[0]))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode() != http.StatusServiceUnavailable || r.JSON503 == nil || r.JSON503.Error.Code != "UNAVAILABLE" {
		t.Fatalf("blocked order: %d %s, want 503 UNAVAILABLE", r.StatusCode(), r.Body)
	}
	if r.HTTPResponse.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if took < 600*time.Millisecond || took > 5*time.Second {
		t.Fatalf("answered after %v; the request timeout is 700ms", took)
	}

	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The cancelled attempt's connection is being torn down; until its backend has gone the key is
	// still held and a retry answers 409 REQUEST_IN_PROGRESS, as documented: retry, as a client would.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r, err = env.Client.CreateOrderWithResponse(ctx, &apiclient.CreateOrderParams{IdempotencyKey: key}, order, testenv.Bearer(tokens[0]))
		if err != nil || r.StatusCode() != http.StatusConflict || r.JSON409 == nil || r.JSON409.Error.Code != "REQUEST_IN_PROGRESS" || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || r.StatusCode() != http.StatusCreated {
		t.Fatalf("the same key once the lock is gone: %v %d %s", err, r.StatusCode(), r.Body)
	}
	if r.HTTPResponse.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("the timed-out attempt was kept and replayed")
	}
	p, err := env.Client.GetProductWithResponse(ctx, product.Id, nil)
	if err != nil || p.JSON200 == nil || p.JSON200.Data.Stock != 9 {
		t.Fatalf("stock after one order: %v %s", err, p.Body)
	}
}
