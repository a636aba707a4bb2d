package edge

import (
	"slices"
	"testing"

	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/identity"
)

// The spec's enums of scopes, audit actions and audit resource types are the domain's lists, both ways:
// a key can be minted with every scope a role grants, and every entry the log writes can be decoded.
func TestSpecEnumsMatchTheDomain(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	enum := func(schema string) []string {
		var out []string
		for _, v := range ct.doc.Components.Schemas[schema].Value.Enum {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	sorted := func(in []string) []string {
		out := slices.Clone(in)
		slices.Sort(out)
		return out
	}
	var actions []string
	for _, a := range audit.Actions {
		actions = append(actions, string(a))
	}
	for schema, want := range map[string][]string{
		"Scope":             identity.KnownScopes(),
		"AuditAction":       actions,
		"AuditResourceType": audit.ResourceTypes,
	} {
		if got := enum(schema); !slices.Equal(got, sorted(want)) {
			t.Errorf("%s: spec %v, domain %v", schema, got, sorted(want))
		}
	}
}
