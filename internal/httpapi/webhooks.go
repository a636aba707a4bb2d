package httpapi

import (
	"context"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/webhooks"
)

func webhookEndpointOK(e webhooks.Endpoint) api.WebhookEndpointOKJSONResponse {
	return api.WebhookEndpointOKJSONResponse{Body: api.WebhookEndpointResponse{Data: toAPIWebhookEndpoint(e)},
		Headers: api.WebhookEndpointOKResponseHeaders{ETag: etag.Format(e.Version), CacheControl: privateRevalidate}}
}

func (s *Server) ListWebhookEndpoints(ctx context.Context, req api.ListWebhookEndpointsRequestObject) (api.ListWebhookEndpointsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	prm := req.Params
	res, err := s.deps.Webhooks.ListEndpoints(ctx, p, pageRequest((*string)(prm.Sort), prm.Limit, prm.Cursor, (*string)(prm.Count)))
	if err != nil {
		return nil, err
	}
	data := make([]api.WebhookEndpoint, 0, len(res.Items))
	for _, e := range res.Items {
		data = append(data, toAPIWebhookEndpoint(e))
	}
	return api.ListWebhookEndpoints200JSONResponse{Body: api.WebhookEndpointList{Data: data, Meta: toAPIMeta(res)},
		Headers: api.ListWebhookEndpoints200ResponseHeaders{CacheControl: "private, no-store"}}, nil
}

func (s *Server) CreateWebhookEndpoint(ctx context.Context, req api.CreateWebhookEndpointRequestObject) (api.CreateWebhookEndpointResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	f := webhooks.Fields{URL: b.Url, Description: b.Description, EventTypes: eventTypes(b.EventTypes), Enabled: true}
	if b.Enabled != nil {
		f.Enabled = *b.Enabled
	}
	e, err := s.deps.Webhooks.CreateEndpoint(ctx, p, f)
	if err != nil {
		return nil, err
	}
	return api.CreateWebhookEndpoint201JSONResponse{Body: api.WebhookEndpointResponse{Data: withSecret(e)},
		Headers: api.CreateWebhookEndpoint201ResponseHeaders{ETag: etag.Format(e.Version), Location: "/v1/webhook-endpoints/" + e.ID.String()}}, nil
}

func (s *Server) GetWebhookEndpoint(ctx context.Context, req api.GetWebhookEndpointRequestObject) (api.GetWebhookEndpointResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.deps.Webhooks.Endpoint(ctx, p, req.WebhookEndpointId)
	if err != nil {
		return nil, err
	}
	if m := etag.Parse(req.Params.IfNoneMatch); m.Present() && m.MatchWeak(e.Version) {
		return api.GetWebhookEndpoint304Response{Headers: api.NotModifiedResponseHeaders{ETag: etag.Format(e.Version)}}, nil
	}
	return api.GetWebhookEndpoint200JSONResponse{WebhookEndpointOKJSONResponse: webhookEndpointOK(e)}, nil
}

func (s *Server) UpdateWebhookEndpoint(ctx context.Context, req api.UpdateWebhookEndpointRequestObject) (api.UpdateWebhookEndpointResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	c := webhooks.Patch{URL: b.Url, Description: b.Description, Enabled: b.Enabled}
	if b.EventTypes != nil {
		types := eventTypes(*b.EventTypes)
		c.EventTypes = &types
	}
	e, err := s.deps.Webhooks.UpdateEndpoint(ctx, p, req.WebhookEndpointId, c, etag.Parse(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateWebhookEndpoint200JSONResponse{WebhookEndpointOKJSONResponse: webhookEndpointOK(e)}, nil
}

func (s *Server) DeleteWebhookEndpoint(ctx context.Context, req api.DeleteWebhookEndpointRequestObject) (api.DeleteWebhookEndpointResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Webhooks.DeleteEndpoint(ctx, p, req.WebhookEndpointId, etag.Parse(req.Params.IfMatch)); err != nil {
		return nil, err
	}
	return api.DeleteWebhookEndpoint204Response{}, nil
}

func (s *Server) RotateWebhookEndpointSecret(ctx context.Context, req api.RotateWebhookEndpointSecretRequestObject) (api.RotateWebhookEndpointSecretResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.deps.Webhooks.RotateSecret(ctx, p, req.WebhookEndpointId)
	if err != nil {
		return nil, err
	}
	return api.RotateWebhookEndpointSecret200JSONResponse{Body: api.WebhookEndpointResponse{Data: withSecret(e)},
		Headers: api.RotateWebhookEndpointSecret200ResponseHeaders{ETag: etag.Format(e.Version)}}, nil
}

func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	prm := req.Params
	res, err := s.deps.Webhooks.Deliveries(ctx, p, req.WebhookEndpointId, webhooks.DeliveryStatus(deref(prm.Status)),
		pageRequest((*string)(prm.Sort), prm.Limit, prm.Cursor, (*string)(prm.Count)))
	if err != nil {
		return nil, err
	}
	return api.ListWebhookDeliveries200JSONResponse{Body: api.WebhookDeliveryList{Data: toAPIDeliveries(res), Meta: toAPIMeta(res)},
		Headers: api.ListWebhookDeliveries200ResponseHeaders{CacheControl: "private, no-store"}}, nil
}

func (s *Server) RetryWebhookDelivery(ctx context.Context, req api.RetryWebhookDeliveryRequestObject) (api.RetryWebhookDeliveryResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.deps.Webhooks.RetryDelivery(ctx, p, req.WebhookEndpointId, req.DeliveryId)
	if err != nil {
		return nil, err
	}
	return api.RetryWebhookDelivery202JSONResponse{Body: api.WebhookDeliveryResponse{Data: toAPIDelivery(d)}}, nil
}

func eventTypes(ts []api.EventType) []events.Type {
	out := make([]events.Type, len(ts))
	for i, t := range ts {
		out[i] = events.Type(t)
	}
	return out
}

// toAPIWebhookEndpoint never includes the secret; withSecret does, for the two answers that show it.
func toAPIWebhookEndpoint(e webhooks.Endpoint) api.WebhookEndpoint {
	out := api.WebhookEndpoint{Id: e.ID, Url: e.URL, Description: e.Description, Enabled: e.Enabled,
		EventTypes: make([]api.EventType, len(e.EventTypes)), CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
	for i, t := range e.EventTypes {
		out.EventTypes[i] = api.EventType(t)
	}
	if e.DisabledReason != nil {
		r := api.WebhookEndpointDisabledReason(*e.DisabledReason)
		out.DisabledReason = &r
	}
	out.PreviousSecretExpiresAt = utc(e.PreviousSecretExpiresAt)
	return out
}

func withSecret(e webhooks.Endpoint) api.WebhookEndpoint {
	out := toAPIWebhookEndpoint(e)
	secret := webhooks.FormatSecret(e.Secret)
	out.Secret = &secret
	return out
}

func toAPIDeliveries(res page.Page[webhooks.Delivery]) []api.WebhookDelivery {
	out := make([]api.WebhookDelivery, 0, len(res.Items))
	for _, d := range res.Items {
		out = append(out, toAPIDelivery(d))
	}
	return out
}

func toAPIDelivery(d webhooks.Delivery) api.WebhookDelivery {
	out := api.WebhookDelivery{Id: d.ID, EndpointId: d.EndpointID, EventId: d.EventID, EventType: api.EventType(d.EventType),
		Status: api.WebhookDeliveryStatus(d.Status), AttemptCount: int32(d.Attempts), NextAttemptAt: utc(d.NextAttemptAt),
		LastAttemptAt: utc(d.LastAttemptAt), LastStatusCode: int32Ptr(d.LastStatusCode), LastError: d.LastError,
		Attempts: make([]api.WebhookAttempt, 0, len(d.History)), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if d.LastDuration != nil {
		ms := int32(d.LastDuration.Milliseconds())
		out.LastDurationMs = &ms
	}
	for _, a := range d.History {
		out.Attempts = append(out.Attempts, api.WebhookAttempt{Number: int32(a.Number), Outcome: api.WebhookAttemptOutcome(a.Outcome),
			StatusCode: int32Ptr(a.StatusCode), DurationMs: int32(a.Duration.Milliseconds()), Error: a.Error, AttemptedAt: a.At.UTC()})
	}
	return out
}

func int32Ptr(p *int) *int32 {
	if p == nil {
		return nil
	}
	n := int32(*p)
	return &n
}
