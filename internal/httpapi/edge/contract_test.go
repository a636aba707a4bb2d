package edge

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// Requests are validated with kin-openapi's built-in validator (see loadContract). That is only right
// while the spec uses no keyword that JSON Schema 2020-12 reads differently or the built-in validator
// does not know; this test keeps it so.
func TestSpecKeepsToSharedKeywords(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if s.Type != nil && len(s.Type.Slice()) > 1 {
			t.Errorf("%s: type list %v", where, s.Type.Slice())
		}
		if s.Const != nil || len(s.PrefixItems) > 0 || s.Contains != nil || len(s.PatternProperties) > 0 ||
			len(s.DependentSchemas) > 0 || s.PropertyNames != nil || s.UnevaluatedItems.Has != nil ||
			s.UnevaluatedItems.Schema != nil || s.UnevaluatedProperties.Has != nil || s.UnevaluatedProperties.Schema != nil ||
			s.If != nil || s.Then != nil || s.Else != nil || len(s.DependentRequired) > 0 || len(s.Defs) > 0 || s.ContentSchema != nil {
			t.Errorf("%s uses a JSON Schema 2020-12 keyword", where)
		}
		for name, p := range s.Properties {
			walk(where+"."+name, p)
		}
		walk(where+"[]", s.Items)
		if s.AdditionalProperties.Schema != nil {
			walk(where+"{}", s.AdditionalProperties.Schema)
		}
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range group {
				walk(where, x)
			}
		}
		walk(where+"!", s.Not)
	}
	for name, s := range ct.doc.Components.Schemas {
		walk(name, s)
	}
	for key, op := range ct.ops {
		for _, p := range op.route.Operation.Parameters {
			walk(key+" "+p.Value.Name, p.Value.Schema)
		}
		if rb := op.route.Operation.RequestBody; rb != nil {
			for mt, c := range rb.Value.Content {
				walk(key+" "+mt, c.Schema)
			}
		}
	}
	if len(seen) < 50 {
		t.Fatalf("walked only %d schemas", len(seen))
	}
}
