package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/testenv"
)

func (f hookFixture) events(t *testing.T, p *apiclient.ListEventsParams) []apiclient.Event {
	t.Helper()
	resp, err := f.env.Client.ListEventsWithResponse(context.Background(), p, testenv.Bearer(f.admin))
	wantStatus(t, resp, resp.Body, err, http.StatusOK)
	return resp.JSON200.Data
}

// Every state change of orders, products and posts is in the event log, with the resource as its GET
// served it, the request that caused it, and (for product updates) the fields that changed.
func TestEventLog(t *testing.T) {
	f := newHookFixture(t, app.Options{})
	ctx := context.Background()
	tea := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 10})
	upd, err := f.env.Client.UpdateProductWithResponse(ctx, tea.Id, nil, apiclient.ProductPatch{PriceCents: ptr(int64(1300))},
		testenv.Bearer(f.admin), testenv.Header("X-Request-ID", "req-price-change"))
	wantStatus(t, upd, upd.Body, err, http.StatusOK)
	same, err := f.env.Client.UpdateProductWithResponse(ctx, tea.Id, nil, apiclient.ProductPatch{PriceCents: ptr(int64(1300))}, testenv.Bearer(f.admin))
	wantStatus(t, same, same.Body, err, http.StatusOK) // changes nothing: no event

	order := f.place(t, f.customer, apiclient.OrderItemCreate{ProductId: tea.Id, Quantity: 1}).JSON201.Data
	for _, step := range []func() (int, []byte, error){
		func() (int, []byte, error) {
			r, err := f.env.Client.PayOrderWithResponse(ctx, order.Id, payKey(), apiclient.PaymentCreate{PaymentMethod: "pm_card_declined"}, testenv.Bearer(f.customer))
			return r.StatusCode(), r.Body, err // declined: the order does not change
		},
		func() (int, []byte, error) {
			r, err := f.env.Client.PayOrderWithResponse(ctx, order.Id, payKey(), apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, testenv.Bearer(f.customer))
			return r.StatusCode(), r.Body, err
		},
		func() (int, []byte, error) {
			r, err := f.env.Client.ShipOrderWithResponse(ctx, order.Id, nil, apiclient.ShipmentCreate{Carrier: "DHL", TrackingNumber: "1"}, testenv.Bearer(f.admin))
			return r.StatusCode(), r.Body, err
		},
		func() (int, []byte, error) {
			r, err := f.env.Client.DeliverOrderWithResponse(ctx, order.Id, nil, apiclient.DeliveryCreate{}, testenv.Bearer(f.admin))
			return r.StatusCode(), r.Body, err
		},
	} {
		if code, body, err := step(); err != nil || (code != http.StatusOK && code != http.StatusPaymentRequired) {
			t.Fatalf("%d %s %v", code, body, err)
		}
	}
	second := f.place(t, f.customer, apiclient.OrderItemCreate{ProductId: tea.Id, Quantity: 1}).JSON201.Data
	cancel, err := f.env.Client.CancelOrderWithResponse(ctx, second.Id, nil, apiclient.CancellationCreate{}, testenv.Bearer(f.customer))
	wantStatus(t, cancel, cancel.Body, err, http.StatusOK)
	del, err := f.env.Client.DeleteProductWithResponse(ctx, tea.Id, nil, testenv.Bearer(f.admin))
	wantStatus(t, del, del.Body, err, http.StatusNoContent)

	me, err := f.env.Client.GetMeWithResponse(ctx, testenv.Bearer(f.customer))
	wantStatus(t, me, me.Body, err, http.StatusOK)
	post, err := f.env.Client.CreatePostWithResponse(ctx, me.JSON200.Data.Id, nil,
		apiclient.PostCreate{Title: "Draft", Body: "Not yet"}, testenv.Bearer(f.customer))
	wantStatus(t, post, post.Body, err, http.StatusCreated)
	for _, status := range []apiclient.PostStatus{apiclient.Published, apiclient.Archived} {
		r, err := f.env.Client.UpdatePostWithResponse(ctx, post.JSON201.Data.Id, nil, apiclient.PostPatch{Status: &status}, testenv.Bearer(f.admin))
		wantStatus(t, r, r.Body, err, http.StatusOK)
	}

	asc := apiclient.ListEventsParamsSort("created_at")
	all := f.events(t, &apiclient.ListEventsParams{Sort: &asc, Limit: ptr(int32(100))})
	var types []string
	for _, e := range all {
		types = append(types, string(e.Type))
	}
	want := []string{"product.created", "product.updated", "order.created", "order.paid", "order.shipped", "order.delivered",
		"order.created", "order.cancelled", "product.deleted", "post.published", "post.archived"}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("events %v, want %v", types, want)
		}
	}

	t.Run("product.updated names the changed fields and the request", func(t *testing.T) {
		e := all[1]
		if e.ChangedFields == nil || len(*e.ChangedFields) != 1 || (*e.ChangedFields)[0] != "price_cents" ||
			e.RequestId == nil || *e.RequestId != "req-price-change" || e.ResourceId != tea.Id {
			t.Fatalf("event %+v", e)
		}
		p, err := e.Data.AsProduct()
		if err != nil || p.PriceCents != 1300 || p.Id != tea.Id {
			t.Fatalf("data %+v %v", p, err)
		}
		if !sameJSON(t, mustJSON(t, e.Data), dataOf(t, upd.Body)) {
			t.Fatalf("data %s is not what the PATCH answered %s", mustJSON(t, e.Data), upd.Body)
		}
	})
	t.Run("order events carry the order as it was", func(t *testing.T) {
		o, err := all[4].Data.AsOrder()
		if err != nil || o.Status != apiclient.Shipped || o.Carrier == nil || *o.Carrier != "DHL" {
			t.Fatalf("order.shipped data %+v %v", o, err)
		}
		c, err := all[7].Data.AsOrder()
		if err != nil || c.Status != apiclient.Cancelled || c.Id != second.Id {
			t.Fatalf("order.cancelled data %+v %v", c, err)
		}
	})
	t.Run("filters", func(t *testing.T) {
		if got := f.events(t, &apiclient.ListEventsParams{Type: ptr(apiclient.EventOrderCreated)}); len(got) != 2 {
			t.Fatalf("type filter: %d", len(got))
		}
		if got := f.events(t, &apiclient.ListEventsParams{ResourceId: &order.Id}); len(got) != 4 || got[0].Type != apiclient.EventOrderDelivered {
			t.Fatalf("resource filter (newest first): %+v", got)
		}
		since := all[9].CreatedAt
		if got := f.events(t, &apiclient.ListEventsParams{Since: &since, Sort: &asc}); len(got) != 2 || got[0].Type != apiclient.EventPostPublished {
			t.Fatalf("since: %+v", got)
		}
		if got := f.events(t, &apiclient.ListEventsParams{Since: ptr(time.Now().Add(time.Hour))}); len(got) != 0 {
			t.Fatalf("future since: %d", len(got))
		}
	})
	t.Run("keyset pages", func(t *testing.T) {
		var seen []uuid.UUID
		p := &apiclient.ListEventsParams{Limit: ptr(int32(4)), Count: ptr(apiclient.ListEventsParamsCount("exact"))}
		for {
			resp, err := f.env.Client.ListEventsWithResponse(ctx, p, testenv.Bearer(f.admin))
			wantStatus(t, resp, resp.Body, err, http.StatusOK)
			for _, e := range resp.JSON200.Data {
				seen = append(seen, e.Id)
			}
			if *resp.JSON200.Meta.Total != int64(len(want)) {
				t.Fatalf("total %d", *resp.JSON200.Meta.Total)
			}
			if !resp.JSON200.Meta.HasMore {
				break
			}
			p.Cursor = resp.JSON200.Meta.NextCursor
		}
		if len(seen) != len(want) || seen[0] != all[len(all)-1].Id {
			t.Fatalf("pages gave %d events", len(seen))
		}
	})
	t.Run("get", func(t *testing.T) {
		resp, err := f.env.Client.GetEventWithResponse(ctx, all[3].Id, testenv.Bearer(f.admin))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.JSON200.Data.Type != apiclient.EventOrderPaid {
			t.Fatalf("event %+v", resp.JSON200.Data)
		}
		missing, err := f.env.Client.GetEventWithResponse(ctx, uuid.New(), testenv.Bearer(f.admin))
		wantError(t, missing, missing.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("who may read", func(t *testing.T) {
		resp, err := f.env.Client.ListEventsWithResponse(ctx, nil, testenv.Bearer(f.customer))
		wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
		one, err := f.env.Client.GetEventWithResponse(ctx, all[0].Id, testenv.Bearer(f.customer))
		wantError(t, one, one.Body, err, http.StatusForbidden, "FORBIDDEN")
		anon, err := f.env.Client.ListEventsWithResponse(ctx, nil)
		wantError(t, anon, anon.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		// A partner credential with events:read alone (an API key's scopes) may read.
		partner, _ := f.env.Customer("events-reader@example.com")
		reader, err := f.env.App.Identity.Tokens().Issue(partner.Id, []string{access.ScopeEventsRead})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := f.env.Client.ListEventsWithResponse(ctx, nil, testenv.Bearer(reader))
		wantStatus(t, ok, ok.Body, err, http.StatusOK)
	})
	t.Run("bad parameters", func(t *testing.T) {
		for _, q := range []string{"type=order.exploded", "resource_id=nope", "since=yesterday", "sort=type", "cursor=%21%21", "limit=0"} {
			req, _ := http.NewRequest(http.MethodGet, f.env.URL+"/v1/events?"+q, nil)
			req.Header.Set("Authorization", "Bearer "+f.admin)
			resp, err := f.env.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d", q, resp.StatusCode)
			}
		}
		forged, err := f.env.Client.ListEventsWithResponse(ctx, &apiclient.ListEventsParams{Cursor: ptr("eyJzIjoibm9wZSJ9")}, testenv.Bearer(f.admin))
		wantError(t, forged, forged.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
}

// A change that rolls back leaves no event and no delivery: the outbox row and the River job are
// written in the change's own transaction.
func TestRolledBackChangePublishesNothing(t *testing.T) {
	f := newHookFixture(t, app.Options{})
	ctx := context.Background()
	rcv := testenv.NewReceiver(t, nil)
	f.subscribe(t, rcv.URL, apiclient.EventOrderCreated)
	tea := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 10})
	me, err := f.env.Client.GetMeWithResponse(ctx, testenv.Bearer(f.customer))
	wantStatus(t, me, me.Body, err, http.StatusOK)
	p := access.Principal{UserID: me.JSON200.Data.Id, Scopes: []string{access.ScopeOrdersWrite}}
	line := []orders.Line{{ProductID: tea.Id, Quantity: 1}}
	addr := orders.Address{Name: "A", Line1: "B", City: "C", PostalCode: "D", Country: "GB"}

	errLater := errors.New("something after the order failed")
	err = f.env.App.DB.InTx(ctx, func(ctx context.Context) error {
		if _, err := f.env.App.Orders.Place(ctx, p, line, addr); err != nil {
			return err
		}
		return errLater
	})
	if !errors.Is(err, errLater) {
		t.Fatalf("err = %v", err)
	}
	// The same change committed is delivered; the receiver then has exactly that one.
	committed, err := f.env.App.Orders.Place(ctx, p, line, addr)
	if err != nil {
		t.Fatal(err)
	}
	hooks := rcv.WaitFor(t, deliveryWait, "the committed order", func(h []testenv.Hook) bool { return len(h) >= 1 })
	time.Sleep(300 * time.Millisecond)
	if hooks = rcv.Hooks(); len(hooks) != 1 {
		t.Fatalf("%d deliveries", len(hooks))
	}
	evs := f.events(t, &apiclient.ListEventsParams{Type: ptr(apiclient.EventOrderCreated)})
	if len(evs) != 1 || evs[0].ResourceId != committed.ID || hooks[0].ID != evs[0].Id.String() {
		t.Fatalf("events %+v", evs)
	}
	var jobs, deliveries int
	if err := f.env.App.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM river_job), (SELECT count(*) FROM webhook_deliveries)").
		Scan(&jobs, &deliveries); err != nil || jobs != 1 || deliveries != 1 {
		t.Fatalf("%d jobs, %d deliveries (%v)", jobs, deliveries, err)
	}
}

// The janitor deletes events (and their deliveries) past the retention, and keeps the rest.
func TestEventRetention(t *testing.T) {
	f := newHookFixture(t, app.Options{})
	ctx := context.Background()
	rcv := testenv.NewReceiver(t, nil)
	ep := f.subscribe(t, rcv.URL, apiclient.EventProductCreated)
	oldP := f.product(t, apiclient.ProductCreate{Name: "Old", PriceCents: 100, Stock: 1})
	newP := f.product(t, apiclient.ProductCreate{Name: "New", PriceCents: 100, Stock: 1})
	f.waitSucceeded(t, ep.Id, 2)
	if _, err := f.env.App.Pool.Exec(ctx, "UPDATE events SET created_at = now() - interval '31 days' WHERE resource_id = $1", oldP.Id); err != nil {
		t.Fatal(err)
	}
	removed, err := f.env.App.Cleanup(ctx)
	if err != nil || removed["events"] != 1 {
		t.Fatalf("removed %v, %v", removed, err)
	}
	evs := f.events(t, nil)
	if len(evs) != 1 || evs[0].ResourceId != newP.Id {
		t.Fatalf("events left %+v", evs)
	}
	if d := f.deliveries(t, ep.Id); len(d) != 1 {
		t.Fatalf("deliveries left %+v", d)
	}
}

func mustJSON(t *testing.T, v interface{ MarshalJSON() ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
