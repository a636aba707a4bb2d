package httpapi

import (
	"context"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/identity"
)

func apiKeyOK(k identity.APIKey) api.ApiKeyOKJSONResponse {
	return api.ApiKeyOKJSONResponse{Body: api.ApiKeyResponse{Data: toAPIKey(k)},
		Headers: api.ApiKeyOKResponseHeaders{ETag: etag.Format(k.Version), CacheControl: privateRevalidate}}
}

func (s *Server) CreateApiKey(ctx context.Context, req api.CreateApiKeyRequestObject) (api.CreateApiKeyResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	scopes := make([]string, len(req.Body.Scopes))
	for i, sc := range req.Body.Scopes {
		scopes[i] = string(sc)
	}
	k, secret, err := s.deps.Identity.CreateAPIKey(ctx, p, identity.KeyRequest{Name: req.Body.Name, Scopes: scopes, ExpiresAt: req.Body.ExpiresAt})
	if err != nil {
		return nil, err
	}
	return api.CreateApiKey201JSONResponse{Body: api.ApiKeyCreatedResponse{Data: toAPIKeyWithSecret(k, secret)},
		Headers: api.CreateApiKey201ResponseHeaders{ETag: etag.Format(k.Version), Location: "/v1/api-keys/" + k.ID.String(),
			CacheControl: "no-store"}}, nil
}

func (s *Server) ListApiKeys(ctx context.Context, req api.ListApiKeysRequestObject) (api.ListApiKeysResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	prm := req.Params
	res, err := s.deps.Identity.ListAPIKeys(ctx, p, prm.OwnerId, pageRequest((*string)(prm.Sort), prm.Limit, prm.Cursor, (*string)(prm.Count)))
	if err != nil {
		return nil, err
	}
	data := make([]api.ApiKey, 0, len(res.Items))
	for _, k := range res.Items {
		data = append(data, toAPIKey(k))
	}
	return api.ListApiKeys200JSONResponse{Body: api.ApiKeyList{Data: data, Meta: toAPIMeta(res)},
		Headers: api.ListApiKeys200ResponseHeaders{CacheControl: "private, no-store"}}, nil
}

func (s *Server) GetApiKey(ctx context.Context, req api.GetApiKeyRequestObject) (api.GetApiKeyResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.deps.Identity.GetAPIKey(ctx, p, req.ApiKeyId)
	if err != nil {
		return nil, err
	}
	if c := etag.Parse(req.Params.IfNoneMatch); c.Present() && c.MatchWeak(k.Version) {
		return api.GetApiKey304Response{Headers: api.NotModifiedResponseHeaders{ETag: etag.Format(k.Version)}}, nil
	}
	return api.GetApiKey200JSONResponse{ApiKeyOKJSONResponse: apiKeyOK(k)}, nil
}

func (s *Server) UpdateApiKey(ctx context.Context, req api.UpdateApiKeyRequestObject) (api.UpdateApiKeyResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c := identity.KeyChanges{Name: req.Body.Name}
	if r := req.Body.RateLimitPerMinute; r != nil {
		n := int(*r)
		c.RateLimit = &n
	}
	k, err := s.deps.Identity.UpdateAPIKey(ctx, p, req.ApiKeyId, c, etag.Parse(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateApiKey200JSONResponse{ApiKeyOKJSONResponse: apiKeyOK(k)}, nil
}

func (s *Server) RevokeApiKey(ctx context.Context, req api.RevokeApiKeyRequestObject) (api.RevokeApiKeyResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Identity.RevokeAPIKey(ctx, p, req.ApiKeyId, etag.Parse(req.Params.IfMatch)); err != nil {
		return nil, err
	}
	return api.RevokeApiKey204Response{}, nil
}

// toAPIKey never carries the secret or its hash: the type has no field for either.
func toAPIKey(k identity.APIKey) api.ApiKey {
	out := api.ApiKey{Id: k.ID, OwnerId: k.OwnerID, Name: k.Name, Prefix: api.ApiKeyPrefix(k.Prefix), LastFour: k.LastFour,
		Scopes: make([]api.Scope, 0, len(k.Scopes)), ExpiresAt: utc(k.ExpiresAt), LastUsedAt: utc(k.LastUsedAt),
		RevokedAt: utc(k.RevokedAt), CreatedAt: k.CreatedAt.UTC(), UpdatedAt: k.UpdatedAt.UTC()}
	for _, sc := range k.Scopes {
		out.Scopes = append(out.Scopes, api.Scope(sc))
	}
	if k.RateLimit > 0 {
		r := int32(k.RateLimit)
		out.RateLimitPerMinute = &r
	}
	return out
}

func toAPIKeyWithSecret(k identity.APIKey, secret string) api.ApiKeyWithSecret {
	a := toAPIKey(k)
	return api.ApiKeyWithSecret{Id: a.Id, OwnerId: a.OwnerId, Name: a.Name, Prefix: api.ApiKeyWithSecretPrefix(a.Prefix),
		LastFour: a.LastFour, Scopes: a.Scopes, RateLimitPerMinute: a.RateLimitPerMinute, ExpiresAt: a.ExpiresAt,
		LastUsedAt: a.LastUsedAt, RevokedAt: a.RevokedAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Secret: secret}
}
