// Package events is the outbox: every change partners may react to (an order paid, a product's price
// changed, a post published) is recorded as an Event in the unit of work of the change itself, and
// handed to the subscribers (webhook deliveries) in that same unit. A change that rolls back leaves no
// event; an event exists only for a change that committed.
package events

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/page"
)

// Type names what happened, as "resource.verb".
type Type string

// Event types. The spec's webhooks section documents each payload; keep the two in step.
const (
	OrderCreated            Type = "order.created"
	OrderPaid               Type = "order.paid"
	OrderShipped            Type = "order.shipped"
	OrderDelivered          Type = "order.delivered"
	OrderCancelled          Type = "order.cancelled"
	ProductCreated          Type = "product.created"
	ProductUpdated          Type = "product.updated"
	ProductDeleted          Type = "product.deleted"
	PostPublished           Type = "post.published"
	PostArchived            Type = "post.archived"
	WebhookEndpointDisabled Type = "webhook_endpoint.disabled"
)

// Types lists every event type.
var Types = []Type{OrderCreated, OrderPaid, OrderShipped, OrderDelivered, OrderCancelled,
	ProductCreated, ProductUpdated, ProductDeleted, PostPublished, PostArchived, WebhookEndpointDisabled}

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Event is one recorded change.
type Event struct {
	ID         uuid.UUID // UUIDv7; also every delivery's webhook-id
	Type       Type
	ResourceID uuid.UUID
	// Data is the resource as the API's GET served it when the change committed.
	Data json.RawMessage
	// ChangedFields names the top-level fields of Data an update changed (product.updated).
	ChangedFields []string
	RequestID     string // the request that caused the change, if any
	TraceParent   string // its W3C traceparent, when tracing was on
	CreatedAt     time.Time
}

// Change is what a domain reports: the resource after the change and, for an update, before it.
type Change struct {
	Type       Type
	ResourceID uuid.UUID
	Resource   any
	// Previous is the resource before an update; with it the event lists the changed fields, and an
	// update that changed nothing a reader can see records no event.
	Previous any
}

// Publisher records changes in the unit of work of ctx. Domains call it inside their InTx.
type Publisher interface {
	Publish(ctx context.Context, c Change) error
}

// Renderer renders a domain resource as the API represents it (the body of its GET).
type Renderer func(resource any) (json.RawMessage, error)

// Origin is what ties an event to the request that caused it.
type Origin struct {
	RequestID   string
	TraceParent string
}

// Subscriber is told of every event in the unit of work that records it.
type Subscriber interface {
	Subscribed(ctx context.Context, e Event) error
}

// Filter narrows an event list.
type Filter struct {
	Type       Type
	ResourceID *uuid.UUID
	Since      *time.Time // created at or after
}

// Store keeps events.
type Store interface {
	InsertEvent(ctx context.Context, e Event) error
	Event(ctx context.Context, id uuid.UUID) (Event, error)
	ListEvents(ctx context.Context, f Filter, req page.Request) (page.Page[Event], error)
}

// Sorts are the event list's sort keys.
var Sorts = []string{"created_at"}
