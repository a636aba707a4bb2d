package catalog

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/page"
)

func fields(f func(*ProductFields)) ProductFields {
	p := ProductFields{Name: "Sencha", PriceCents: 1250, Currency: "USD", Stock: 40, Attributes: map[string]any{}, Active: true}
	if f != nil {
		f(&p)
	}
	return p
}

// fieldsOf returns the fields the validation error names.
func fieldsIn(err error) []string {
	e, ok := apperr.As(err)
	if !ok {
		return nil
	}
	var out []string
	for _, d := range e.Details {
		out = append(out, d.Field)
	}
	return out
}

func TestValidateProduct(t *testing.T) {
	many := map[string]any{}
	for i := range MaxAttributes + 1 {
		many[strings.Repeat("k", i+1)] = i
	}
	tests := []struct {
		name  string
		f     ProductFields
		wrong []string
	}{
		{"ok", fields(nil), nil},
		{"free", fields(func(p *ProductFields) { p.PriceCents = 0 }), nil},
		{"most expensive", fields(func(p *ProductFields) { p.PriceCents = MaxPriceCents }), nil},
		{"too expensive", fields(func(p *ProductFields) { p.PriceCents = MaxPriceCents + 1 }), []string{"price_cents"}},
		{"negative price", fields(func(p *ProductFields) { p.PriceCents = -1 }), []string{"price_cents"}},
		{"blank name", fields(func(p *ProductFields) { p.Name = "   " }), []string{"name"}},
		{"name of 200 characters", fields(func(p *ProductFields) { p.Name = strings.Repeat("é", 200) }), nil},
		{"name of 201 characters", fields(func(p *ProductFields) { p.Name = strings.Repeat("é", 201) }), []string{"name"}},
		{"lower-case currency", fields(func(p *ProductFields) { p.Currency = "usd" }), []string{"currency"}},
		{"negative stock", fields(func(p *ProductFields) { p.Stock = -1 }), []string{"stock"}},
		{"too much stock", fields(func(p *ProductFields) { p.Stock = MaxStock + 1 }), []string{"stock"}},
		{"too many attributes", fields(func(p *ProductFields) { p.Attributes = many }), []string{"attributes"}},
		{"attributes too large", fields(func(p *ProductFields) { p.Attributes = map[string]any{"a": strings.Repeat("x", MaxAttributeBytes)} }), []string{"attributes"}},
		{"long description", fields(func(p *ProductFields) { p.Description = new(string); *p.Description = strings.Repeat("d", 10001) }), []string{"description"}},
		{"everything wrong at once", fields(func(p *ProductFields) { p.Name, p.Currency, p.Stock = "", "X", -5 }), []string{"name", "currency", "stock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateProduct(tt.f)
			got := fieldsIn(err)
			if strings.Join(got, ",") != strings.Join(tt.wrong, ",") || (err == nil) != (len(tt.wrong) == 0) {
				t.Fatalf("validateProduct named %v (err %v), want %v", got, err, tt.wrong)
			}
		})
	}
}

func TestValidateCategory(t *testing.T) {
	long := strings.Repeat("x", 2001)
	tests := []struct {
		name  string
		f     CategoryFields
		wrong []string
	}{
		{"ok", CategoryFields{Name: "Tea"}, nil},
		{"empty name", CategoryFields{Name: ""}, []string{"name"}},
		{"name of 101 characters", CategoryFields{Name: strings.Repeat("n", 101)}, []string{"name"}},
		{"long description", CategoryFields{Name: "Tea", Description: &long}, []string{"description"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fieldsIn(validateCategory(tt.f)); strings.Join(got, ",") != strings.Join(tt.wrong, ",") {
				t.Fatalf("named %v, want %v", got, tt.wrong)
			}
		})
	}
}

func TestPatchAndReplace(t *testing.T) {
	cat := uuid.New()
	base := Product{Name: "Old", PriceCents: 100, Currency: "EUR", Stock: 1, Attributes: map[string]any{"a": 1}, Active: true}
	tests := []struct {
		name   string
		change func(*Product)
		want   func(Product) bool
	}{
		{"empty patch changes nothing", func(p *Product) { apply(p, ProductPatch{}) },
			func(p Product) bool {
				return p.Name == "Old" && p.PriceCents == 100 && p.Active && p.Attributes["a"] == 1
			}},
		{"patch changes only what it names", func(p *Product) {
			apply(p, ProductPatch{PriceCents: new(int64), Active: new(bool), CategoryID: &cat})
		}, func(p Product) bool {
			return p.PriceCents == 0 && !p.Active && *p.CategoryID == cat && p.Name == "Old" && p.Currency == "EUR"
		}},
		{"replace defaults the currency and attributes", func(p *Product) { set(p, withDefaults(ProductFields{Name: "New", Active: true})) },
			func(p Product) bool {
				return p.Currency == DefaultCurrency && p.Attributes != nil && len(p.Attributes) == 0 && p.Name == "New"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			tt.change(&p)
			if !tt.want(p) {
				t.Fatalf("got %+v", p)
			}
		})
	}
}

func TestProductListRules(t *testing.T) {
	tests := []struct {
		name, q, sort, want string
		wrong               bool
	}{
		{"default is newest first", "", "", "-created_at", false},
		{"search defaults to relevance", "tea", "", "relevance", false},
		{"price descending", "", "-price", "-price", false},
		{"relevance without q", "", "relevance", "", true},
		{"unknown sort", "", "stock", "", true},
		{"relevance with q", "tea", "-relevance", "-relevance", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := page.Request{Sort: tt.sort}.SortedBySearch(tt.q, "-created_at", ProductSorts...)
			if tt.wrong {
				if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || e.Details[0].Field != "sort" {
					t.Fatalf("err = %v, want a sort validation error", err)
				}
				return
			}
			if err != nil || got.Sort != tt.want || got.Limit != page.DefaultLimit {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestDomainAnswers(t *testing.T) {
	if err := requireWriter(access.Principal{Scopes: []string{access.ScopeOrdersWrite}}); !apperr.IsKind(err, apperr.KindForbidden) {
		t.Fatalf("a customer may write the catalog: %v", err)
	}
	if err := requireWriter(access.Principal{Scopes: []string{access.ScopeCatalogWrite}}); err != nil {
		t.Fatalf("a catalog writer may not: %v", err)
	}
	if e, _ := apperr.As(unknownCategory(apperr.NotFound("category"))); e == nil || e.Kind != apperr.KindUnprocessable || e.Details[0].Field != "category_id" {
		t.Fatalf("unknown category answered %v", e)
	}
	if err := unknownCategory(apperr.NotFound("product")); !apperr.IsNotFound(err, "product") {
		t.Fatalf("a missing product became %v", err)
	}
	if e, _ := apperr.As(categoryNameTaken(apperr.Duplicate("category", "name"))); e == nil || e.Kind != apperr.KindConflict || e.Details[0].Field != "name" {
		t.Fatalf("taken name answered %v", e)
	}
}
