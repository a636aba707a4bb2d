package httpapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/webhooks"
)

// RenderResource renders a domain resource with the converter its GET uses: the outbox records this,
// so an event's data, GET /v1/events and every webhook body carry the resource exactly as the API
// served it when the change committed.
func RenderResource(resource any) (json.RawMessage, error) {
	switch r := resource.(type) {
	case orders.Order:
		return json.Marshal(toAPIOrder(r))
	case catalog.Product:
		return json.Marshal(toAPIProduct(r))
	case content.Post:
		return json.Marshal(toAPIPost(r))
	case webhooks.Endpoint:
		return json.Marshal(toAPIWebhookEndpoint(r))
	}
	return nil, fmt.Errorf("no API representation for %T", resource)
}

var _ events.Renderer = RenderResource

func (s *Server) ListEvents(ctx context.Context, req api.ListEventsRequestObject) (api.ListEventsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	prm := req.Params
	f := events.Filter{Type: events.Type(deref(prm.Type)), ResourceID: prm.ResourceId, Since: prm.Since}
	res, err := s.deps.Events.List(ctx, p, f, pageRequest((*string)(prm.Sort), prm.Limit, prm.Cursor, (*string)(prm.Count)))
	if err != nil {
		return nil, err
	}
	data, err := toAPIEvents(res)
	if err != nil {
		return nil, err
	}
	return api.ListEvents200JSONResponse{EventListOKJSONResponse: api.EventListOKJSONResponse{
		Body: api.EventList{Data: data, Meta: toAPIMeta(res)}, Headers: api.EventListOKResponseHeaders{CacheControl: "private, no-store"}}}, nil
}

func (s *Server) GetEvent(ctx context.Context, req api.GetEventRequestObject) (api.GetEventResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.deps.Events.Get(ctx, p, req.EventId)
	if err != nil {
		return nil, err
	}
	out, err := toAPIEvent(e)
	if err != nil {
		return nil, err
	}
	// Events never change: a client may keep one as long as it likes, privately.
	return api.GetEvent200JSONResponse{EventOKJSONResponse: api.EventOKJSONResponse{Body: api.EventResponse{Data: out},
		Headers: api.EventOKResponseHeaders{CacheControl: "private, max-age=86400, immutable"}}}, nil
}

func toAPIEvents(res page.Page[events.Event]) ([]api.Event, error) {
	data := make([]api.Event, 0, len(res.Items))
	for _, e := range res.Items {
		out, err := toAPIEvent(e)
		if err != nil {
			return nil, err
		}
		data = append(data, out)
	}
	return data, nil
}

func toAPIEvent(e events.Event) (api.Event, error) {
	out := api.Event{Id: e.ID, Type: api.EventType(e.Type), ResourceId: e.ResourceID, CreatedAt: e.CreatedAt.UTC()}
	// Data was rendered by RenderResource when the event was recorded; it is passed through as stored.
	if err := out.Data.UnmarshalJSON(e.Data); err != nil {
		return api.Event{}, fmt.Errorf("event %s: %w", e.ID, err)
	}
	if len(e.ChangedFields) > 0 {
		out.ChangedFields = &e.ChangedFields
	}
	if e.RequestID != "" {
		out.RequestId = &e.RequestID
	}
	return out, nil
}
