package httpapi

import (
	"context"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/httpapi/edge"
	"github.com/storefront/storefront/internal/identity"
)

// privateRevalidate lets the caller's own cache keep a response but revalidate it with its ETag.
const privateRevalidate = "private, no-cache"

func principal(ctx context.Context) (access.Principal, error) {
	p, ok := access.PrincipalFrom(ctx)
	if !ok {
		return access.Principal{}, edge.ErrNoToken
	}
	return p, nil
}

func userOK(u identity.User) api.UserOKJSONResponse {
	return api.UserOKJSONResponse{
		Body:    api.UserResponse{Data: toAPIUser(u)},
		Headers: api.UserOKResponseHeaders{ETag: etag.Format(u.Version), CacheControl: privateRevalidate},
	}
}

func (s *Server) RegisterUser(ctx context.Context, req api.RegisterUserRequestObject) (api.RegisterUserResponseObject, error) {
	u, err := s.deps.Identity.Register(ctx, identity.Registration{
		Email: string(req.Body.Email), Password: req.Body.Password, Name: req.Body.Name,
	})
	if err != nil {
		return nil, err
	}
	return api.RegisterUser201JSONResponse{
		Body:    api.UserResponse{Data: toAPIUser(u)},
		Headers: api.RegisterUser201ResponseHeaders{ETag: etag.Format(u.Version), Location: "/v1/users/" + u.ID.String()},
	}, nil
}

func (s *Server) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.deps.Identity.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	return api.GetMe200JSONResponse{UserOKJSONResponse: userOK(u)}, nil
}

func (s *Server) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.deps.Identity.Get(ctx, p, req.UserId)
	if err != nil {
		return nil, err
	}
	if c := etag.Parse(req.Params.IfNoneMatch); c.Present() && c.MatchWeak(u.Version) {
		return api.GetUser304Response{Headers: api.NotModifiedResponseHeaders{ETag: etag.Format(u.Version)}}, nil
	}
	return api.GetUser200JSONResponse{UserOKJSONResponse: userOK(u)}, nil
}

func (s *Server) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	prm := req.Params
	f := identity.UserFilter{Q: deref(prm.Q)}
	if prm.Role != nil {
		f.Role = identity.Role(*prm.Role)
	}
	if prm.Status != nil {
		f.Status = identity.Status(*prm.Status)
	}
	res, err := s.deps.Identity.List(ctx, p, f, pageRequest((*string)(prm.Sort), prm.Limit, prm.Cursor, (*string)(prm.Count)))
	if err != nil {
		return nil, err
	}
	data := make([]api.User, 0, len(res.Items))
	for _, u := range res.Items {
		data = append(data, toAPIUser(u))
	}
	return api.ListUsers200JSONResponse{
		Body:    api.UserList{Data: data, Meta: toAPIMeta(res)},
		Headers: api.ListUsers200ResponseHeaders{CacheControl: "private, no-store"},
	}, nil
}

func (s *Server) ReplaceUser(ctx context.Context, req api.ReplaceUserRequestObject) (api.ReplaceUserResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	email, name := string(b.Email), b.Name
	c := identity.Changes{Email: &email, Name: &name, Role: (*identity.Role)(b.Role), Status: (*identity.Status)(b.Status)}
	u, err := s.deps.Identity.Update(ctx, p, req.UserId, c, etag.Parse(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.ReplaceUser200JSONResponse{UserOKJSONResponse: userOK(u)}, nil
}

func (s *Server) UpdateUser(ctx context.Context, req api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	c := identity.Changes{
		Email: (*string)(b.Email), Name: b.Name, Password: b.Password, CurrentPassword: b.CurrentPassword,
		Role: (*identity.Role)(b.Role), Status: (*identity.Status)(b.Status),
	}
	u, err := s.deps.Identity.Update(ctx, p, req.UserId, c, etag.Parse(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse{UserOKJSONResponse: userOK(u)}, nil
}

func (s *Server) DeleteUser(ctx context.Context, req api.DeleteUserRequestObject) (api.DeleteUserResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Identity.Delete(ctx, p, req.UserId, etag.Parse(req.Params.IfMatch)); err != nil {
		return nil, err
	}
	return api.DeleteUser204Response{}, nil
}

func toAPIUser(u identity.User) api.User {
	return api.User{
		Id: u.ID, Email: api.Email(u.Email), Name: u.Name, Role: api.Role(u.Role), Status: api.UserStatus(u.Status),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
}
