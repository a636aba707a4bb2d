package storetest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/page"
)

var address = orders.Address{Name: "Ada", Line1: "1 Main St", City: "London", PostalCode: "SW1", Country: "GB"}

// placed stores an order of qty units of p for u, as the order service does: lock, take stock, insert.
func placed(t *testing.T, s Stores, user uuid.UUID, product uuid.UUID, price int64, qty int32) orders.Order {
	t.Helper()
	var o orders.Order
	check(t, s.Tx.InTx(ctx, func(ctx context.Context) error {
		locked := must(s.Orders.LockProducts(ctx, []uuid.UUID{product}))(t)
		if locked[product].Stock < qty {
			t.Fatalf("stock %d", locked[product].Stock)
		}
		check(t, s.Orders.AdjustStock(ctx, map[uuid.UUID]int32{product: -qty}))
		var err error
		o, err = s.Orders.InsertOrder(ctx, orders.NewOrder{ID: newID(), UserID: user, Currency: "USD", Address: address,
			SubtotalCents: price * int64(qty), TotalCents: price * int64(qty),
			Items: []orders.Item{{ProductID: product, Name: "Item", UnitPriceCents: price, Quantity: qty, LineTotalCents: price * int64(qty)}}})
		return err
	}))
	return o
}

var orderCases = []testCase{
	{"an order takes stock, and the product read afterwards shows it", func(t *testing.T, s Stores) {
		u := newUser(t, s, "buyer-"+newID().String()+"@example.com")
		p := newProduct(t, s, "Stocked", 1500, 5, nil)
		must(s.Catalog.Product(ctx, p.ID))(t) // a cached implementation now holds stock 5
		o := placed(t, s, u.ID, p.ID, 1500, 2)
		if got := must(s.Catalog.Product(ctx, p.ID))(t); got.Stock != 3 {
			t.Fatalf("stock after the order %d, want 3", got.Stock)
		}
		got := must(s.Orders.Order(ctx, o.ID))(t)
		if got.Status != orders.StatusPending || got.UserID != u.ID || len(got.Items) != 1 || got.Items[0].Quantity != 2 ||
			got.TotalCents != 3000 || got.ShippingAddress != address {
			t.Fatalf("read %+v", got)
		}
	}},
	{"a rolled-back order leaves the stock as it was", func(t *testing.T, s Stores) {
		p := newProduct(t, s, "Untouched", 1500, 5, nil)
		must(s.Catalog.Product(ctx, p.ID))(t)
		rolledBack(t, s, func(ctx context.Context) {
			check(t, s.Orders.AdjustStock(ctx, map[uuid.UUID]int32{p.ID: -5}))
		})
		for range 2 {
			if got := must(s.Catalog.Product(ctx, p.ID))(t); got.Stock != 5 {
				t.Fatalf("stock %d after rollback", got.Stock)
			}
		}
	}},
	{"locking products reports deleted and inactive ones", func(t *testing.T, s Stores) {
		a := newProduct(t, s, "Live", 100, 1, nil)
		b := newProduct(t, s, "Dead", 100, 1, nil)
		check(t, s.Catalog.DeleteProduct(ctx, b.ID))
		check(t, s.Tx.InTx(ctx, func(ctx context.Context) error {
			got := must(s.Orders.LockProducts(ctx, []uuid.UUID{a.ID, b.ID, uuid.New()}))(t)
			if len(got) != 2 || got[a.ID].Deleted || !got[b.ID].Deleted || !got[a.ID].Active {
				t.Fatalf("locked %+v", got)
			}
			return nil
		}))
	}},
	{"an order for a suspended or unknown customer finds no customer", func(t *testing.T, s Stores) {
		u := newUser(t, s, "suspended-"+newID().String()+"@example.com")
		u.Status = "suspended"
		must(s.Users.UpdateUser(ctx, u))(t)
		for _, id := range []uuid.UUID{u.ID, uuid.New()} {
			_, err := s.Orders.InsertOrder(ctx, orders.NewOrder{ID: newID(), UserID: id, Currency: "USD", Address: address})
			wantNotFound(t, err, "user")
		}
	}},
	{"status changes and payments are recorded", func(t *testing.T, s Stores) {
		u := newUser(t, s, "payer-"+newID().String()+"@example.com")
		p := newProduct(t, s, "Paid", 2000, 5, nil)
		o := placed(t, s, u.ID, p.ID, 2000, 1)
		check(t, s.Tx.InTx(ctx, func(ctx context.Context) error {
			locked := must(s.Orders.LockOrder(ctx, o.ID))(t)
			check(t, s.Orders.RecordPayment(ctx, locked.ID, orders.PaymentRecord{Status: "succeeded", AmountCents: 2000, Currency: "USD",
				Method: "pm_card_ok", Provider: "simulator", Reference: "ref-1"}))
			_, err := s.Orders.SetStatus(ctx, o.ID, orders.StatusPaid, orders.StatusChange{})
			return err
		}))
		got := must(s.Orders.Order(ctx, o.ID))(t)
		if got.Status != orders.StatusPaid || got.PaidAt == nil || got.Payment == nil || got.Payment.ProviderReference != "ref-1" || got.Version <= o.Version {
			t.Fatalf("paid %+v", got)
		}
		check(t, s.Orders.MarkRefunded(ctx, o.ID))
		cancelled := must(s.Orders.SetStatus(ctx, o.ID, orders.StatusCancelled, orders.StatusChange{CancellationReason: ptr("changed my mind")}))(t)
		if cancelled.Status != orders.StatusCancelled || cancelled.Payment.Status != "refunded" || *cancelled.CancellationReason != "changed my mind" {
			t.Fatalf("cancelled %+v", cancelled)
		}
		_, err := s.Orders.Order(ctx, uuid.New())
		wantNotFound(t, err, "order")
	}},
	{"order lists filter by customer and status", func(t *testing.T, s Stores) {
		u := newUser(t, s, "lister-"+newID().String()+"@example.com")
		p := newProduct(t, s, "Listed", 1000, 10, nil)
		for range 3 {
			placed(t, s, u.ID, p.ID, 1000, 1)
		}
		mine := must(s.Orders.ListOrders(ctx, orders.Filter{UserID: &u.ID}, page.Request{Sort: "-created_at", Limit: 2, Count: page.CountExact}))(t)
		if len(mine.Items) != 2 || !mine.HasMore || mine.Total == nil || *mine.Total != 3 || len(mine.Items[0].Items) != 1 {
			t.Fatalf("listed %+v", mine)
		}
		paid := must(s.Orders.ListOrders(ctx, orders.Filter{UserID: &u.ID, Status: orders.StatusPaid}, page.Request{Sort: "-created_at", Limit: 10}))(t)
		if len(paid.Items) != 0 {
			t.Fatalf("%d paid orders", len(paid.Items))
		}
	}},
}
