package app

import (
	"context"
	"fmt"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/content"
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

// demoPosts are published by the demo editor; each gets the listed comments from the demo customer.
var demoPosts = []struct {
	title, excerpt, body string
	tags, comments       []string
}{
	{"Brewing green tea without bitterness", "Cooler water, shorter steeps.",
		"Green tea turns bitter when the water is too hot. Use water at 70 to 80 °C and steep for one to two minutes. Sencha rewards a second, shorter infusion.",
		[]string{"tea", "brewing", "green-tea"}, []string{"Two minutes at 75 °C was perfect, thank you!", "Does this work for matcha too?"}},
	{"Darjeeling, the champagne of teas", "A short history of the first flush.",
		"Darjeeling's first flush is picked in early spring. Its bright, floral cup earned it the nickname the champagne of teas.",
		[]string{"tea", "history"}, []string{"My favourite morning cup."}},
	{"Pour-over coffee in five steps", "Grind, bloom, pour, wait, enjoy.",
		"Grind medium-fine, rinse the filter, bloom with twice the coffee's weight in water for 30 seconds, then pour slowly in circles. Aim for three minutes in all.",
		[]string{"coffee", "brewing"}, nil},
}

// Seed creates the demo users, and on an empty database the demo catalog and posts. Running it again
// resets the demo accounts' passwords and roles and leaves catalog and posts alone.
func (a *App) Seed(ctx context.Context) error {
	users := map[identity.Role]identity.User{}
	for _, r := range DemoUsers {
		u, err := a.Identity.EnsureUser(ctx, r)
		if err != nil {
			return fmt.Errorf("seeding %s: %w", r.Email, err)
		}
		users[u.Role] = u
		a.Logger.Info("demo user ready", "email", u.Email, "role", u.Role)
	}
	if err := a.seedCatalog(ctx, users[identity.RoleAdmin]); err != nil {
		return err
	}
	return a.seedPosts(ctx, users[identity.RoleEditor], users[identity.RoleCustomer])
}

func principalOf(u identity.User) access.Principal {
	return access.Principal{UserID: u.ID, Scopes: u.Role.Scopes()}
}

func (a *App) seedPosts(ctx context.Context, editor, customer identity.User) error {
	ed, cu := principalOf(editor), principalOf(customer)
	existing, err := a.Content.List(ctx, &ed, content.Filter{}, page.Request{Limit: 1})
	if err != nil {
		return err
	}
	if len(existing.Items) > 0 {
		a.Logger.Info("posts already exist; not seeding them")
		return nil
	}
	published := content.StatusPublished
	for _, d := range demoPosts {
		excerpt := d.excerpt
		p, err := a.Content.Create(ctx, ed, editor.ID, content.Fields{Title: d.title, Body: d.body, Excerpt: &excerpt, Tags: d.tags, Status: &published})
		if err != nil {
			return fmt.Errorf("seeding post %q: %w", d.title, err)
		}
		for _, c := range d.comments {
			if _, err := a.Content.Comment(ctx, cu, p.ID, c); err != nil {
				return fmt.Errorf("seeding comment: %w", err)
			}
		}
	}
	a.Logger.Info("demo posts ready", "posts", len(demoPosts))
	return nil
}

func (a *App) seedCatalog(ctx context.Context, admin identity.User) error {
	existing, err := a.Catalog.ListCategories(ctx, page.Request{Limit: 1})
	if err != nil {
		return err
	}
	if len(existing.Items) > 0 {
		a.Logger.Info("catalog already has categories; not seeding it")
		return nil
	}
	p := principalOf(admin)
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
