package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

var address = apiclient.ShippingAddress{Name: "Ada Lovelace", Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", Country: "GB"}

func key() *apiclient.CreateOrderParams {
	return &apiclient.CreateOrderParams{IdempotencyKey: uuid.NewString()}
}

func payKey() *apiclient.PayOrderParams {
	return &apiclient.PayOrderParams{IdempotencyKey: uuid.NewString()}
}

type orderFixture struct {
	catalogFixture
	customer string
}

func newOrderFixture(t *testing.T) orderFixture { return orderFixtureWith(t) }

func (f orderFixture) place(t *testing.T, token string, items ...apiclient.OrderItemCreate) *apiclient.CreateOrderResponse {
	t.Helper()
	resp, err := f.env.Client.CreateOrderWithResponse(context.Background(), key(), apiclient.OrderCreate{Items: items, ShippingAddress: address}, testenv.Bearer(token))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f orderFixture) stock(t *testing.T, id uuid.UUID) int32 {
	t.Helper()
	resp, err := f.env.Client.GetProductWithResponse(context.Background(), id, nil, testenv.Bearer(f.admin))
	wantStatus(t, resp, resp.Body, err, http.StatusOK)
	return resp.JSON200.Data.Stock
}

func TestPlaceOrder(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	tea := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 10})
	cup := f.product(t, apiclient.ProductCreate{Name: "Cup", PriceCents: 300, Stock: 2})

	t.Run("ok: prices copied, totals computed, stock taken, duplicate lines merged", func(t *testing.T) {
		resp := f.place(t, f.customer, apiclient.OrderItemCreate{ProductId: tea.Id, Quantity: 1},
			apiclient.OrderItemCreate{ProductId: cup.Id, Quantity: 1}, apiclient.OrderItemCreate{ProductId: tea.Id, Quantity: 1})
		wantStatus(t, resp, resp.Body, nil, http.StatusCreated)
		o := resp.JSON201.Data
		if o.Status != apiclient.Pending || len(o.Items) != 2 || o.Items[0].Quantity != 2 || o.Items[0].UnitPriceCents != 1250 ||
			o.SubtotalCents != 2800 || o.TotalCents != 2800 || o.Currency != "USD" {
			t.Fatalf("order %+v", o)
		}
		if resp.HTTPResponse.Header.Get("Location") != "/v1/orders/"+o.Id.String() {
			t.Fatalf("Location %q", resp.HTTPResponse.Header.Get("Location"))
		}
		if f.stock(t, tea.Id) != 8 || f.stock(t, cup.Id) != 1 {
			t.Fatal("stock not taken")
		}
		// A later price change does not touch the order.
		upd, err := f.env.Client.UpdateProductWithResponse(ctx, tea.Id, nil, apiclient.ProductPatch{PriceCents: ptr(int64(9999))}, testenv.Bearer(f.admin))
		wantStatus(t, upd, upd.Body, err, http.StatusOK)
		got, err := f.env.Client.GetOrderWithResponse(ctx, o.Id, testenv.Bearer(f.customer))
		wantStatus(t, got, got.Body, err, http.StatusOK)
		if got.JSON200.Data.Items[0].UnitPriceCents != 1250 {
			t.Fatal("order line follows the product price")
		}
	})
	t.Run("minimum not met", func(t *testing.T) {
		resp := f.place(t, f.customer, apiclient.OrderItemCreate{ProductId: cup.Id, Quantity: 1})
		wantError(t, resp, resp.Body, nil, http.StatusUnprocessableEntity, "ORDER_MINIMUM_NOT_MET")
	})
	t.Run("insufficient stock names the product", func(t *testing.T) {
		resp := f.place(t, f.customer, apiclient.OrderItemCreate{ProductId: cup.Id, Quantity: 5}, apiclient.OrderItemCreate{ProductId: tea.Id, Quantity: 1})
		e := wantError(t, resp, resp.Body, nil, http.StatusUnprocessableEntity, "INSUFFICIENT_STOCK")
		if !strings.Contains(e.Message, "Cup") || !strings.Contains(e.Message, "Only 1") {
			t.Fatalf("message %q", e.Message)
		}
		wantFields(t, e, "items[0].quantity")
		if f.stock(t, cup.Id) != 1 {
			t.Fatal("a refused order took stock")
		}
	})
	t.Run("inactive and deleted products cannot be ordered", func(t *testing.T) {
		off := f.product(t, apiclient.ProductCreate{Name: "Retired", PriceCents: 5000, Stock: 5, Active: ptr(false)})
		resp := f.place(t, f.customer, apiclient.OrderItemCreate{ProductId: off.Id, Quantity: 1})
		wantError(t, resp, resp.Body, nil, http.StatusUnprocessableEntity, "UNPROCESSABLE")
		gone := f.product(t, apiclient.ProductCreate{Name: "Gone", PriceCents: 5000, Stock: 5})
		del, err := f.env.Client.DeleteProductWithResponse(ctx, gone.Id, nil, testenv.Bearer(f.admin))
		wantStatus(t, del, del.Body, err, http.StatusNoContent)
		resp = f.place(t, f.customer, apiclient.OrderItemCreate{ProductId: gone.Id, Quantity: 1})
		wantError(t, resp, resp.Body, nil, http.StatusUnprocessableEntity, "UNPROCESSABLE")
		resp = f.place(t, f.customer, apiclient.OrderItemCreate{ProductId: uuid.New(), Quantity: 1})
		wantError(t, resp, resp.Body, nil, http.StatusUnprocessableEntity, "UNPROCESSABLE")
	})
	t.Run("malformed orders", func(t *testing.T) {
		many := make([]apiclient.OrderItemCreate, 101)
		for i := range many {
			many[i] = apiclient.OrderItemCreate{ProductId: uuid.New(), Quantity: 1}
		}
		for name, body := range map[string]apiclient.OrderCreate{
			"no lines":      {Items: []apiclient.OrderItemCreate{}, ShippingAddress: address},
			"101 lines":     {Items: many, ShippingAddress: address},
			"zero quantity": {Items: []apiclient.OrderItemCreate{{ProductId: tea.Id, Quantity: 0}}, ShippingAddress: address},
			"bad country":   {Items: []apiclient.OrderItemCreate{{ProductId: tea.Id, Quantity: 1}}, ShippingAddress: apiclient.ShippingAddress{Name: "A", Line1: "B", City: "C", PostalCode: "D", Country: "gbr"}},
		} {
			t.Run(name, func(t *testing.T) {
				resp, err := f.env.Client.CreateOrderWithResponse(ctx, key(), body, testenv.Bearer(f.customer))
				wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
			})
		}
	})
	t.Run("idempotency key is required", func(t *testing.T) {
		resp, err := f.env.Client.CreateOrderWithResponse(ctx, &apiclient.CreateOrderParams{},
			apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: tea.Id, Quantity: 1}}, ShippingAddress: address}, testenv.Bearer(f.customer))
		e := wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "Idempotency-Key")
	})
	t.Run("customers need orders:write; anonymous needs a token", func(t *testing.T) {
		resp, err := f.env.Client.CreateOrderWithResponse(ctx, key(), apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: tea.Id, Quantity: 1}}, ShippingAddress: address})
		wantError(t, resp, resp.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
}

func TestIdempotentOrders(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	tea := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 100})
	body := apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: tea.Id, Quantity: 1}}, ShippingAddress: address}

	t.Run("replay returns the stored response", func(t *testing.T) {
		k := key()
		first, err := f.env.Client.CreateOrderWithResponse(ctx, k, body, testenv.Bearer(f.customer))
		wantStatus(t, first, first.Body, err, http.StatusCreated)
		again, err := f.env.Client.CreateOrderWithResponse(ctx, k, body, testenv.Bearer(f.customer))
		wantStatus(t, again, again.Body, err, http.StatusCreated)
		if string(again.Body) != string(first.Body) || again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" ||
			again.HTTPResponse.Header.Get("Location") != first.HTTPResponse.Header.Get("Location") {
			t.Fatalf("replay differs:\n%s\n%s", first.Body, again.Body)
		}
		if first.HTTPResponse.Header.Get("Idempotent-Replayed") != "" {
			t.Fatal("first response marked replayed")
		}
		if f.stock(t, tea.Id) != 99 {
			t.Fatal("replay placed a second order")
		}
		t.Run("same key, different body", func(t *testing.T) {
			other := body
			other.Items = []apiclient.OrderItemCreate{{ProductId: tea.Id, Quantity: 2}}
			resp, err := f.env.Client.CreateOrderWithResponse(ctx, k, other, testenv.Bearer(f.customer))
			wantError(t, resp, resp.Body, err, http.StatusUnprocessableEntity, "IDEMPOTENCY_KEY_REUSED")
		})
		t.Run("keys are scoped to the caller", func(t *testing.T) {
			_, other := f.env.Customer("other-buyer@example.com")
			resp, err := f.env.Client.CreateOrderWithResponse(ctx, k, body, testenv.Bearer(other))
			wantStatus(t, resp, resp.Body, err, http.StatusCreated)
			if resp.HTTPResponse.Header.Get("Idempotent-Replayed") != "" {
				t.Fatal("another caller got this caller's response")
			}
		})
	})
	t.Run("business errors are stored and replayed too", func(t *testing.T) {
		k := key()
		big := body
		big.Items = []apiclient.OrderItemCreate{{ProductId: tea.Id, Quantity: 1000}}
		first, err := f.env.Client.CreateOrderWithResponse(ctx, k, big, testenv.Bearer(f.customer))
		wantError(t, first, first.Body, err, http.StatusUnprocessableEntity, "INSUFFICIENT_STOCK")
		again, err := f.env.Client.CreateOrderWithResponse(ctx, k, big, testenv.Bearer(f.customer))
		wantError(t, again, again.Body, err, http.StatusUnprocessableEntity, "INSUFFICIENT_STOCK")
		if again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("error not replayed")
		}
	})
	t.Run("20 concurrent requests with one key make one order", func(t *testing.T) {
		before := f.stock(t, tea.Id)
		k := key()
		var wg sync.WaitGroup
		statuses := make([]int, 20)
		bodies := make([]string, 20)
		for i := range statuses {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				resp, err := f.env.Client.CreateOrderWithResponse(ctx, k, body, testenv.Bearer(f.customer))
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i], bodies[i] = resp.StatusCode(), string(resp.Body)
			}(i)
		}
		wg.Wait()
		created := ""
		for i, s := range statuses {
			switch s {
			case http.StatusCreated:
				if created != "" && bodies[i] != created {
					t.Fatalf("two different orders:\n%s\n%s", created, bodies[i])
				}
				created = bodies[i]
			case http.StatusConflict:
				if !strings.Contains(bodies[i], "REQUEST_IN_PROGRESS") {
					t.Fatalf("409 %s", bodies[i])
				}
			default:
				t.Fatalf("status %d: %s", s, bodies[i])
			}
		}
		if created == "" {
			t.Fatal("no request created the order")
		}
		if got := f.stock(t, tea.Id); got != before-1 {
			t.Fatalf("stock %d, want %d: more than one order", got, before-1)
		}
	})
}

func TestConcurrentOrdersNeverOversell(t *testing.T) {
	f := newOrderFixture(t)
	const customers, units = 50, 10
	last := f.product(t, apiclient.ProductCreate{Name: "Last Units", PriceCents: 1500, Stock: units})
	filler := f.product(t, apiclient.ProductCreate{Name: "Filler", PriceCents: 100, Stock: 100000})
	_, tokens := f.env.Customers(customers, "rush")

	var wg sync.WaitGroup
	statuses := make([]int, customers)
	codes := make([]string, customers)
	for i := range tokens {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Lines in different orders for different customers, so lock ordering is exercised.
			items := []apiclient.OrderItemCreate{{ProductId: last.Id, Quantity: 1}, {ProductId: filler.Id, Quantity: 1}}
			if i%2 == 1 {
				items[0], items[1] = items[1], items[0]
			}
			resp := f.place(t, tokens[i], items...)
			statuses[i] = resp.StatusCode()
			if resp.JSON422 != nil {
				codes[i] = string(resp.JSON422.Error.Code)
			}
		}(i)
	}
	wg.Wait()
	sold := 0
	for i, s := range statuses {
		switch {
		case s == http.StatusCreated:
			sold++
		case s == http.StatusUnprocessableEntity && codes[i] == "INSUFFICIENT_STOCK":
		default:
			t.Errorf("customer %d: status %d code %q", i, s, codes[i])
		}
	}
	if sold != units {
		t.Fatalf("sold %d, want exactly %d", sold, units)
	}
	if got := f.stock(t, last.Id); got != 0 {
		t.Fatalf("stock %d, want 0", got)
	}
	t.Logf("%d customers, %d units: %d orders placed, %d refused with INSUFFICIENT_STOCK", customers, units, sold, customers-sold)
}

func TestOrderLifecycle(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	tea := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 10})
	_, stranger := f.env.Customer("stranger@example.com")
	one := apiclient.OrderItemCreate{ProductId: tea.Id, Quantity: 1}

	placed := f.place(t, f.customer, one)
	wantStatus(t, placed, placed.Body, nil, http.StatusCreated)
	id := placed.JSON201.Data.Id

	t.Run("another customer's order is not found", func(t *testing.T) {
		resp, err := f.env.Client.GetOrderWithResponse(ctx, id, testenv.Bearer(stranger))
		wantError(t, resp, resp.Body, err, http.StatusNotFound, "NOT_FOUND")
		pay, err := f.env.Client.PayOrderWithResponse(ctx, id, payKey(), apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, testenv.Bearer(stranger))
		wantError(t, pay, pay.Body, err, http.StatusNotFound, "NOT_FOUND")
		cancel, err := f.env.Client.CancelOrderWithResponse(ctx, id, nil, apiclient.CancellationCreate{}, testenv.Bearer(stranger))
		wantError(t, cancel, cancel.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("shipping needs orders:manage", func(t *testing.T) {
		resp, err := f.env.Client.ShipOrderWithResponse(ctx, id, nil, apiclient.ShipmentCreate{Carrier: "DHL", TrackingNumber: "1"}, testenv.Bearer(f.customer))
		wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
	})
	t.Run("a pending order cannot ship", func(t *testing.T) {
		resp, err := f.env.Client.ShipOrderWithResponse(ctx, id, nil, apiclient.ShipmentCreate{Carrier: "DHL", TrackingNumber: "1"}, testenv.Bearer(f.admin))
		e := wantError(t, resp, resp.Body, err, http.StatusConflict, "INVALID_STATE_TRANSITION")
		if !strings.Contains(e.Message, "pending") {
			t.Fatalf("message does not name the state: %q", e.Message)
		}
	})
	t.Run("declined payment keeps the order pending", func(t *testing.T) {
		resp, err := f.env.Client.PayOrderWithResponse(ctx, id, payKey(), apiclient.PaymentCreate{PaymentMethod: "pm_card_declined"}, testenv.Bearer(f.customer))
		wantError(t, resp, resp.Body, err, http.StatusPaymentRequired, "PAYMENT_DECLINED")
		got, _ := f.env.Client.GetOrderWithResponse(ctx, id, testenv.Bearer(f.customer))
		if got.JSON200.Data.Status != apiclient.Pending || got.JSON200.Data.Payment != nil {
			t.Fatalf("after decline: %+v", got.JSON200.Data)
		}
		var failed int
		if err := f.env.App.Pool.QueryRow(ctx, "SELECT count(*) FROM payments WHERE status = 'failed'").Scan(&failed); err != nil || failed != 1 {
			t.Fatalf("failed attempt not recorded: %d %v", failed, err)
		}
	})
	t.Run("payment needs an idempotency key", func(t *testing.T) {
		resp, err := f.env.Client.PayOrderWithResponse(ctx, id, &apiclient.PayOrderParams{}, apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, testenv.Bearer(f.customer))
		wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
	payParams := payKey()
	t.Run("pay, replay, pay again", func(t *testing.T) {
		resp, err := f.env.Client.PayOrderWithResponse(ctx, id, payParams, apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, testenv.Bearer(f.customer))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		o := resp.JSON200.Data
		if o.Status != apiclient.Paid || o.Payment == nil || o.Payment.Status != apiclient.Succeeded || o.Payment.AmountCents != 1250 || o.PaidAt == nil {
			t.Fatalf("paid order %+v", o)
		}
		replay, err := f.env.Client.PayOrderWithResponse(ctx, id, payParams, apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, testenv.Bearer(f.customer))
		wantStatus(t, replay, replay.Body, err, http.StatusOK)
		if replay.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("payment retry was not a replay")
		}
		again, err := f.env.Client.PayOrderWithResponse(ctx, id, payKey(), apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, testenv.Bearer(f.customer))
		wantError(t, again, again.Body, err, http.StatusConflict, "INVALID_STATE_TRANSITION")
	})
	t.Run("ship and deliver", func(t *testing.T) {
		resp, err := f.env.Client.ShipOrderWithResponse(ctx, id, nil, apiclient.ShipmentCreate{Carrier: "DHL", TrackingNumber: "JD0146"}, testenv.Bearer(f.admin))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if d := resp.JSON200.Data; d.Status != apiclient.Shipped || *d.Carrier != "DHL" || *d.TrackingNumber != "JD0146" {
			t.Fatalf("shipped %+v", d)
		}
		cancel, err := f.env.Client.CancelOrderWithResponse(ctx, id, nil, apiclient.CancellationCreate{}, testenv.Bearer(f.customer))
		wantError(t, cancel, cancel.Body, err, http.StatusConflict, "INVALID_STATE_TRANSITION")
		del, err := f.env.Client.DeliverOrderWithResponse(ctx, id, nil, apiclient.DeliveryCreate{}, testenv.Bearer(f.admin))
		wantStatus(t, del, del.Body, err, http.StatusOK)
		if del.JSON200.Data.Status != apiclient.Delivered || del.JSON200.Data.DeliveredAt == nil {
			t.Fatalf("delivered %+v", del.JSON200.Data)
		}
	})
	t.Run("cancel pending restocks; cancel paid refunds and restocks", func(t *testing.T) {
		before := f.stock(t, tea.Id)
		p1 := f.place(t, f.customer, one)
		c1, err := f.env.Client.CancelOrderWithResponse(ctx, p1.JSON201.Data.Id, nil, apiclient.CancellationCreate{Reason: ptr("changed my mind")}, testenv.Bearer(f.customer))
		wantStatus(t, c1, c1.Body, err, http.StatusOK)
		if c1.JSON200.Data.Status != apiclient.Cancelled || *c1.JSON200.Data.CancellationReason != "changed my mind" || f.stock(t, tea.Id) != before {
			t.Fatalf("cancelled %+v, stock %d want %d", c1.JSON200.Data, f.stock(t, tea.Id), before)
		}
		p2 := f.place(t, f.customer, one)
		pay, err := f.env.Client.PayOrderWithResponse(ctx, p2.JSON201.Data.Id, payKey(), apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, testenv.Bearer(f.customer))
		wantStatus(t, pay, pay.Body, err, http.StatusOK)
		c2, err := f.env.Client.CancelOrderWithResponse(ctx, p2.JSON201.Data.Id, nil, apiclient.CancellationCreate{}, testenv.Bearer(f.admin))
		wantStatus(t, c2, c2.Body, err, http.StatusOK)
		if c2.JSON200.Data.Payment == nil || c2.JSON200.Data.Payment.Status != apiclient.Refunded || f.stock(t, tea.Id) != before {
			t.Fatalf("refund %+v", c2.JSON200.Data)
		}
	})
	t.Run("lists", func(t *testing.T) {
		mine, err := f.env.Client.ListOrdersWithResponse(ctx, &apiclient.ListOrdersParams{Count: ptr(apiclient.ListOrdersParamsCountExact)}, testenv.Bearer(f.customer))
		wantStatus(t, mine, mine.Body, err, http.StatusOK)
		if *mine.JSON200.Meta.Total != 3 || len(mine.JSON200.Data[0].Items) == 0 {
			t.Fatalf("own orders %+v", mine.JSON200.Meta)
		}
		theirs, err := f.env.Client.ListOrdersWithResponse(ctx, nil, testenv.Bearer(stranger))
		wantStatus(t, theirs, theirs.Body, err, http.StatusOK)
		if len(theirs.JSON200.Data) != 0 {
			t.Fatal("a stranger sees orders")
		}
		cancelled, err := f.env.Client.ListOrdersWithResponse(ctx, &apiclient.ListOrdersParams{Status: ptr(apiclient.Cancelled)}, testenv.Bearer(f.admin))
		wantStatus(t, cancelled, cancelled.Body, err, http.StatusOK)
		if len(cancelled.JSON200.Data) != 2 {
			t.Fatalf("cancelled orders: %d", len(cancelled.JSON200.Data))
		}
		owner := placed.JSON201.Data.UserId
		byUser, err := f.env.Client.ListUserOrdersWithResponse(ctx, owner, nil, testenv.Bearer(f.customer))
		wantStatus(t, byUser, byUser.Body, err, http.StatusOK)
		hidden, err := f.env.Client.ListUserOrdersWithResponse(ctx, owner, nil, testenv.Bearer(stranger))
		wantError(t, hidden, hidden.Body, err, http.StatusNotFound, "NOT_FOUND")
		admin, err := f.env.Client.ListUserOrdersWithResponse(ctx, owner, nil, testenv.Bearer(f.admin))
		wantStatus(t, admin, admin.Body, err, http.StatusOK)
		if len(admin.JSON200.Data) != 3 {
			t.Fatalf("admin sees %d of the user's orders", len(admin.JSON200.Data))
		}
	})
	_ = fmt.Sprint
}

func TestIdempotencyKeysExpire(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	tea := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 100})
	k := key()
	body := apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: tea.Id, Quantity: 1}}, ShippingAddress: address}
	first, err := f.env.Client.CreateOrderWithResponse(ctx, k, body, testenv.Bearer(f.customer))
	wantStatus(t, first, first.Body, err, http.StatusCreated)

	// 24 hours later the key is forgotten: the same key with another body is a new request.
	if _, err := f.env.App.Pool.Exec(ctx, "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	body.Items[0].Quantity = 2
	second, err := f.env.Client.CreateOrderWithResponse(ctx, k, body, testenv.Bearer(f.customer))
	wantStatus(t, second, second.Body, err, http.StatusCreated)
	if second.JSON201.Data.Id == first.JSON201.Data.Id {
		t.Fatal("expired key replayed")
	}

	// The janitor removes expired keys.
	if _, err := f.env.App.Pool.Exec(ctx, "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	removed, err := f.env.App.Cleanup(ctx)
	if err != nil || removed["idempotency_keys"] != 1 {
		t.Fatalf("cleanup removed %v, %v", removed, err)
	}
}

func TestIdempotencyKeyInFlight(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	tea := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 100})
	me, err := f.env.Client.GetMeWithResponse(ctx, testenv.Bearer(f.customer))
	wantStatus(t, me, me.Body, err, http.StatusOK)
	k := key()
	body := apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: tea.Id, Quantity: 1}}, ShippingAddress: address}

	// Another transaction holds the key, as a request still running would.
	holder, err := f.env.App.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = holder.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1 || ' ' || $2, 7411))", "user:"+me.JSON200.Data.Id.String(), k.IdempotencyKey)
	if err != nil {
		t.Fatal(err)
	}
	busy, err := f.env.Client.CreateOrderWithResponse(ctx, k, body, testenv.Bearer(f.customer))
	wantError(t, busy, busy.Body, err, http.StatusConflict, "REQUEST_IN_PROGRESS")

	// The holder dies without storing anything: the lock goes with its transaction and the key is free.
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	ok, err := f.env.Client.CreateOrderWithResponse(ctx, k, body, testenv.Bearer(f.customer))
	wantStatus(t, ok, ok.Body, err, http.StatusCreated)
	if f.stock(t, tea.Id) != 99 {
		t.Fatal("refused request took stock")
	}
}

// A retry that serialises the same JSON differently (key order, spacing) is the same request.
func TestIdempotencyFingerprintIsCanonical(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	tea := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 10})
	k := key()
	a := `{"items":[{"product_id":"` + tea.Id.String() + `","quantity":1}],"shipping_address":{"name":"A","line1":"B","city":"C","postal_code":"D","country":"GB"}}`
	b := `{ "shipping_address": {"country":"GB","postal_code":"D","city":"C","line1":"B","name":"A"},
	        "items": [ {"quantity": 1, "product_id": "` + tea.Id.String() + `"} ] }`
	first, err := f.env.Client.CreateOrderWithBodyWithResponse(ctx, k, "application/json", strings.NewReader(a), testenv.Bearer(f.customer))
	wantStatus(t, first, first.Body, err, http.StatusCreated)
	second, err := f.env.Client.CreateOrderWithBodyWithResponse(ctx, k, "application/json", strings.NewReader(b), testenv.Bearer(f.customer))
	wantStatus(t, second, second.Body, err, http.StatusCreated)
	if second.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" || f.stock(t, tea.Id) != 9 {
		t.Fatal("the reformatted retry was not a replay")
	}
}
