package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/page"
)

// AuditStore implements audit.Store over the append-only audit_events table.
type AuditStore struct{ *DB }

var _ audit.Store = (*AuditStore)(nil)

// NewAuditStore returns a store over the pool.
func NewAuditStore(d *DB) *AuditStore { return &AuditStore{d} }

func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *AuditStore) InsertEntry(ctx context.Context, e audit.Entry) error {
	changes, err := json.Marshal(e.Changes)
	if err != nil {
		return apperr.Internal(fmt.Errorf("encoding audit changes: %w", err))
	}
	return translate(s.q(ctx).InsertAuditEvent(ctx, db.InsertAuditEventParams{
		PublicID: e.ID, ActorID: nilIfZero(e.ActorID), ApiKeyID: nilIfZero(e.APIKeyID), Action: string(e.Action),
		ResourceType: e.ResourceType, ResourceID: nilIfZero(e.ResourceID), RequestID: nilIfEmpty(e.RequestID),
		ClientIp: nilIfEmpty(e.ClientIP), Changes: changes,
	}), "audit event")
}

func entryFromRow(r db.AuditEvent) audit.Entry {
	e := audit.Entry{ID: r.PublicID, OccurredAt: r.OccurredAt, Action: audit.Action(r.Action), ResourceType: r.ResourceType, Changes: audit.Changes{}}
	if r.ActorID != nil {
		e.ActorID = *r.ActorID
	}
	if r.ApiKeyID != nil {
		e.APIKeyID = *r.ApiKeyID
	}
	if r.ResourceID != nil {
		e.ResourceID = *r.ResourceID
	}
	if r.RequestID != nil {
		e.RequestID = *r.RequestID
	}
	if r.ClientIp != nil {
		e.ClientIP = *r.ClientIp
	}
	_ = json.Unmarshal(r.Changes, &e.Changes) // written by InsertEntry from a map: always an object
	return e
}

var auditSorts = map[string]sortColumn{"occurred_at": {expr: "occurred_at", kind: kindTime}}

const auditColumns = "id, public_id, occurred_at, actor_id, api_key_id, action, resource_type, resource_id, request_id, client_ip, changes"

func (s *AuditStore) ListEntries(ctx context.Context, f audit.Filter, req page.Request) (page.Page[audit.Entry], error) {
	q := newListQuery("audit_events", auditColumns, auditSorts)
	q.base("true")
	if f.ActorID != uuid.Nil {
		q.where("actor_id = $?", f.ActorID)
	}
	if f.ResourceType != "" {
		q.where("resource_type = $?", f.ResourceType)
	}
	if f.ResourceID != uuid.Nil {
		q.where("resource_id = $?", f.ResourceID)
	}
	if f.Action != "" {
		q.where("action = $?", string(f.Action))
	}
	if !f.Since.IsZero() {
		q.where("occurred_at >= $?", f.Since)
	}
	if !f.Until.IsZero() {
		q.where("occurred_at < $?", f.Until)
	}
	return runList(ctx, s.DB, q, req, scanAuditEvent, entryFromRow, func(e audit.Entry) uuid.UUID { return e.ID })
}

func scanAuditEvent(row pgx.Row, key *any) (db.AuditEvent, error) {
	var r db.AuditEvent
	err := row.Scan(&r.ID, &r.PublicID, &r.OccurredAt, &r.ActorID, &r.ApiKeyID, &r.Action, &r.ResourceType, &r.ResourceID,
		&r.RequestID, &r.ClientIp, &r.Changes, key)
	return r, err
}
