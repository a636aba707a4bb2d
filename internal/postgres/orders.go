package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/page"
)

// OrderStore implements orders.Store.
type OrderStore struct{ *DB }

var _ orders.Store = (*OrderStore)(nil)

// NewOrderStore returns a store over the pool.
func NewOrderStore(d *DB) *OrderStore { return &OrderStore{d} }

// address is the JSONB form of a shipping address.
type address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

func (s *OrderStore) LockProducts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]orders.StockedProduct, error) {
	rows, err := s.q(ctx).LockProductsForOrder(ctx, ids)
	if err != nil {
		return nil, translate(err, "product")
	}
	out := make(map[uuid.UUID]orders.StockedProduct, len(rows))
	for _, r := range rows {
		out[r.PublicID] = orders.StockedProduct{ID: r.PublicID, Name: r.Name, PriceCents: r.PriceCents,
			Currency: r.Currency, Stock: r.Stock, Active: r.Active, Deleted: r.Deleted}
	}
	return out, nil
}

func (s *OrderStore) AdjustStock(ctx context.Context, deltas map[uuid.UUID]int32) error {
	ids := make([]uuid.UUID, 0, len(deltas))
	ds := make([]int32, 0, len(deltas))
	for id, d := range deltas {
		ids, ds = append(ids, id), append(ds, d)
	}
	return translate(s.q(ctx).AdjustStock(ctx, db.AdjustStockParams{Ids: ids, Deltas: ds}), "product")
}

func (s *OrderStore) InsertOrder(ctx context.Context, o orders.NewOrder) (orders.Order, error) {
	addr, err := json.Marshal(address(o.Address))
	if err != nil {
		return orders.Order{}, apperr.Internal(err)
	}
	q := s.q(ctx)
	row, err := q.InsertOrder(ctx, db.InsertOrderParams{PublicID: o.ID, UserPublicID: o.UserID, SubtotalCents: o.SubtotalCents,
		TotalCents: o.TotalCents, Currency: o.Currency, ShippingAddress: addr})
	if err != nil { // no row: the customer is deleted or suspended
		return orders.Order{}, translate(err, "user")
	}
	p := db.InsertOrderItemsParams{OrderID: row.ID}
	for i, it := range o.Items {
		p.ProductPublicIds = append(p.ProductPublicIds, it.ProductID)
		p.Positions = append(p.Positions, int32(i))
		p.Names = append(p.Names, it.Name)
		p.UnitPrices = append(p.UnitPrices, it.UnitPriceCents)
		p.Quantities = append(p.Quantities, it.Quantity)
		p.LineTotals = append(p.LineTotals, it.LineTotalCents)
	}
	if err := q.InsertOrderItems(ctx, p); err != nil {
		return orders.Order{}, translate(err, "order")
	}
	// Everything but the database's timestamps and version is already known: no need to read it back.
	return orders.Order{ID: o.ID, UserID: o.UserID, Status: orders.StatusPending, Items: o.Items,
		SubtotalCents: o.SubtotalCents, TotalCents: o.TotalCents, Currency: o.Currency, ShippingAddress: o.Address,
		Version: row.Version, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt}, nil
}

func (s *OrderStore) Order(ctx context.Context, id uuid.UUID) (orders.Order, error) {
	row, err := s.q(ctx).GetOrder(ctx, id)
	if err != nil {
		return orders.Order{}, translate(err, "order")
	}
	out, err := s.withDetails(ctx, []db.GetOrderRow{row})
	if err != nil {
		return orders.Order{}, err
	}
	return out[0], nil
}

func (s *OrderStore) LockOrder(ctx context.Context, id uuid.UUID) (orders.Order, error) {
	row, err := s.q(ctx).LockOrder(ctx, id)
	if err != nil {
		return orders.Order{}, translate(err, "order")
	}
	out, err := s.withDetails(ctx, []db.GetOrderRow{db.GetOrderRow(row)})
	if err != nil {
		return orders.Order{}, err
	}
	return out[0], nil
}

// withDetails loads the lines and payments of a batch of orders in two queries.
func (s *OrderStore) withDetails(ctx context.Context, rows []db.GetOrderRow) ([]orders.Order, error) {
	keys := make([]int64, len(rows))
	byKey := make(map[int64]int, len(rows))
	out := make([]orders.Order, len(rows))
	for i, r := range rows {
		keys[i], byKey[r.ID] = r.ID, i
		o, err := orderFromRow(r)
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	if len(rows) == 0 {
		return out, nil
	}
	q := s.q(ctx)
	items, err := q.OrderItems(ctx, keys)
	if err != nil {
		return nil, translate(err, "order")
	}
	for _, it := range items {
		o := &out[byKey[it.OrderID]]
		o.Items = append(o.Items, orders.Item{ProductID: it.ProductPublicID, Name: it.Name,
			UnitPriceCents: it.UnitPriceCents, Quantity: it.Quantity, LineTotalCents: it.LineTotalCents})
	}
	payments, err := q.OrderPayments(ctx, keys)
	if err != nil {
		return nil, translate(err, "order")
	}
	for _, p := range payments {
		out[byKey[p.OrderID]].Payment = &orders.Payment{Status: p.Status, AmountCents: p.AmountCents,
			Currency: p.Currency, ProviderReference: p.ProviderReference, CreatedAt: p.CreatedAt}
	}
	return out, nil
}

func orderFromRow(r db.GetOrderRow) (orders.Order, error) {
	var a address
	if err := json.Unmarshal(r.ShippingAddress, &a); err != nil {
		return orders.Order{}, apperr.Internal(fmt.Errorf("order %s: reading address: %w", r.PublicID, err))
	}
	return orders.Order{ID: r.PublicID, UserID: r.UserPublicID, Status: orders.Status(r.Status),
		SubtotalCents: r.SubtotalCents, TotalCents: r.TotalCents, Currency: r.Currency, ShippingAddress: orders.Address(a),
		Carrier: r.Carrier, TrackingNumber: r.TrackingNumber, CancellationReason: r.CancellationReason, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, PaidAt: r.PaidAt, ShippedAt: r.ShippedAt,
		DeliveredAt: r.DeliveredAt, CancelledAt: r.CancelledAt}, nil
}

func (s *OrderStore) SetStatus(ctx context.Context, id uuid.UUID, to orders.Status, c orders.StatusChange) (orders.Order, error) {
	err := s.q(ctx).SetOrderStatus(ctx, db.SetOrderStatusParams{PublicID: id, Status: string(to), Carrier: c.Carrier,
		TrackingNumber: c.TrackingNumber, CancellationReason: c.CancellationReason})
	if err != nil {
		return orders.Order{}, translate(err, "order")
	}
	return s.Order(ctx, id)
}

func (s *OrderStore) RecordPayment(ctx context.Context, orderID uuid.UUID, r orders.PaymentRecord) error {
	return translate(s.q(ctx).InsertPayment(ctx, db.InsertPaymentParams{PublicID: orderID, Status: r.Status,
		AmountCents: r.AmountCents, Currency: r.Currency, PaymentMethod: r.Method, Provider: r.Provider,
		ProviderReference: r.Reference, FailureReason: r.FailureReason}), "payment")
}

func (s *OrderStore) MarkRefunded(ctx context.Context, orderID uuid.UUID) error {
	return translate(s.q(ctx).MarkPaymentRefunded(ctx, orderID), "payment")
}

var orderSorts = map[string]sortColumn{"created_at": {expr: "o.created_at", kind: kindTime}}

const orderColumns = `o.id, o.public_id, u.public_id, o.status, o.subtotal_cents, o.total_cents, o.currency,
	o.shipping_address, o.carrier, o.tracking_number, o.cancellation_reason, o.version, o.created_at,
	o.updated_at, o.paid_at, o.shipped_at, o.delivered_at, o.cancelled_at`

func (s *OrderStore) ListOrders(ctx context.Context, f orders.Filter, req page.Request) (page.Page[orders.Order], error) {
	q := newListQuery("orders o JOIN users u ON u.id = o.user_id", orderColumns, orderSorts)
	q.countTable, q.idExpr = "orders o", "o.public_id"
	if f.UserID != nil {
		q.where("o.user_id = (SELECT id FROM users WHERE public_id = $?)", *f.UserID)
	}
	if f.Status != "" {
		q.where("o.status = $?", string(f.Status))
	}
	if len(q.conds) == 0 {
		q.base("true")
	}
	rows, err := runList(ctx, s.DB, q, req, scanOrder, func(r db.GetOrderRow) db.GetOrderRow { return r },
		func(r db.GetOrderRow) uuid.UUID { return r.PublicID })
	if err != nil {
		return page.Page[orders.Order]{}, err
	}
	items, err := s.withDetails(ctx, rows.Items)
	if err != nil {
		return page.Page[orders.Order]{}, err
	}
	return page.Page[orders.Order]{Items: items, Limit: rows.Limit, HasMore: rows.HasMore, NextCursor: rows.NextCursor, Total: rows.Total}, nil
}

func scanOrder(row pgx.Row, key *any) (db.GetOrderRow, error) {
	var r db.GetOrderRow
	err := row.Scan(&r.ID, &r.PublicID, &r.UserPublicID, &r.Status, &r.SubtotalCents, &r.TotalCents, &r.Currency,
		&r.ShippingAddress, &r.Carrier, &r.TrackingNumber, &r.CancellationReason, &r.Version, &r.CreatedAt,
		&r.UpdatedAt, &r.PaidAt, &r.ShippedAt, &r.DeliveredAt, &r.CancelledAt, key)
	return r, err
}
