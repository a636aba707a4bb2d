package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/uow"
)

// Outbox is the Publisher: it renders the resource with the API's own converter, records the event and
// hands it to the subscribers, all in the caller's unit of work.
//
// Rendering happens here, at write time, rather than when an event is read or delivered: the event is
// the resource as it was when the change committed, whatever happened to it since, and the same bytes
// serve GET /v1/events and every delivery and retry.
type Outbox struct {
	store  Store
	render Renderer
	origin func(context.Context) Origin
	subs   []Subscriber
	now    func() time.Time
}

// NewOutbox records events in store, rendering resources with render and tying each event to the
// request origin finds in the context.
func NewOutbox(store Store, render Renderer, origin func(context.Context) Origin) *Outbox {
	return &Outbox{store: store, render: render, origin: origin, now: time.Now}
}

// Subscribe adds a subscriber told of every event in the unit of work that records it.
func (o *Outbox) Subscribe(s Subscriber) { o.subs = append(o.subs, s) }

var _ Publisher = (*Outbox)(nil)

var errNoUnit = errors.New("events: Publish outside a unit of work: the event would not share the change's transaction")

// unchanged lists the representation's fields every write touches, which alone are no change.
var unchanged = []string{"updated_at"}

// Publish records c. It must run inside the unit of work of the change.
func (o *Outbox) Publish(ctx context.Context, c Change) error {
	if !uow.Active(ctx) {
		return apperr.Internal(errNoUnit)
	}
	data, err := o.render(c.Resource)
	if err != nil {
		return apperr.Internal(fmt.Errorf("rendering %s: %w", c.Type, err))
	}
	e := Event{Type: c.Type, ResourceID: c.ResourceID, Data: data, CreatedAt: o.now().UTC().Truncate(time.Microsecond)}
	if c.Previous != nil {
		before, err := o.render(c.Previous)
		if err != nil {
			return apperr.Internal(fmt.Errorf("rendering %s: %w", c.Type, err))
		}
		if e.ChangedFields, err = changedFields(before, data); err != nil {
			return apperr.Internal(fmt.Errorf("comparing %s: %w", c.Type, err))
		}
		if len(e.ChangedFields) == 0 {
			return nil
		}
	}
	if e.ID, err = uuid.NewV7(); err != nil {
		return apperr.Internal(err)
	}
	if o.origin != nil {
		or := o.origin(ctx)
		e.RequestID, e.TraceParent = or.RequestID, or.TraceParent
	}
	if err := o.store.InsertEvent(ctx, e); err != nil {
		return err
	}
	for _, s := range o.subs {
		if err := s.Subscribed(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// changedFields names the top-level members whose values differ between two renderings, by name.
func changedFields(before, after json.RawMessage) ([]string, error) {
	var b, a map[string]json.RawMessage
	if err := json.Unmarshal(before, &b); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(after, &a); err != nil {
		return nil, err
	}
	var out []string
	for k, v := range a {
		if old, ok := b[k]; (!ok || !bytes.Equal(old, v)) && !slices.Contains(unchanged, k) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && !slices.Contains(unchanged, k) {
			out = append(out, k) // an optional member that was cleared
		}
	}
	slices.Sort(out)
	return out, nil
}
