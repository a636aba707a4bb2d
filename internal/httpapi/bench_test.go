package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/testenv"
)

// BenchmarkOrderCreate measures placing an order through the whole stack (HTTP, auth, validation,
// idempotency key, service, stores) against the same SQL transaction (the sqlc queries the store runs:
// lock products, take stock, insert order and lines) issued directly through pgx, in the same run.
// Compare the two orders/s figures; the machine is noisy, the ratio is what matters.
func BenchmarkOrderCreate(b *testing.B) {
	env := testenv.Start(b, "LOG_LEVEL=error")
	ctx := context.Background()
	_, admin := env.Admin("bench-admin@example.com")
	ids, tokens := env.Customers(1, "bench")
	resp, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Bench Tea", PriceCents: 1500, Stock: 1000000}, testenv.Bearer(admin))
	if err != nil || resp.StatusCode() != http.StatusCreated {
		b.Fatalf("product: %v %s", err, resp.Body)
	}
	product := resp.JSON201.Data.Id
	body := apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: product, Quantity: 1}}, ShippingAddress: address}

	b.Run("api", func(b *testing.B) {
		// Plain client without the spec check: the benchmark measures the server, not the test harness.
		client, err := apiclient.NewClientWithResponses(env.URL)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r, err := client.CreateOrderWithResponse(ctx, &apiclient.CreateOrderParams{IdempotencyKey: uuid.NewString()}, body, testenv.Bearer(tokens[0]))
			if err != nil || r.StatusCode() != http.StatusCreated {
				b.Fatalf("order: %v %d %s", err, r.StatusCode(), r.Body)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	})

	b.Run("pgx", func(b *testing.B) {
		address := []byte(`{"name":"Ada Lovelace","line1":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country":"GB"}`)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			tx, err := env.App.Pool.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			q := db.New(tx)
			rows, err := q.LockProductsForOrder(ctx, []uuid.UUID{product})
			if err != nil || len(rows) != 1 || rows[0].Stock < 1 {
				b.Fatalf("lock: %v", err)
			}
			if err := q.AdjustStock(ctx, db.AdjustStockParams{Ids: []uuid.UUID{product}, Deltas: []int32{-1}}); err != nil {
				b.Fatal(err)
			}
			row, err := q.InsertOrder(ctx, db.InsertOrderParams{PublicID: uuid.Must(uuid.NewV7()), UserPublicID: ids[0],
				SubtotalCents: rows[0].PriceCents, TotalCents: rows[0].PriceCents, Currency: rows[0].Currency, ShippingAddress: address})
			if err != nil {
				b.Fatal(err)
			}
			err = q.InsertOrderItems(ctx, db.InsertOrderItemsParams{OrderID: row.ID, ProductPublicIds: []uuid.UUID{product},
				Positions: []int32{0}, Names: []string{rows[0].Name}, UnitPrices: []int64{rows[0].PriceCents},
				Quantities: []int32{1}, LineTotals: []int64{rows[0].PriceCents}})
			if err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	})
}
