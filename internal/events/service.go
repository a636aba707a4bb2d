package events

import (
	"context"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/page"
)

// Service reads the recorded events.
type Service struct{ store Store }

// NewService returns the event reads over a store.
func NewService(store Store) *Service { return &Service{store: store} }

// canRead: events describe every customer's orders, so admins and callers granted events:read only.
func canRead(p access.Principal) error {
	if p.IsAdmin() || p.Has(access.ScopeEventsRead) {
		return nil
	}
	return apperr.NeedsScope(access.ScopeEventsRead)
}

// List returns a page of events matching f, newest first unless asked otherwise.
func (s *Service) List(ctx context.Context, p access.Principal, f Filter, req page.Request) (page.Page[Event], error) {
	if err := canRead(p); err != nil {
		return page.Page[Event]{}, err
	}
	if f.Type != "" && !f.Type.Valid() {
		return page.Page[Event]{}, apperr.InvalidField("type", "is not an event type")
	}
	req, err := req.Sorted("-created_at", Sorts...)
	if err != nil {
		return page.Page[Event]{}, err
	}
	return s.store.ListEvents(ctx, f, req)
}

// Get returns one event.
func (s *Service) Get(ctx context.Context, p access.Principal, id uuid.UUID) (Event, error) {
	if err := canRead(p); err != nil {
		return Event{}, err
	}
	return s.store.Event(ctx, id)
}
