package httpapi_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/orders"
)

// The domain's bounds are the spec's: a value the spec allows is never refused by a rule the client
// cannot see, and a value the domain accepts is never served back outside the documented schema.
func TestDomainBoundsMatchSpec(t *testing.T) {
	doc, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	schema := func(path ...string) *openapi3.Schema {
		t.Helper()
		s := doc.Components.Schemas[path[0]].Value
		for _, p := range path[1:] {
			if p == "[]" {
				s = s.Items.Value
				continue
			}
			ref, ok := s.Properties[p]
			if !ok {
				t.Fatalf("%v: no property %s", path, p)
			}
			s = ref.Value
		}
		return s
	}
	maxLen := func(path ...string) int64 { return int64(*schema(path...).MaxLength) }
	maximum := func(path ...string) int64 { return int64(*schema(path...).Max) }
	checks := []struct {
		name         string
		domain, spec int64
	}{
		{"product name", catalog.MaxProductName, maxLen("ProductCreate", "name")},
		{"product description", catalog.MaxProductDescription, maxLen("ProductCreate", "description")},
		{"price", catalog.MaxPriceCents, maximum("ProductCreate", "price_cents")},
		{"stock", catalog.MaxStock, maximum("ProductCreate", "stock")},
		{"attributes", catalog.MaxAttributes, int64(*schema("ProductCreate", "attributes").MaxProps)},
		{"category name", catalog.MaxCategoryName, maxLen("CategoryCreate", "name")},
		{"category description", catalog.MaxCategoryDescription, maxLen("CategoryCreate", "description")},
		{"post title", content.MaxTitle, maxLen("PostCreate", "title")},
		{"post body", content.MaxBody, maxLen("PostCreate", "body")},
		{"post excerpt", content.MaxExcerpt, maxLen("PostCreate", "excerpt")},
		{"post tags", content.MaxTags, int64(*schema("PostCreate", "tags").MaxItems)},
		{"comment", content.MaxComment, maxLen("CommentCreate", "body")},
		{"order lines", orders.MaxLines, int64(*schema("OrderCreate", "items").MaxItems)},
		{"order quantity", orders.MaxQuantity, maximum("OrderCreate", "items", "[]", "quantity")},
		{"order total", orders.MaxTotalCents, maximum("Order", "total_cents")},
		{"order subtotal", orders.MaxTotalCents, maximum("Order", "subtotal_cents")},
		{"order line total", orders.MaxTotalCents, maximum("OrderItem", "line_total_cents")},
		{"password (max)", identity.MaxPasswordLen, maxLen("UserRegistration", "password")},
		{"password (min)", identity.MinPasswordLen, int64(schema("UserRegistration", "password").MinLength)},
		{"user name", identity.MaxNameLen, maxLen("UserRegistration", "name")},
		{"email", identity.MaxEmailLen, maxLen("UserRegistration", "email")},
	}
	for field, most := range orders.AddressMaxLen {
		checks = append(checks, struct {
			name         string
			domain, spec int64
		}{"shipping address " + field, int64(most), maxLen("ShippingAddress", field)})
	}
	for _, c := range checks {
		if c.domain != c.spec {
			t.Errorf("%s: the domain allows %d, the spec %d", c.name, c.domain, c.spec)
		}
	}
	if n := len(orders.AddressMaxLen); n != len(schema("ShippingAddress").Properties)-1 { // all but country
		t.Errorf("the domain bounds %d address fields, the spec has %d", n, len(schema("ShippingAddress").Properties))
	}
}
