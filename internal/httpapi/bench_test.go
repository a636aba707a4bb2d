package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/testenv"
)

// BenchmarkOrderCreate measures placing an order through the whole stack (HTTP, auth, validation,
// idempotency key, service, stores) against two bare pgx baselines, in the same run:
//   - pgx-order: the order's own statements (lock products, take stock, insert order and lines) in a
//     transaction, the baseline the first version of this benchmark used;
//   - pgx-unit: every statement the API's unit of work issues for the order, in the same order and
//     with the same sqlc queries: the account check, the idempotency claim (advisory lock and read),
//     the service's savepoint, the order's statements, its audit entry, its outbox event and webhook
//     fan-out, the stored response, and COMMIT. API ÷ pgx-unit is the cost of the stack itself.
//
// Compare the orders/s figures; the machine is noisy, the ratios are what matter.
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

	b.Run("pgx-order", func(b *testing.B) {
		address := []byte(`{"name":"Ada Lovelace","line1":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country":"GB"}`)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			tx, err := env.App.Pool.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			bareOrder(b, db.New(tx), uuid.Must(uuid.NewV7()), product, ids[0], address)
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	})

	b.Run("pgx-unit", func(b *testing.B) {
		address := []byte(`{"name":"Ada Lovelace","line1":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country":"GB"}`)
		pool := env.App.Pool
		scope := "user:" + ids[0].String()
		fingerprint := make([]byte, 32)
		// Stand-ins of the sizes the API writes: the order as served, the audit changes, the event.
		orderJSON := []byte(`{"data":{"id":"01935f5e-0000-7000-8000-000000000000","user_id":"01935f5e-0000-7000-8000-000000000001","status":"pending","items":[{"product_id":"01935f5e-0000-7000-8000-000000000002","name":"Bench Tea","unit_price_cents":1500,"quantity":1,"line_total_cents":1500}],"subtotal_cents":1500,"total_cents":1500,"currency":"USD","shipping_address":{"name":"Ada Lovelace","line1":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country":"GB"},"created_at":"2026-12-02T01:00:00Z","updated_at":"2026-12-02T01:00:00Z"}}`)
		changes := []byte(`{"status":{"to":"pending"},"total_cents":{"to":1500},"currency":{"to":"USD"},"lines":{"to":1}}`)
		header := []byte(`{"Content-Type":"application/json","Location":"/v1/orders/01935f5e-0000-7000-8000-000000000000","ETag":"\"1\""}`)
		requestID := "bench-request"
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			key := uuid.NewString()
			if _, err := db.New(pool).GetUserByPublicID(ctx, ids[0]); err != nil { // the account check
				b.Fatal(err)
			}
			tx, err := pool.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			q := db.New(tx)
			if locked, err := q.LockIdempotencyKey(ctx, db.LockIdempotencyKeyParams{Scope: scope, Key: key}); err != nil || !locked {
				b.Fatalf("idempotency lock: %v", err)
			}
			if _, err := q.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{Scope: scope, Key: key}); !errors.Is(err, pgx.ErrNoRows) {
				b.Fatalf("idempotency read: %v", err)
			}
			if _, err := tx.Exec(ctx, "savepoint sp_1"); err != nil {
				b.Fatal(err)
			}
			orderID := uuid.Must(uuid.NewV7())
			bareOrder(b, q, orderID, product, ids[0], address)
			err = q.InsertAuditEvent(ctx, db.InsertAuditEventParams{PublicID: uuid.Must(uuid.NewV7()), ActorID: &ids[0],
				Action: "order.placed", ResourceType: "order", ResourceID: &orderID, RequestID: &requestID, Changes: changes})
			if err != nil {
				b.Fatal(err)
			}
			eventID := uuid.Must(uuid.NewV7())
			err = q.InsertEvent(ctx, db.InsertEventParams{PublicID: eventID, Type: "order.created", ResourceID: orderID,
				Data: orderJSON, RequestID: &requestID, CreatedAt: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := q.CreateWebhookDeliveries(ctx, eventID); err != nil {
				b.Fatal(err)
			}
			err = q.InsertIdempotencyKey(ctx, db.InsertIdempotencyKeyParams{Scope: scope, Key: key, Fingerprint: fingerprint,
				ResponseStatus: http.StatusCreated, ResponseHeader: header, ResponseBody: orderJSON})
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

// bareOrder runs the order's own statements, the sqlc queries the order store issues: lock the
// product, take one from its stock, insert the order and its line.
func bareOrder(b *testing.B, q *db.Queries, orderID, product, user uuid.UUID, address []byte) {
	ctx := context.Background()
	rows, err := q.LockProductsForOrder(ctx, []uuid.UUID{product})
	if err != nil || len(rows) != 1 || rows[0].Stock < 1 {
		b.Fatalf("lock: %v", err)
	}
	if err := q.AdjustStock(ctx, db.AdjustStockParams{Ids: []uuid.UUID{product}, Deltas: []int32{-1}}); err != nil {
		b.Fatal(err)
	}
	row, err := q.InsertOrder(ctx, db.InsertOrderParams{PublicID: orderID, UserPublicID: user,
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
}
