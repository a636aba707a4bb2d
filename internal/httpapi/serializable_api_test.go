package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

// Under SERIALIZABLE (as on a distributed engine), two orders for one product conflict: both wait on
// the product's row lock, the first commits, and the second, whose snapshot predates that commit,
// fails with a serialization failure (40001) when it gets the lock. The unit of work runs the whole
// request again (its idempotency key, the order and the stored response), so both are placed, one
// after a retry, and neither answers an error.
func TestSerializableOrdersRetry(t *testing.T) {
	f := orderFixtureWith(t, "DATABASE_ISOLATION=serializable")
	ctx := context.Background()
	tea := f.product(t, apiclient.ProductCreate{Name: "Contested Tea", PriceCents: 1500, Stock: 10})
	_, tokens := f.env.Customers(2, "serial")

	// Hold the product's row lock so that both orders take their snapshots before either can go on.
	hold, err := f.env.App.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	if _, err := hold.Exec(ctx, "SELECT 1 FROM products WHERE public_id = $1 FOR UPDATE", tea.Id); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	responses := make([]*apiclient.CreateOrderResponse, len(tokens))
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			responses[i] = f.place(t, tok, apiclient.OrderItemCreate{ProductId: tea.Id, Quantity: 1})
		}()
	}
	eventually(t, 10*time.Second, "the two orders never both waited on the product's lock", func() bool {
		var waiting int
		err := f.env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		return err == nil && waiting == 2
	})
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, r := range responses {
		wantStatus(t, r, r.Body, nil, http.StatusCreated)
		if replayed := r.HTTPResponse.Header.Get("Idempotent-Replayed"); replayed != "" {
			t.Fatalf("order %d answered as a replay", i)
		}
	}
	if got := f.stock(t, tea.Id); got != 8 {
		t.Fatalf("stock %d after two orders of one; want 8", got)
	}
	retries := f.env.App.DB.Retries.Load()
	if retries < 1 {
		t.Fatal("no transaction was retried: the orders did not conflict")
	}
	if m := scrape(t, f.env); m["storefront_db_tx_retries_total"] != float64(retries) {
		t.Fatalf("metric storefront_db_tx_retries_total %v, want %d", m["storefront_db_tx_retries_total"], retries)
	}
	t.Logf("both orders placed (201); %d retried after a serialization failure", retries)
}

// orderFixtureWith is newOrderFixture with configuration.
func orderFixtureWith(t *testing.T, env ...string) orderFixture {
	e := testenv.Start(t, env...)
	_, admin := e.Admin("orders-admin@example.com")
	_, customer := e.Customer("buyer@example.com")
	return orderFixture{catalogFixture{e, admin}, customer}
}
