package httpapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/audit"
)

func (s *Server) ListAuditEvents(ctx context.Context, req api.ListAuditEventsRequestObject) (api.ListAuditEventsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	prm := req.Params
	f := audit.Filter{ActorID: deref(prm.ActorId), ResourceID: deref(prm.ResourceId), ResourceType: string(deref(prm.ResourceType)),
		Action: audit.Action(deref(prm.Action)), Since: deref(prm.Since), Until: deref(prm.Until)}
	res, err := s.deps.Audit.List(ctx, p, f, pageRequest((*string)(prm.Sort), prm.Limit, prm.Cursor, (*string)(prm.Count)))
	if err != nil {
		return nil, err
	}
	data := make([]api.AuditEvent, 0, len(res.Items))
	for _, e := range res.Items {
		data = append(data, toAPIAuditEvent(e))
	}
	return api.ListAuditEvents200JSONResponse{Body: api.AuditEventList{Data: data, Meta: toAPIMeta(res)},
		Headers: api.ListAuditEvents200ResponseHeaders{CacheControl: "private, no-store"}}, nil
}

func toAPIAuditEvent(e audit.Entry) api.AuditEvent {
	return api.AuditEvent{Id: e.ID, OccurredAt: e.OccurredAt.UTC(), ActorId: idOrNil(e.ActorID), ApiKeyId: idOrNil(e.APIKeyID),
		Action: api.AuditAction(e.Action), ResourceType: api.AuditResourceType(e.ResourceType), ResourceId: idOrNil(e.ResourceID),
		RequestId: stringOrNil(e.RequestID), ClientIp: stringOrNil(e.ClientIP), Changes: e.Changes}
}

func idOrNil(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func stringOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
