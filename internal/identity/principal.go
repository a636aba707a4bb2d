package identity

import (
	"context"
	"slices"

	"github.com/google/uuid"
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
