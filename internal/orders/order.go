package orders

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/page"
)

// Order rules. The bounds equal the spec's (TestDomainBoundsMatchSpec in internal/httpapi).
const (
	MinSubtotalCents = 1000
	// MaxTotalCents is the largest amount an order can carry: the spec's bound of every *_cents field.
	MaxTotalCents = 100_000_000_000
	MaxLines      = 100
	MaxQuantity   = 10000
)

// AddressMaxLen bounds each shipping address field, in characters.
var AddressMaxLen = map[string]int{"name": 100, "line1": 200, "line2": 200, "city": 100, "postal_code": 20}

// Address is where an order ships.
type Address struct {
	Name, Line1, Line2, City, PostalCode, Country string
}

// Item is one order line; name and unit price are copied from the product when the order is placed.
type Item struct {
	ProductID      uuid.UUID
	Name           string
	UnitPriceCents int64
	Quantity       int32
	LineTotalCents int64
}

// Payment is an order's charge.
type Payment struct {
	Status            string // succeeded or refunded
	AmountCents       int64
	Currency          string
	ProviderReference string
	CreatedAt         time.Time
}

// Order is a placed order.
type Order struct {
	ID                 uuid.UUID
	UserID             uuid.UUID
	Status             Status
	Items              []Item
	SubtotalCents      int64
	TotalCents         int64
	Currency           string
	ShippingAddress    Address
	Payment            *Payment
	Carrier            *string
	TrackingNumber     *string
	CancellationReason *string
	Version            int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
	PaidAt             *time.Time
	ShippedAt          *time.Time
	DeliveredAt        *time.Time
	CancelledAt        *time.Time
}

// Line is one requested line of a new order.
type Line struct {
	ProductID uuid.UUID
	Quantity  int32
}

// StockedProduct is a product as locked while an order is placed.
type StockedProduct struct {
	ID         uuid.UUID
	Name       string
	PriceCents int64
	Currency   string
	Stock      int32
	Active     bool
	Deleted    bool
}

// NewOrder is an order ready to be stored.
type NewOrder struct {
	ID            uuid.UUID
	UserID        uuid.UUID
	Items         []Item
	SubtotalCents int64
	TotalCents    int64
	Currency      string
	Address       Address
}

// StatusChange carries what a transition records besides the status.
type StatusChange struct {
	Carrier, TrackingNumber, CancellationReason *string
}

// PaymentRecord is one attempt or refund as the provider answered it.
type PaymentRecord struct {
	Status        string // succeeded, failed
	AmountCents   int64
	Currency      string
	Method        string
	Provider      string
	Reference     string
	FailureReason *string
}

// Filter narrows an order list; a nil UserID lists everyone's orders.
type Filter struct {
	UserID *uuid.UUID
	Status Status
}

// Store is what the order rules need from storage.
type Store interface {
	// LockProducts locks the products (in a stable order, so concurrent orders cannot deadlock).
	LockProducts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]StockedProduct, error)
	// AdjustStock adds each delta to the product's stock.
	AdjustStock(ctx context.Context, deltas map[uuid.UUID]int32) error
	InsertOrder(ctx context.Context, o NewOrder) (Order, error)
	Order(ctx context.Context, id uuid.UUID) (Order, error)
	LockOrder(ctx context.Context, id uuid.UUID) (Order, error)
	SetStatus(ctx context.Context, id uuid.UUID, to Status, c StatusChange) (Order, error)
	RecordPayment(ctx context.Context, orderID uuid.UUID, r PaymentRecord) error
	MarkRefunded(ctx context.Context, orderID uuid.UUID) error
	ListOrders(ctx context.Context, f Filter, req page.Request) (page.Page[Order], error)
}
