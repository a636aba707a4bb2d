package app

import (
	"context"
	"fmt"

	"github.com/storefront/storefront/internal/identity"
)

// Demo accounts created by `storefront seed`; the README prints them. Development data only.
var DemoUsers = []identity.Registration{
	{Email: "admin@storefront.example", Password: "admin-password-123", Name: "Demo Admin", Role: identity.RoleAdmin},
	{Email: "editor@storefront.example", Password: "editor-password-123", Name: "Demo Editor", Role: identity.RoleEditor},
	{Email: "customer@storefront.example", Password: "customer-password-123", Name: "Demo Customer", Role: identity.RoleCustomer},
}

// Seed creates the demo data; running it again resets the demo accounts' passwords and roles.
func (a *App) Seed(ctx context.Context) error {
	for _, r := range DemoUsers {
		u, err := a.Identity.EnsureUser(ctx, r)
		if err != nil {
			return fmt.Errorf("seeding %s: %w", r.Email, err)
		}
		a.Logger.Info("demo user ready", "email", u.Email, "role", u.Role)
	}
	return nil
}
