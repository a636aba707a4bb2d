package orders

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/uow"
)

// Service holds the order rules.
type Service struct {
	store    Store
	tx       uow.Runner
	provider PaymentProvider
	events   events.Publisher
	observe  func(transition string)
	audit    audit.Recorder
}

// RecordTo sets the audit log orders and their transitions are recorded in.
func (s *Service) RecordTo(r audit.Recorder) { s.audit = r }

// actions are the audit actions of the states an order enters.
var actions = map[Status]audit.Action{
	StatusPending: audit.OrderPlaced, StatusPaid: audit.OrderPaid, StatusShipped: audit.OrderShipped,
	StatusDelivered: audit.OrderDelivered, StatusCancelled: audit.OrderCancelled,
}

func (s *Service) record(ctx context.Context, p access.Principal, id uuid.UUID, to Status, ch audit.Changes) error {
	return s.audit.Record(ctx, audit.Event{Action: actions[to], ResourceType: audit.ResourceOrder, ResourceID: id, Actor: p, Changes: ch})
}

// ObserveTransitions calls fn with "place", "pay", "ship", "deliver" or "cancel" each time an order
// changes, once the change is committed (for metrics).
func (s *Service) ObserveTransitions(fn func(transition string)) { s.observe = fn }

func (s *Service) observed(ctx context.Context, transition string) {
	if s.observe != nil {
		uow.AfterCommit(ctx, func() { s.observe(transition) })
	}
}

// NewService wires the rules to a store, the unit of work it takes part in, a payment provider, and
// the outbox every order change is published to (in the change's unit of work).
func NewService(store Store, tx uow.Runner, provider PaymentProvider, publisher events.Publisher) *Service {
	return &Service{store: store, tx: tx, provider: provider, events: publisher, audit: audit.Discard}
}

// transitionEvents names the event each state change publishes.
var transitionEvents = map[Transition]events.Type{
	Pay: events.OrderPaid, Ship: events.OrderShipped, Deliver: events.OrderDelivered, Cancel: events.OrderCancelled,
}

func (s *Service) publish(ctx context.Context, t events.Type, o Order) error {
	return s.events.Publish(ctx, events.Change{Type: t, ResourceID: o.ID, Resource: o})
}

func canManage(p access.Principal) bool { return p.Has(access.ScopeOrdersManage) }

var (
	errOrderNotFound = apperr.NotFound("order")
	errCustomerGone  = apperr.New(apperr.KindUnauthenticated, "The account of this token is deleted or suspended.")
)

// visible hides other users' orders behind a 404 unless the caller manages orders.
func visible(p access.Principal, o Order) error {
	if o.UserID != p.UserID && !canManage(p) {
		return errOrderNotFound
	}
	return nil
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

func validatePlace(lines []Line, a Address) error {
	var d []apperr.Detail
	if len(lines) < 1 || len(lines) > MaxLines {
		d = append(d, apperr.Detail{Field: "items", Message: "must have 1 to 100 lines"})
	}
	for i, l := range lines {
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			d = append(d, apperr.Detail{Field: "items[" + strconv.Itoa(i) + "].quantity", Message: "must be between 1 and 10000"})
		}
	}
	fields := map[string]string{"name": a.Name, "line1": a.Line1, "line2": a.Line2, "city": a.City, "postal_code": a.PostalCode}
	for _, field := range []string{"name", "line1", "line2", "city", "postal_code"} {
		v, most := fields[field], AddressMaxLen[field]
		switch n := utf8.RuneCountInString(v); {
		case n == 0 && field != "line2", n > 0 && strings.TrimSpace(v) == "":
			d = append(d, apperr.Detail{Field: "shipping_address." + field, Message: "is required and must not be blank"})
		case n > most:
			d = append(d, apperr.Detail{Field: "shipping_address." + field, Message: "must be at most " + strconv.Itoa(most) + " characters"})
		}
	}
	if !countryPattern.MatchString(a.Country) {
		d = append(d, apperr.Detail{Field: "shipping_address.country", Message: "must be an ISO 3166-1 alpha-2 code"})
	}
	if len(d) > 0 {
		return apperr.Invalid(d...)
	}
	return nil
}

// mergeLines folds lines naming the same product into the first of them.
func mergeLines(lines []Line) []Line {
	out := make([]Line, 0, len(lines))
	at := map[uuid.UUID]int{}
	for _, l := range lines {
		if i, ok := at[l.ProductID]; ok {
			out[i].Quantity += l.Quantity
			continue
		}
		at[l.ProductID] = len(out)
		out = append(out, l)
	}
	return out
}

// Place creates a pending order for the caller. In one transaction it locks the products, checks them,
// takes the stock and copies the prices, so concurrent orders never oversell.
func (s *Service) Place(ctx context.Context, p access.Principal, lines []Line, address Address) (Order, error) {
	if err := validatePlace(lines, address); err != nil {
		return Order{}, err
	}
	lines = mergeLines(lines)
	for i, l := range lines {
		if l.Quantity > MaxQuantity {
			return Order{}, apperr.InvalidField("items["+strconv.Itoa(i)+"].quantity", "lines of one product add up to more than 10000")
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Order{}, apperr.Internal(err)
	}
	var out Order
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		ids := make([]uuid.UUID, len(lines))
		for i, l := range lines {
			ids[i] = l.ProductID
		}
		products, err := s.store.LockProducts(ctx, ids)
		if err != nil {
			return err
		}
		o, deltas, err := priceOrder(lines, products)
		if err != nil {
			return err
		}
		o.ID, o.UserID, o.Address = id, p.UserID, address
		if err := s.store.AdjustStock(ctx, deltas); err != nil {
			return err
		}
		out, err = s.store.InsertOrder(ctx, o)
		if apperr.IsNotFound(err, "user") { // deleted or suspended since the token was issued
			return errCustomerGone
		}
		if err != nil {
			return err
		}
		if err := s.record(ctx, p, out.ID, StatusPending, audit.Changes{}.Set("status", StatusPending).
			Set("total_cents", out.TotalCents).Set("currency", out.Currency).Set("lines", len(out.Items))); err != nil {
			return err
		}
		return s.publish(ctx, events.OrderCreated, out)
	})
	if err == nil {
		s.observed(ctx, "place")
	}
	return out, err
}

// priceOrder applies the order rules to locked products: available, one currency, minimum subtotal,
// enough stock. It returns the order lines and the stock to take.
func priceOrder(lines []Line, products map[uuid.UUID]StockedProduct) (NewOrder, map[uuid.UUID]int32, error) {
	var o NewOrder
	deltas := make(map[uuid.UUID]int32, len(lines))
	var short []apperr.Detail
	var shortMsg string
	for i, l := range lines {
		pr, ok := products[l.ProductID]
		field := "items[" + strconv.Itoa(i) + "]"
		if !ok || pr.Deleted || !pr.Active {
			e := apperr.New(apperr.KindUnprocessable, "Product "+l.ProductID.String()+" is not available.")
			e.Details = []apperr.Detail{{Field: field + ".product_id", Message: "is not an available product"}}
			return NewOrder{}, nil, e
		}
		if o.Currency == "" {
			o.Currency = pr.Currency
		} else if o.Currency != pr.Currency {
			e := apperr.New(apperr.KindUnprocessable, "All products of an order must have the same currency.")
			e.Details = []apperr.Detail{{Field: field + ".product_id", Message: "is priced in " + pr.Currency + ", not " + o.Currency}}
			return NewOrder{}, nil, e
		}
		if pr.Stock < l.Quantity {
			if shortMsg == "" {
				shortMsg = fmt.Sprintf("Only %d of %s (%s) is in stock.", pr.Stock, pr.Name, pr.ID)
			}
			short = append(short, apperr.Detail{Field: field + ".quantity",
				Message: fmt.Sprintf("only %d available of product %s", pr.Stock, pr.ID)})
		}
		line := int64(l.Quantity) * pr.PriceCents
		o.Items = append(o.Items, Item{ProductID: pr.ID, Name: pr.Name, UnitPriceCents: pr.PriceCents, Quantity: l.Quantity, LineTotalCents: line})
		o.SubtotalCents += line
		deltas[pr.ID] = -l.Quantity
	}
	if o.SubtotalCents < MinSubtotalCents {
		return NewOrder{}, nil, apperr.Coded(apperr.KindUnprocessable, apperr.CodeOrderMinimumNotMet,
			fmt.Sprintf("The subtotal is %d cents; orders need at least %d.", o.SubtotalCents, MinSubtotalCents))
	}
	if len(short) > 0 {
		e := apperr.Coded(apperr.KindUnprocessable, apperr.CodeInsufficientStock, shortMsg)
		e.Details = short
		return NewOrder{}, nil, e
	}
	o.TotalCents = o.SubtotalCents // no shipping or tax yet
	if o.TotalCents > MaxTotalCents {
		return NewOrder{}, nil, apperr.Coded(apperr.KindUnprocessable, apperr.CodeOrderMaximumExceeded,
			fmt.Sprintf("The total would be %d cents; an order can carry at most %d.", o.TotalCents, MaxTotalCents))
	}
	return o, deltas, nil
}

// Get returns an order the caller may see.
func (s *Service) Get(ctx context.Context, p access.Principal, id uuid.UUID) (Order, error) {
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return Order{}, err
	}
	if err := visible(p, o); err != nil {
		return Order{}, err
	}
	return o, nil
}

// List returns the caller's orders, or everyone's for order managers.
func (s *Service) List(ctx context.Context, p access.Principal, status Status, req page.Request) (page.Page[Order], error) {
	f := Filter{Status: status}
	if !canManage(p) {
		f.UserID = &p.UserID
	}
	req, err := req.Sorted("-created_at", "created_at")
	if err != nil {
		return page.Page[Order]{}, err
	}
	return s.store.ListOrders(ctx, f, req)
}

// ListForUser returns one user's orders, to that user or an order manager.
func (s *Service) ListForUser(ctx context.Context, p access.Principal, userID uuid.UUID, status Status, req page.Request) (page.Page[Order], error) {
	if userID != p.UserID && !canManage(p) {
		return page.Page[Order]{}, apperr.NotFound("user")
	}
	req, err := req.Sorted("-created_at", "created_at")
	if err != nil {
		return page.Page[Order]{}, err
	}
	return s.store.ListOrders(ctx, Filter{UserID: &userID, Status: status}, req)
}

// transition runs one state change t of an order in a unit of work: it locks the order, hides it from
// callers who may not see it, checks that the state machine allows t, and hands the order and its next
// state to change.
func (s *Service) transition(ctx context.Context, p access.Principal, id uuid.UUID, t Transition,
	change func(ctx context.Context, o Order, to Status) (Order, error)) (Order, error) {
	var out Order
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		o, err := s.store.LockOrder(ctx, id)
		if err != nil {
			return err
		}
		if err := visible(p, o); err != nil {
			return err
		}
		to, err := Next(o.Status, t)
		if err != nil {
			return err
		}
		out, err = change(ctx, o, to)
		return err
	})
	return out, err
}

// setStatus records the order's new state, in the store and the audit log, and publishes it; the
// transition is observed once committed.
func (s *Service) setStatus(ctx context.Context, p access.Principal, o Order, t Transition, to Status, c StatusChange) (Order, error) {
	out, err := s.store.SetStatus(ctx, o.ID, to, c)
	if err != nil {
		return out, err
	}
	ch := audit.Changes{}.Diff("status", o.Status, to)
	if c.Carrier != nil {
		ch.Set("carrier", *c.Carrier).Set("tracking_number", *c.TrackingNumber)
	}
	if c.CancellationReason != nil {
		ch.Set("cancellation_reason", *c.CancellationReason)
	}
	if to == StatusCancelled {
		ch["refunded"] = o.Status == StatusPaid && o.Payment != nil
	}
	if err := s.record(ctx, p, o.ID, to, ch); err != nil {
		return Order{}, err
	}
	if err := s.publish(ctx, transitionEvents[t], out); err != nil {
		return Order{}, err
	}
	s.observed(ctx, string(t))
	return out, nil
}

var errDeclined = apperr.New(apperr.KindPaymentRequired, "The payment was declined; the order is still pending.")

// Pay charges the order through the provider. A decline is recorded and answered 402; the order stays pending.
func (s *Service) Pay(ctx context.Context, p access.Principal, id uuid.UUID, method string) (Order, error) {
	declined := false
	out, err := s.transition(ctx, p, id, Pay, func(ctx context.Context, o Order, to Status) (Order, error) {
		declined = false // the unit may run this again (a serialization failure)
		if o.UserID != p.UserID {
			return Order{}, apperr.New(apperr.KindForbidden, "Only the customer who placed the order may pay it.")
		}
		// The row lock is held while the provider answers, so one order is never charged twice.
		res, err := s.provider.Charge(ctx, Charge{OrderID: o.ID, AmountCents: o.TotalCents, Currency: o.Currency, Method: method,
			IdempotencyKey: "order-" + o.ID.String()})
		if err != nil {
			return Order{}, apperr.Internal(fmt.Errorf("charging order %s: %w", o.ID, err))
		}
		rec := PaymentRecord{Status: "succeeded", AmountCents: o.TotalCents, Currency: o.Currency, Method: method,
			Provider: s.provider.Name(), Reference: res.Reference}
		if res.Declined {
			rec.Status, rec.FailureReason = "failed", &res.DeclineReason
			declined = true
			return Order{}, s.store.RecordPayment(ctx, o.ID, rec) // commit the attempt; the 402 comes after
		}
		if err := s.store.RecordPayment(ctx, o.ID, rec); err != nil {
			return Order{}, err
		}
		return s.setStatus(ctx, p, o, Pay, to, StatusChange{})
	})
	if err == nil && declined {
		return Order{}, errDeclined
	}
	return out, err
}

// Ship records the shipment of a paid order; order managers only.
func (s *Service) Ship(ctx context.Context, p access.Principal, id uuid.UUID, carrier, tracking string) (Order, error) {
	return s.manage(ctx, p, id, Ship, StatusChange{Carrier: &carrier, TrackingNumber: &tracking})
}

// Deliver marks a shipped order delivered; order managers only.
func (s *Service) Deliver(ctx context.Context, p access.Principal, id uuid.UUID) (Order, error) {
	return s.manage(ctx, p, id, Deliver, StatusChange{})
}

func (s *Service) manage(ctx context.Context, p access.Principal, id uuid.UUID, t Transition, c StatusChange) (Order, error) {
	if !canManage(p) {
		return Order{}, apperr.NeedsScope(access.ScopeOrdersManage)
	}
	return s.transition(ctx, p, id, t, func(ctx context.Context, o Order, to Status) (Order, error) {
		return s.setStatus(ctx, p, o, t, to, c)
	})
}

// Cancel cancels a pending or paid order, puts the stock back and refunds a paid order.
func (s *Service) Cancel(ctx context.Context, p access.Principal, id uuid.UUID, reason *string) (Order, error) {
	return s.transition(ctx, p, id, Cancel, func(ctx context.Context, o Order, to Status) (Order, error) {
		restock := make(map[uuid.UUID]int32, len(o.Items))
		for _, it := range o.Items {
			restock[it.ProductID] += it.Quantity
		}
		if err := s.store.AdjustStock(ctx, restock); err != nil {
			return Order{}, err
		}
		if o.Status == StatusPaid && o.Payment != nil {
			if err := s.provider.Refund(ctx, o.Payment.ProviderReference, o.Payment.AmountCents, o.Payment.Currency); err != nil {
				return Order{}, apperr.Internal(fmt.Errorf("refunding order %s: %w", o.ID, err))
			}
			if err := s.store.MarkRefunded(ctx, o.ID); err != nil {
				return Order{}, err
			}
		}
		return s.setStatus(ctx, p, o, Cancel, to, StatusChange{CancellationReason: reason})
	})
}
