// Package access names who is calling and what they may do: the authenticated Principal, the scopes
// that operations require, and where a request came from (Origin). It holds no token or crypto code, so
// every domain can depend on it.
package access

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// Scopes. The spec's security requirements name them; the edge enforces them, and the domains check
// the ones that depend on the resource (owner or moderator, say).
const (
	ScopeOrdersWrite   = "orders:write"
	ScopePostsWrite    = "posts:write"
	ScopeCommentsWrite = "comments:write"
	ScopePostsPublish  = "posts:publish"
	ScopePostsModerate = "posts:moderate"
	ScopeUsersAdmin    = "users:admin"
	ScopeCatalogRead   = "catalog:read" // inactive products too, without the power to change them
	ScopeCatalogWrite  = "catalog:write"
	ScopeOrdersManage  = "orders:manage"
	// ScopeEventsRead reads the event log (GET /v1/events); admins may too.
	ScopeEventsRead = "events:read"
	// ScopeWebhooksManage manages webhook endpoints and their deliveries.
	ScopeWebhooksManage = "webhooks:manage"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID uuid.UUID
	Scopes []string
	// APIKeyID is the key the caller authenticated with; uuid.Nil for an access token. A key acts as its
	// owner (UserID) with the key's scopes.
	APIKeyID uuid.UUID
}

// Has reports whether the principal holds the scope.
func (p Principal) Has(scope string) bool { return slices.Contains(p.Scopes, scope) }

// IsAdmin reports whether the principal may administer users.
func (p Principal) IsAdmin() bool { return p.Has(ScopeUsersAdmin) }

// ViaAPIKey reports whether the principal authenticated with an API key.
func (p Principal) ViaAPIKey() bool { return p.APIKeyID != uuid.Nil }

type principalKey struct{}

// WithPrincipal stores the caller in the context.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller, if the request was authenticated.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Origin is where a request came from, as the HTTP edge determined it: its request id and the client's
// address. Domains read it (for the audit log) without knowing about HTTP.
type Origin struct {
	RequestID string
	ClientIP  string
}

type originKey struct{}

// WithOrigin stores the request's origin in the context.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the request's origin; zero outside a request (the CLI, the janitor).
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}
