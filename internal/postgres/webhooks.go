package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/webhooks"
)

// WebhookStore implements webhooks.Store.
type WebhookStore struct{ *DB }

var _ webhooks.Store = (*WebhookStore)(nil)

// NewWebhookStore returns the endpoint and delivery store over the unit of work.
func NewWebhookStore(d *DB) *WebhookStore { return &WebhookStore{d} }

const resourceEndpoint, resourceDelivery = "webhook endpoint", "delivery"

func (s *WebhookStore) CreateEndpoint(ctx context.Context, e webhooks.Endpoint) (webhooks.Endpoint, error) {
	row, err := s.q(ctx).CreateWebhookEndpoint(ctx, db.CreateWebhookEndpointParams{PublicID: e.ID, Url: e.URL,
		Description: e.Description, EventTypes: typeNames(e.EventTypes), Enabled: e.Enabled, Secret: e.Secret})
	if err != nil {
		return webhooks.Endpoint{}, translate(err, resourceEndpoint)
	}
	return endpointFromRow(row), nil
}

func (s *WebhookStore) Endpoint(ctx context.Context, id uuid.UUID) (webhooks.Endpoint, error) {
	row, err := s.q(ctx).GetWebhookEndpoint(ctx, id)
	if err != nil {
		return webhooks.Endpoint{}, translate(err, resourceEndpoint)
	}
	return endpointFromRow(row), nil
}

func (s *WebhookStore) LockEndpoint(ctx context.Context, id uuid.UUID) (webhooks.Endpoint, error) {
	row, err := s.q(ctx).LockWebhookEndpoint(ctx, id)
	if err != nil {
		return webhooks.Endpoint{}, translate(err, resourceEndpoint)
	}
	return endpointFromRow(row), nil
}

func (s *WebhookStore) UpdateEndpoint(ctx context.Context, e webhooks.Endpoint) (webhooks.Endpoint, error) {
	row, err := s.q(ctx).UpdateWebhookEndpoint(ctx, db.UpdateWebhookEndpointParams{PublicID: e.ID, Url: e.URL,
		Description: e.Description, EventTypes: typeNames(e.EventTypes), Enabled: e.Enabled, DisabledReason: e.DisabledReason,
		Secret: e.Secret, PreviousSecret: e.PreviousSecret, PreviousSecretExpiresAt: e.PreviousSecretExpiresAt,
		FailingSince: e.FailingSince})
	if err != nil {
		return webhooks.Endpoint{}, translate(err, resourceEndpoint)
	}
	return endpointFromRow(row), nil
}

func (s *WebhookStore) DeleteEndpoint(ctx context.Context, id uuid.UUID) error {
	n, err := s.q(ctx).SoftDeleteWebhookEndpoint(ctx, id)
	return deleted(n, err, resourceEndpoint)
}

var endpointSorts = map[string]sortColumn{"created_at": {expr: "created_at", kind: kindTime}}

const endpointColumns = `id, public_id, url, description, event_types, enabled, disabled_reason, secret, previous_secret,
	previous_secret_expires_at, failing_since, version, created_at, updated_at, deleted_at`

func (s *WebhookStore) ListEndpoints(ctx context.Context, req page.Request) (page.Page[webhooks.Endpoint], error) {
	q := newListQuery("webhook_endpoints", endpointColumns, endpointSorts)
	q.base("deleted_at IS NULL")
	return runList(ctx, s.DB, q, req, func(row pgx.Row, key *any) (db.WebhookEndpoint, error) {
		var w db.WebhookEndpoint
		err := row.Scan(&w.ID, &w.PublicID, &w.Url, &w.Description, &w.EventTypes, &w.Enabled, &w.DisabledReason, &w.Secret,
			&w.PreviousSecret, &w.PreviousSecretExpiresAt, &w.FailingSince, &w.Version, &w.CreatedAt, &w.UpdatedAt, &w.DeletedAt, key)
		return w, err
	}, endpointFromRow, func(e webhooks.Endpoint) uuid.UUID { return e.ID })
}

func (s *WebhookStore) SetFailing(ctx context.Context, endpointID uuid.UUID, since *time.Time) error {
	return translate(s.q(ctx).SetWebhookEndpointFailing(ctx, db.SetWebhookEndpointFailingParams{PublicID: endpointID, Since: since}),
		resourceEndpoint)
}

func (s *WebhookStore) CreateDeliveries(ctx context.Context, e events.Event) ([]uuid.UUID, error) {
	ids, err := s.q(ctx).CreateWebhookDeliveries(ctx, e.ID)
	return ids, translate(err, resourceDelivery)
}

func (s *WebhookStore) Task(ctx context.Context, deliveryID uuid.UUID) (webhooks.Task, error) {
	row, err := s.q(ctx).GetWebhookTask(ctx, deliveryID)
	if err != nil {
		return webhooks.Task{}, translate(err, resourceDelivery)
	}
	w, d := row.WebhookEndpoint, row.WebhookDelivery
	delivery := deliveryFromRow(db.LockWebhookDeliveryRow{ID: d.ID, PublicID: d.PublicID, EndpointPublicID: w.PublicID,
		EventPublicID: row.Event.PublicID, EventType: row.Event.Type, Status: d.Status, Attempts: d.Attempts,
		NextAttemptAt: d.NextAttemptAt, LastAttemptAt: d.LastAttemptAt, LastStatusCode: d.LastStatusCode,
		LastDurationMs: d.LastDurationMs, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt})
	return webhooks.Task{Delivery: delivery, ClaimedUntil: d.ClaimedUntil, Endpoint: endpointFromRow(w),
		EndpointDeleted: w.DeletedAt != nil, Event: eventFromRow(row.Event)}, nil
}

func (s *WebhookStore) ClaimDelivery(ctx context.Context, deliveryID uuid.UUID, now, until time.Time) (int, bool, error) {
	attempts, err := s.q(ctx).ClaimWebhookDelivery(ctx, db.ClaimWebhookDeliveryParams{DeliveryID: deliveryID, Now: now, Until: until})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, translate(err, resourceDelivery)
	}
	return int(attempts), true, nil
}

func (s *WebhookStore) LockDelivery(ctx context.Context, endpointID, deliveryID uuid.UUID) (webhooks.Delivery, error) {
	row, err := s.q(ctx).LockWebhookDelivery(ctx, db.LockWebhookDeliveryParams{DeliveryID: deliveryID, EndpointID: endpointID})
	if err != nil {
		return webhooks.Delivery{}, translate(err, resourceDelivery)
	}
	out, err := s.withAttempts(ctx, []db.LockWebhookDeliveryRow{row})
	if err != nil {
		return webhooks.Delivery{}, err
	}
	return out[0], nil
}

func (s *WebhookStore) RecordAttempt(ctx context.Context, deliveryID uuid.UUID, a webhooks.Attempt, status webhooks.DeliveryStatus, next *time.Time) error {
	p := db.RecordWebhookAttemptParams{Number: int32(a.Number), Outcome: string(a.Outcome), DurationMs: int32(a.Duration.Milliseconds()),
		Error: a.Error, AttemptedAt: a.At, Status: string(status), NextAttemptAt: next, DeliveryID: deliveryID}
	if a.StatusCode != nil {
		code := int32(*a.StatusCode)
		p.StatusCode = &code
	}
	return translate(s.q(ctx).RecordWebhookAttempt(ctx, p), resourceDelivery)
}

func (s *WebhookStore) CloseDelivery(ctx context.Context, deliveryID uuid.UUID, reason string) error {
	return translate(s.q(ctx).CloseWebhookDelivery(ctx, db.CloseWebhookDeliveryParams{PublicID: deliveryID, LastError: &reason}),
		resourceDelivery)
}

func (s *WebhookStore) Requeue(ctx context.Context, endpointID, deliveryID uuid.UUID, at time.Time) (webhooks.Delivery, error) {
	if err := s.q(ctx).RequeueWebhookDelivery(ctx, db.RequeueWebhookDeliveryParams{PublicID: deliveryID, NextAttemptAt: at}); err != nil {
		return webhooks.Delivery{}, translate(err, resourceDelivery)
	}
	return s.LockDelivery(ctx, endpointID, deliveryID)
}

var deliverySorts = map[string]sortColumn{"created_at": {expr: "d.created_at", kind: kindTime}}

const deliveryColumns = `d.id, d.public_id, w.public_id, e.public_id, e.type, d.status, d.attempts, d.next_attempt_at,
	d.last_attempt_at, d.last_status_code, d.last_duration_ms, d.last_error, d.created_at, d.updated_at`

func (s *WebhookStore) ListDeliveries(ctx context.Context, f webhooks.DeliveryFilter, req page.Request) (page.Page[webhooks.Delivery], error) {
	q := newListQuery("webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN events e ON e.id = d.event_id",
		deliveryColumns, deliverySorts)
	q.countTable, q.idExpr = "webhook_deliveries d", "d.public_id"
	q.where("d.endpoint_id = (SELECT id FROM webhook_endpoints WHERE public_id = $?)", f.EndpointID)
	if f.Status != "" {
		q.where("d.status = $?", string(f.Status))
	}
	rows, err := runList(ctx, s.DB, q, req, func(row pgx.Row, key *any) (db.LockWebhookDeliveryRow, error) {
		var r db.LockWebhookDeliveryRow
		err := row.Scan(&r.ID, &r.PublicID, &r.EndpointPublicID, &r.EventPublicID, &r.EventType, &r.Status, &r.Attempts,
			&r.NextAttemptAt, &r.LastAttemptAt, &r.LastStatusCode, &r.LastDurationMs, &r.LastError, &r.CreatedAt, &r.UpdatedAt, key)
		return r, err
	}, func(r db.LockWebhookDeliveryRow) db.LockWebhookDeliveryRow { return r },
		func(r db.LockWebhookDeliveryRow) uuid.UUID { return r.PublicID })
	if err != nil {
		return page.Page[webhooks.Delivery]{}, err
	}
	items, err := s.withAttempts(ctx, rows.Items)
	if err != nil {
		return page.Page[webhooks.Delivery]{}, err
	}
	return page.Page[webhooks.Delivery]{Items: items, Limit: rows.Limit, HasMore: rows.HasMore, NextCursor: rows.NextCursor, Total: rows.Total}, nil
}

// withAttempts loads the latest attempts of a batch of deliveries in one query.
func (s *WebhookStore) withAttempts(ctx context.Context, rows []db.LockWebhookDeliveryRow) ([]webhooks.Delivery, error) {
	out := make([]webhooks.Delivery, len(rows))
	keys := make([]int64, len(rows))
	byKey := make(map[int64]int, len(rows))
	for i, r := range rows {
		out[i], keys[i], byKey[r.ID] = deliveryFromRow(r), r.ID, i
	}
	if len(rows) == 0 {
		return out, nil
	}
	attempts, err := s.q(ctx).WebhookAttempts(ctx, keys)
	if err != nil {
		return nil, translate(err, resourceDelivery)
	}
	for _, a := range attempts {
		d := &out[byKey[a.DeliveryID]]
		d.History = append(d.History, webhooks.Attempt{Number: int(a.Number), Outcome: webhooks.Outcome(a.Outcome),
			StatusCode: intPtr(a.StatusCode), Duration: time.Duration(a.DurationMs) * time.Millisecond, Error: a.Error, At: a.CreatedAt})
	}
	return out, nil
}

func deliveryFromRow(r db.LockWebhookDeliveryRow) webhooks.Delivery {
	d := webhooks.Delivery{ID: r.PublicID, EndpointID: r.EndpointPublicID, EventID: r.EventPublicID, EventType: events.Type(r.EventType),
		Status: webhooks.DeliveryStatus(r.Status), Attempts: int(r.Attempts), NextAttemptAt: r.NextAttemptAt,
		LastAttemptAt: r.LastAttemptAt, LastStatusCode: intPtr(r.LastStatusCode), LastError: r.LastError,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.LastDurationMs != nil {
		ms := time.Duration(*r.LastDurationMs) * time.Millisecond
		d.LastDuration = &ms
	}
	return d
}

func endpointFromRow(r db.WebhookEndpoint) webhooks.Endpoint {
	types := make([]events.Type, len(r.EventTypes))
	for i, t := range r.EventTypes {
		types[i] = events.Type(t)
	}
	return webhooks.Endpoint{ID: r.PublicID, URL: r.Url, Description: r.Description, EventTypes: types, Enabled: r.Enabled,
		DisabledReason: r.DisabledReason, Secret: r.Secret, PreviousSecret: r.PreviousSecret,
		PreviousSecretExpiresAt: r.PreviousSecretExpiresAt, FailingSince: r.FailingSince, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func typeNames(ts []events.Type) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

func intPtr(p *int32) *int {
	if p == nil {
		return nil
	}
	n := int(*p)
	return &n
}
