// Package access names who is calling and what they may do: the authenticated Principal and the
// scopes that operations require. It holds no token or crypto code, so every domain can depend on it.
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
}

// Has reports whether the principal holds the scope.
func (p Principal) Has(scope string) bool { return slices.Contains(p.Scopes, scope) }

// IsAdmin reports whether the principal may administer users.
func (p Principal) IsAdmin() bool { return p.Has(ScopeUsersAdmin) }

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
