package httpapi

import (
	"context"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/httpapi/edge"
	"github.com/storefront/storefront/internal/identity"
)

func (s *Server) Login(ctx context.Context, req api.LoginRequestObject) (api.LoginResponseObject, error) {
	t, err := s.deps.Identity.Login(ctx, string(req.Body.Email), req.Body.Password, edge.ClientIP(ctx))
	if err != nil {
		return nil, err
	}
	return api.Login200JSONResponse{TokensJSONResponse: tokensOK(t)}, nil
}

func (s *Server) RefreshTokens(ctx context.Context, req api.RefreshTokensRequestObject) (api.RefreshTokensResponseObject, error) {
	t, err := s.deps.Identity.Refresh(ctx, req.Body.RefreshToken)
	if err != nil {
		return nil, err
	}
	return api.RefreshTokens200JSONResponse{TokensJSONResponse: tokensOK(t)}, nil
}

func (s *Server) Logout(ctx context.Context, req api.LogoutRequestObject) (api.LogoutResponseObject, error) {
	if err := s.deps.Identity.Logout(ctx, req.Body.RefreshToken); err != nil {
		return nil, err
	}
	return api.Logout204Response{}, nil
}

func tokensOK(t identity.Tokens) api.TokensJSONResponse {
	return api.TokensJSONResponse{Body: toAPITokens(t), Headers: api.TokensResponseHeaders{CacheControl: "no-store"}}
}

func toAPITokens(t identity.Tokens) api.TokenResponse {
	return api.TokenResponse{Data: api.TokenPair{
		AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: api.Bearer,
		ExpiresIn: int32(t.ExpiresIn.Seconds()),
	}}
}
