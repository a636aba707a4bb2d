package httpapi_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/storefront/storefront/gen/api"
)

// The spec as the negative test reads it: every operation with its parameters, its request body schema
// and a valid example body to mutate.

// specOp is one operation of openapi/openapi.yaml.
type specOp struct {
	id, method, path string // path is the template, /v1/users/{user_id}
	params           []*openapi3.Parameter
	body             *openapi3.Schema // nil when the operation takes no body
	bodyRequired     bool
	example          any // the request body example the cases mutate (decoded JSON)
	security         openapi3.SecurityRequirements
	responses        *openapi3.Responses
}

// exampleChoice names the example to mutate where the first by name would change more than a test
// needs (promoting the test customer, changing its password).
var exampleChoice = map[string]string{"updateUser": "rename", "updateProduct": "restock"}

// loadSpecOps reads every operation of the embedded spec, sorted by path and method.
func loadSpecOps(t *testing.T) []*specOp {
	t.Helper()
	doc, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	var ops []*specOp
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			// The embedded spec has the operationIds capitalised (as oapi-codegen names them); the test
			// speaks of them as openapi.yaml spells them.
			id := strings.ToLower(op.OperationID[:1]) + op.OperationID[1:]
			o := &specOp{id: id, method: method, path: path, security: doc.Security, responses: op.Responses}
			if op.Security != nil {
				o.security = *op.Security
			}
			o.params = mergeParams(item.Parameters, op.Parameters)
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				mt := rb.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
					t.Fatalf("%s: request body without an application/json schema", o.id)
				}
				o.body, o.bodyRequired = mt.Schema.Value, rb.Value.Required
				if k := composed(o.body); k != "" {
					t.Fatalf("%s: the request body uses %s, which the negative test's walker does not read yet", o.id, k)
				}
				o.example = pickExample(t, o.id, mt)
			}
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].path != ops[j].path {
			return ops[i].path < ops[j].path
		}
		return ops[i].method < ops[j].method
	})
	return ops
}

// composed names a composition keyword anywhere in s (the walker reads properties, items and
// additionalProperties, with $refs resolved by the loader), or "".
func composed(s *openapi3.Schema) string {
	switch {
	case len(s.AllOf) > 0:
		return "allOf"
	case len(s.AnyOf) > 0:
		return "anyOf"
	case len(s.OneOf) > 0:
		return "oneOf"
	case s.Not != nil:
		return "not"
	}
	for _, p := range s.Properties {
		if k := composed(p.Value); k != "" {
			return k
		}
	}
	if s.Items != nil {
		return composed(s.Items.Value)
	}
	return ""
}

// mergeParams lists the path item's parameters and the operation's; the operation's win by name and place.
func mergeParams(item, op openapi3.Parameters) []*openapi3.Parameter {
	var out []*openapi3.Parameter
	seen := map[string]bool{}
	for _, list := range []openapi3.Parameters{op, item} {
		for _, ref := range list {
			if p := ref.Value; p != nil && !seen[p.In+" "+p.Name] {
				seen[p.In+" "+p.Name] = true
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].In+out[i].Name < out[j].In+out[j].Name })
	return out
}

func pickExample(t *testing.T, opID string, mt *openapi3.MediaType) any {
	t.Helper()
	if mt.Example != nil {
		return cloneJSON(mt.Example)
	}
	names := make([]string, 0, len(mt.Examples))
	for name := range mt.Examples {
		names = append(names, name)
	}
	sort.Strings(names)
	if want, ok := exampleChoice[opID]; ok {
		names = append([]string{want}, names...)
	}
	for _, name := range names {
		if ex := mt.Examples[name]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
			return cloneJSON(ex.Value.Value)
		}
	}
	t.Fatalf("%s: the request body has no example to mutate", opID)
	return nil
}

// documents reports whether the spec lists status for the operation (exactly, as a range like 4XX, or as default).
func (o *specOp) documents(status int) bool {
	s := strconv.Itoa(status)
	return o.responses.Value(s) != nil || o.responses.Value(s[:1]+"XX") != nil || o.responses.Default() != nil
}

// admits reports whether the caller passes the operation's security requirements (the edge checks them
// before anything else, so a caller who does not gets 401 or 403 whatever the request holds).
func (o *specOp) admits(c negCaller) bool {
	if len(o.security) == 0 {
		return true
	}
	for _, alt := range o.security {
		if len(alt) == 0 {
			return true
		}
		scopes, ok := alt["bearerAuth"]
		if ok && c.token != "" && !slices.ContainsFunc(scopes, func(s string) bool { return !slices.Contains(c.scopes, s) }) {
			return true
		}
	}
	return false
}

func (o *specOp) param(in, name string) *openapi3.Parameter {
	for _, p := range o.params {
		if p.In == in && p.Name == name {
			return p
		}
	}
	return nil
}

// JSON helpers over decoded values (map[string]any, []any, string, float64, bool, nil).

func cloneJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// loc is a place in a JSON document: object member names and array indexes.
type loc []any

func (l loc) with(step any) loc { return append(append(loc{}, l...), step) }

// field renders a location as the error details name it: items[0].quantity.
func (l loc) field() string {
	var b strings.Builder
	for _, s := range l {
		switch s := s.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(s) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// get is the value at l in doc, or nil.
func (l loc) get(doc any) any {
	for _, s := range l {
		switch s := s.(type) {
		case string:
			m, _ := doc.(map[string]any)
			doc = m[s]
		case int:
			a, _ := doc.([]any)
			if s >= len(a) {
				return nil
			}
			doc = a[s]
		}
	}
	return doc
}

// set returns a copy of doc with v at l, creating the objects and arrays on the way.
func (l loc) set(doc, v any) any {
	if len(l) == 0 {
		return v
	}
	switch s := l[0].(type) {
	case string:
		m, ok := cloneJSON(doc).(map[string]any)
		if !ok {
			m = map[string]any{}
		}
		m[s] = l[1:].set(m[s], v)
		return m
	default:
		i := s.(int)
		a, _ := cloneJSON(doc).([]any)
		for len(a) <= i {
			a = append(a, nil)
		}
		a[i] = l[1:].set(a[i], v)
		return a
	}
}

// without returns a copy of doc without the member at l.
func (l loc) without(doc any) any {
	parent := l[:len(l)-1]
	m, ok := parent.get(doc).(map[string]any)
	if !ok {
		return doc
	}
	m = cloneJSON(m).(map[string]any)
	delete(m, l[len(l)-1].(string))
	return parent.set(doc, m)
}

// Raw JSON text a value cannot hold: invalid UTF-8 inside a string. The mutated value carries a marker
// that encode replaces with the raw bytes after json.Marshal.
var rawBytes = map[string][]byte{
	"\ue000ff\ue001":   {0xff},
	"\ue000c328\ue001": {0xc3, 0x28},
}

// encode marshals a mutated document and puts the raw bytes in place of their markers.
func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	b := bytes.TrimSpace(buf.Bytes())
	for marker, raw := range rawBytes {
		b = bytes.ReplaceAll(b, []byte(marker), raw)
	}
	return b
}

// Schema predicates and samples.

func isType(s *openapi3.Schema, typ string) bool { return s.Type != nil && s.Type.Includes(typ) }

func isObject(s *openapi3.Schema) bool {
	return isType(s, "object") || s.Type == nil && len(s.Properties) > 0
}

// freeForm reports whether the object takes members it does not declare (product attributes).
func freeForm(s *openapi3.Schema) bool {
	ap := s.AdditionalProperties
	return len(s.Properties) == 0 && (ap.Has != nil && *ap.Has || ap.Schema != nil)
}

func closed(s *openapi3.Schema) bool {
	ap := s.AdditionalProperties
	return ap.Has != nil && !*ap.Has
}

// sample is a valid value for s, for a mutation of a member the example does not have.
func sample(s *openapi3.Schema) any {
	switch {
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Default != nil:
		return s.Default
	case isType(s, "string"):
		switch s.Format {
		case "uuid":
			return "0193a6a4-7c1e-7d2a-9f3b-2b8f1d4e5a6c"
		case "email":
			return "neg@example.com"
		}
		v := "text"
		for uint64(len(v)) < s.MinLength {
			v += "text"
		}
		return v
	case isType(s, "integer"), isType(s, "number"):
		return float64(inRange(s, 2))
	case isType(s, "boolean"):
		return true
	case isType(s, "array"):
		return []any{}
	default:
		return map[string]any{}
	}
}

// inRange is n, or the nearest bound of s when n is out of its range.
func inRange(s *openapi3.Schema, n int64) int64 {
	if s.Min != nil && float64(n) < *s.Min {
		n = int64(*s.Min)
	}
	if s.Max != nil && float64(n) > *s.Max {
		n = int64(*s.Max)
	}
	return n
}

// validAgainst reports whether v (decoded JSON) passes s, as the server's validator reads the spec.
func validAgainst(s *openapi3.Schema, v any) bool {
	return s.VisitJSON(v, openapi3.MultiErrors()) == nil
}
