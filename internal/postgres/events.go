package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/page"
)

// EventStore implements events.Store: the outbox table.
type EventStore struct{ *DB }

var _ events.Store = (*EventStore)(nil)

// NewEventStore returns the outbox over the unit of work.
func NewEventStore(d *DB) *EventStore { return &EventStore{d} }

func (s *EventStore) InsertEvent(ctx context.Context, e events.Event) error {
	return translate(s.q(ctx).InsertEvent(ctx, db.InsertEventParams{PublicID: e.ID, Type: string(e.Type), ResourceID: e.ResourceID,
		Data: e.Data, ChangedFields: e.ChangedFields, RequestID: nonEmpty(e.RequestID), Traceparent: nonEmpty(e.TraceParent),
		CreatedAt: e.CreatedAt}), "event")
}

func (s *EventStore) Event(ctx context.Context, id uuid.UUID) (events.Event, error) {
	row, err := s.q(ctx).GetEvent(ctx, id)
	if err != nil {
		return events.Event{}, translate(err, "event")
	}
	return eventFromRow(row), nil
}

var eventSorts = map[string]sortColumn{"created_at": {expr: "created_at", kind: kindTime}}

const eventColumns = "id, public_id, type, resource_id, data, changed_fields, request_id, traceparent, created_at"

func (s *EventStore) ListEvents(ctx context.Context, f events.Filter, req page.Request) (page.Page[events.Event], error) {
	q := newListQuery("events", eventColumns, eventSorts)
	if f.Type != "" {
		q.where("type = $?", string(f.Type))
	}
	if f.ResourceID != nil {
		q.where("resource_id = $?", *f.ResourceID)
	}
	if f.Since != nil {
		q.where("created_at >= $?", *f.Since)
	}
	if len(q.conds) == 0 {
		q.base("true")
	}
	return runList(ctx, s.DB, q, req, func(row pgx.Row, key *any) (db.Event, error) {
		var e db.Event
		err := row.Scan(&e.ID, &e.PublicID, &e.Type, &e.ResourceID, &e.Data, &e.ChangedFields, &e.RequestID, &e.Traceparent, &e.CreatedAt, key)
		return e, err
	}, eventFromRow, func(e events.Event) uuid.UUID { return e.ID })
}

func eventFromRow(r db.Event) events.Event {
	return events.Event{ID: r.PublicID, Type: events.Type(r.Type), ResourceID: r.ResourceID, Data: r.Data,
		ChangedFields: r.ChangedFields, RequestID: deref(r.RequestID), TraceParent: deref(r.Traceparent), CreatedAt: r.CreatedAt}
}

// PruneEvents deletes the events created before the cutoff (with their deliveries), in batches, and
// returns how many it deleted.
func PruneEvents(ctx context.Context, conn db.DBTX, before time.Time) (int64, error) {
	var total int64
	for {
		n, err := db.New(conn).DeleteOldEvents(ctx, before)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}
