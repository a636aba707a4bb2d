package app

import (
	"context"
	"fmt"

	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/page"
)

// Demo accounts created by `storefront seed`; the README prints them. Development data only.
var DemoUsers = []identity.Registration{
	{Email: "admin@storefront.example", Password: "admin-password-123", Name: "Demo Admin", Role: identity.RoleAdmin},
	{Email: "editor@storefront.example", Password: "editor-password-123", Name: "Demo Editor", Role: identity.RoleEditor},
	{Email: "customer@storefront.example", Password: "customer-password-123", Name: "Demo Customer", Role: identity.RoleCustomer},
}

type demoProduct struct {
	name, description string
	priceCents        int64
	stock             int32
	attributes        map[string]any
}

// demoCatalog is the demo shop: category name → products.
var demoCatalog = []struct {
	category, description string
	products              []demoProduct
}{
	{"Tea", "Loose-leaf tea and infusions.", []demoProduct{
		{"Sencha Green Tea", "Steamed Japanese green tea from Shizuoka, 100 g.", 1250, 40, map[string]any{"origin": "Japan", "weight_g": 100}},
		{"Darjeeling First Flush", "Bright, floral black tea from the spring harvest, 100 g.", 1890, 25, map[string]any{"origin": "India", "weight_g": 100}},
		{"Honey Oolong", "Lightly roasted oolong with notes of honey, 75 g.", 1575, 3, map[string]any{"origin": "Taiwan", "weight_g": 75}},
		{"Chamomile Blossoms", "Whole chamomile flowers, caffeine free, 50 g.", 890, 60, map[string]any{"caffeine": false, "weight_g": 50}},
	}},
	{"Coffee", "Whole-bean coffee, roasted weekly.", []demoProduct{
		{"Ethiopia Yirgacheffe", "Light roast with citrus and jasmine, 250 g.", 1650, 30, map[string]any{"roast": "light", "weight_g": 250}},
		{"Colombia Supremo", "Medium roast, chocolate and caramel, 250 g.", 1450, 45, map[string]any{"roast": "medium", "weight_g": 250}},
		{"Espresso Blend", "Dark roast for espresso machines, 1 kg.", 3200, 12, map[string]any{"roast": "dark", "weight_g": 1000}},
	}},
	{"Teaware", "Pots, cups and tools for brewing.", []demoProduct{
		{"Cast Iron Teapot", "Enamelled cast iron teapot with infuser, 0.8 l.", 4900, 8, map[string]any{"volume_ml": 800}},
		{"Glass Cup Set", "Two double-walled glass cups, 250 ml each.", 2400, 20, map[string]any{"pieces": 2}},
		{"Bamboo Tea Scoop", "Hand-carved bamboo scoop.", 450, 100, map[string]any{"material": "bamboo"}},
		{"Last Pour-Over Kettle", "Gooseneck kettle; only one left in stock.", 3900, 1, map[string]any{"volume_ml": 1000}},
	}},
}

// Seed creates the demo users and, on an empty catalog, the demo catalog. Running it again resets the
// demo accounts' passwords and roles and leaves the catalog alone.
func (a *App) Seed(ctx context.Context) error {
	var admin identity.User
	for _, r := range DemoUsers {
		u, err := a.Identity.EnsureUser(ctx, r)
		if err != nil {
			return fmt.Errorf("seeding %s: %w", r.Email, err)
		}
		if u.Role == identity.RoleAdmin {
			admin = u
		}
		a.Logger.Info("demo user ready", "email", u.Email, "role", u.Role)
	}
	existing, err := a.Catalog.ListCategories(ctx, page.Request{Limit: 1})
	if err != nil {
		return err
	}
	if len(existing.Items) > 0 {
		a.Logger.Info("catalog already has categories; not seeding it")
		return nil
	}
	p := identity.Principal{UserID: admin.ID, Scopes: identity.RoleAdmin.Scopes()}
	for _, c := range demoCatalog {
		desc := c.description
		cat, err := a.Catalog.CreateCategory(ctx, p, catalog.CategoryFields{Name: c.category, Description: &desc})
		if err != nil {
			return fmt.Errorf("seeding category %s: %w", c.category, err)
		}
		for _, d := range c.products {
			desc := d.description
			_, err := a.Catalog.CreateProduct(ctx, p, catalog.ProductFields{Name: d.name, Description: &desc,
				PriceCents: d.priceCents, Stock: d.stock, CategoryID: &cat.ID, Attributes: d.attributes, Active: true})
			if err != nil {
				return fmt.Errorf("seeding product %s: %w", d.name, err)
			}
		}
		a.Logger.Info("demo category ready", "name", c.category, "products", len(c.products))
	}
	return nil
}
