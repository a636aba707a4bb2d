package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// The cases of the negative test and the mutations of request bodies: a table of value mutations, the
// walker that applies them to every place of an operation's body schema, and the whole-body mutations.
// negative_params_test.go mutates parameters, headers and cursors.

// negCase is one malformed request, with the answer it must get.
type negCase struct {
	op      *specOp
	kind    string // the mutation kind, e.g. "body.nul-byte"
	target  string // what it mutates: a body field path, a parameter or header name; "" for the whole request
	variant string // which value, for the report
	req     negRequest
	want    want
}

// negRequest is how a case's request differs from the operation's valid base request.
type negRequest struct {
	pathParams  map[string]string // escaped path segments in place of the fixture's ids
	query       string            // raw query string
	headers     [][2]string       // set over the base headers, byte for byte
	omitHeader  string            // a base header left out
	body        []byte            // replaces the base body when hasBody
	hasBody     bool
	contentType *string // nil: application/json when there is a body; "" sends none
	chunked     bool    // send the body chunked, without Content-Length
}

// want is the answer a caller the operation's security admits must get; a caller it does not admit must
// get 401 (anonymous) or 403 (signed in without the scope), since the edge checks security first.
type want struct {
	status   int      // 0: any status the spec documents for the operation
	codes    []string // the error codes allowed with status
	field    string   // with VALIDATION_ERROR, a detail must name this field or parameter (or a part of it)
	protocol bool     // not a valid HTTP message: net/http answers 400 before the service sees it
}

const (
	codeValidation = "VALIDATION_ERROR"
	codeMalformed  = "MALFORMED_JSON"
)

// documented: the mutation is valid per the spec, so any answer the spec documents will do.
var documented = want{}

func refused(field string) want {
	return want{status: 400, codes: []string{codeValidation}, field: field}
}

// refusedText is the answer to invalid UTF-8 in a body: RFC 8259 makes such a body invalid JSON, so
// MALFORMED_JSON is as right as a VALIDATION_ERROR naming the field.
func refusedText(field string) want {
	return want{status: 400, codes: []string{codeValidation, codeMalformed}, field: field}
}

// policy says what answer a mutation must get.
type policy int

const (
	// mustRefuse: invalid per the spec, or refused by DESIGN.md and issue 10 although JSON Schema
	// accepts it (NUL bytes, invalid UTF-8, integers written 2.0 or 1e1, unknown query parameters,
	// tampered cursors): 400 VALIDATION_ERROR naming the target.
	mustRefuse policy = iota
	// schemaDecides: 400 naming the target when the mutated value breaks the schema, else any documented answer.
	schemaDecides
	// refuseText: invalid UTF-8 in a body (see refusedText).
	refuseText
)

// variant is one malformed value; v is decoded JSON, json.RawMessage, or a string carrying rawBytes markers.
type variant struct {
	label string
	v     any
}

// bodyMutation makes malformed values for one place of a request body, from the schema there and the
// value the example has there (nil if none).
type bodyMutation struct {
	kind   string
	policy policy
	values func(s *openapi3.Schema, base any) []variant
}

var bodyMutations = []bodyMutation{
	{"wrong-type", schemaDecides, wrongTypes},
	{"null", schemaDecides, func(s *openapi3.Schema, _ any) []variant {
		if s.Nullable || s.Type.IncludesNull() {
			return nil
		}
		return []variant{{"null", nil}}
	}},
	{"max-length+1", schemaDecides, func(s *openapi3.Schema, base any) []variant {
		if !isType(s, "string") || s.MaxLength == nil {
			return nil
		}
		n := int(*s.MaxLength) + 1
		return []variant{{fmt.Sprintf("%d characters", n), padTo(baseString(s, base), n)}}
	}},
	{"min-length-1", schemaDecides, func(s *openapi3.Schema, base any) []variant {
		if !isType(s, "string") || s.MinLength == 0 {
			return nil
		}
		n := int(s.MinLength) - 1
		return []variant{{fmt.Sprintf("%d characters", n), padTo(baseString(s, base), n)}}
	}},
	{"not-in-enum", schemaDecides, func(s *openapi3.Schema, _ any) []variant {
		if len(s.Enum) == 0 {
			return nil
		}
		return []variant{{`"bogus-value"`, "bogus-value"}}
	}},
	{"bad-uuid", schemaDecides, func(s *openapi3.Schema, _ any) []variant {
		if s.Format != "uuid" {
			return nil
		}
		return []variant{{`"not-a-uuid"`, "not-a-uuid"}}
	}},
	{"maximum+1", schemaDecides, func(s *openapi3.Schema, _ any) []variant {
		if s.Max == nil {
			return nil
		}
		return []variant{{formatNumber(*s.Max + 1), *s.Max + 1}}
	}},
	{"minimum-1", schemaDecides, func(s *openapi3.Schema, _ any) []variant {
		if s.Min == nil {
			return nil
		}
		return []variant{{formatNumber(*s.Min - 1), *s.Min - 1}}
	}},
	{"max-items+1", schemaDecides, func(s *openapi3.Schema, base any) []variant {
		if !isType(s, "array") || s.MaxItems == nil || s.Items == nil {
			return nil
		}
		elem := sample(s.Items.Value)
		if a, ok := base.([]any); ok && len(a) > 0 {
			elem = a[0]
		}
		n := int(*s.MaxItems) + 1
		items := make([]any, n)
		for i := range items {
			items[i] = elem
		}
		return []variant{{fmt.Sprintf("%d items", n), items}}
	}},
	{"nul-byte", mustRefuse, func(s *openapi3.Schema, base any) []variant {
		if !isType(s, "string") {
			return nil
		}
		return []variant{{`\u0000`, insertMid(baseString(s, base), "\x00")}}
	}},
	{"invalid-utf8", refuseText, func(s *openapi3.Schema, base any) []variant {
		if !isType(s, "string") {
			return nil
		}
		return []variant{
			{"byte 0xff", insertMid(baseString(s, base), "\ue000ff\ue001")},
			{"bytes 0xc3 0x28", insertMid(baseString(s, base), "\ue000c328\ue001")},
		}
	}},
	// Issue 10, defect 5: JSON Schema counts 2.0 and 1e1 as integers, but the service must answer them
	// like every other type error (VALIDATION_ERROR with a detail), not with a binding error.
	{"int-as-2.0", mustRefuse, func(s *openapi3.Schema, base any) []variant {
		if !isType(s, "integer") {
			return nil
		}
		n := inRange(s, 2)
		if f, ok := base.(float64); ok {
			n = int64(f)
		}
		return []variant{{fmt.Sprintf("%d.0", n), json.RawMessage(fmt.Sprintf("%d.0", n))}}
	}},
	{"int-as-1e1", mustRefuse, func(s *openapi3.Schema, _ any) []variant {
		if !isType(s, "integer") || inRange(s, 10) != 10 {
			return nil
		}
		return []variant{{"1e1", json.RawMessage("1e1")}}
	}},
}

// wrongTypes is one value of every JSON type the schema does not allow.
func wrongTypes(s *openapi3.Schema, _ any) []variant {
	if s.Type == nil {
		return nil
	}
	var out []variant
	for _, c := range []struct {
		typ string
		v   any
	}{{"string", "text"}, {"number", 1.5}, {"boolean", true}, {"object", map[string]any{}}, {"array", []any{}}} {
		if !s.Type.Includes(c.typ) {
			out = append(out, variant{c.typ, c.v})
		}
	}
	return out
}

// freeFormMutations put NUL bytes and invalid UTF-8 into an object that takes any members (product
// attributes): PostgreSQL's jsonb refuses \u0000 as text does.
var freeFormMutations = []struct {
	kind, label string
	policy      policy
	value       map[string]any
}{
	{"free-form-nul-value", `{"origin": "Shi\u0000zuoka"}`, mustRefuse, map[string]any{"origin": "Shi\x00zuoka"}},
	{"free-form-nul-key", `{"ori\u0000gin": "Shizuoka"}`, mustRefuse, map[string]any{"ori\x00gin": "Shizuoka"}},
	{"free-form-invalid-utf8", `{"origin": "Shi<0xff>zuoka"}`, refuseText, map[string]any{"origin": "Shi\ue000ff\ue001zuoka"}},
}

// wholeBodyMutations replace the body as a whole; base is the valid base body.
var wholeBodyMutations = []struct {
	kind        string
	body        func(base []byte) []byte
	contentType *string
	chunked     bool
	want        want
}{
	{"body.empty", func([]byte) []byte { return []byte{} }, nil, false, want{status: 400, codes: []string{codeValidation}}},
	{"body.json-null", func([]byte) []byte { return []byte("null") }, nil, false, want{status: 400, codes: []string{codeValidation}}},
	{"body.array", func(b []byte) []byte { return []byte("[" + string(b) + "]") }, nil, false, want{status: 400, codes: []string{codeValidation}}},
	{"body.malformed", func(b []byte) []byte { return b[:len(b)-1] }, nil, false, want{status: 400, codes: []string{codeMalformed}}},
	{"body.trailing-data", func(b []byte) []byte { return append(slices.Clone(b), " {}"...) }, nil, false, want{status: 400, codes: []string{codeMalformed}}},
	{"body.invalid-utf8-outside-strings", func(b []byte) []byte { return append([]byte{0xff}, b...) }, nil, false, want{status: 400, codes: []string{codeMalformed}}},
	{"body.text-plain", func(b []byte) []byte { return b }, ptr("text/plain"), false, want{status: 415, codes: []string{"UNSUPPORTED_MEDIA_TYPE"}}},
	{"body.no-content-type", func(b []byte) []byte { return b }, ptr(""), false, want{status: 415, codes: []string{"UNSUPPORTED_MEDIA_TYPE"}}},
	{"body.oversized", oversized, nil, false, want{status: 413, codes: []string{"PAYLOAD_TOO_LARGE"}}},
	{"body.oversized-chunked", oversized, nil, true, want{status: 413, codes: []string{"PAYLOAD_TOO_LARGE"}}},
}

// oversized is a JSON object one byte over the 1 MiB limit, made once: every operation's cases share it.
func oversized([]byte) []byte { return oversizedBody() }

var oversizedBody = sync.OnceValue(func() []byte {
	const limit = 1 << 20
	head, tail := `{"pad":"`, `"}`
	return []byte(head + strings.Repeat("a", limit+1-len(head)-len(tail)) + tail)
})

// bodyCases walks the body schema: every property at every depth (arrays through their first item) gets
// the value mutations; every object gets its required members removed one at a time and an unknown
// member added; free-form objects get NUL bytes and invalid UTF-8 in their members; then the whole-body
// mutations. example is the valid body (fixture ids in place).
func bodyCases(op *specOp, example any) []negCase {
	var out []negCase
	add := func(kind string, at loc, label string, doc any, p policy) {
		w := refused(at.field())
		switch {
		case p == refuseText:
			w = refusedText(at.field())
		case p == schemaDecides && validAgainst(op.body, doc):
			w = documented
		}
		out = append(out, negCase{op: op, kind: kind, target: at.field(), variant: label,
			req: negRequest{body: encode(doc), hasBody: true}, want: w})
	}
	var walk func(s *openapi3.Schema, at loc)
	walk = func(s *openapi3.Schema, at loc) {
		if len(at) > 0 {
			for _, m := range bodyMutations {
				for _, v := range m.values(s, at.get(example)) {
					add("body."+m.kind, at, v.label, at.set(example, v.v), m.policy)
				}
			}
		}
		switch {
		case isObject(s):
			for _, name := range sortedKeys(s.Properties) {
				walk(s.Properties[name].Value, at.with(name))
			}
			for _, name := range s.Required {
				add("body.missing-required", at.with(name), "absent", at.with(name).without(example), schemaDecides)
			}
			if closed(s) {
				add("body.extra-property", at.with("unknown_field"), `"x"`, at.with("unknown_field").set(example, "x"), schemaDecides)
			}
			if freeForm(s) && len(at) > 0 {
				for _, m := range freeFormMutations {
					add("body."+m.kind, at, m.label, at.set(example, m.value), m.policy)
				}
			}
		case isType(s, "array") && s.Items != nil && s.Items.Value != nil:
			walk(s.Items.Value, at.with(0))
		}
	}
	walk(op.body, nil)
	base := encode(example)
	for _, m := range wholeBodyMutations {
		w := m.want
		if m.kind == "body.empty" && !op.bodyRequired {
			w = documented
		}
		out = append(out, negCase{op: op, kind: m.kind, variant: fmt.Sprintf("%d bytes", len(m.body(base))),
			req: negRequest{body: m.body(base), hasBody: true, contentType: m.contentType, chunked: m.chunked}, want: w})
	}
	return out
}

// Small helpers.

func baseString(s *openapi3.Schema, base any) string {
	if v, ok := base.(string); ok && v != "" {
		return v
	}
	if v, ok := sample(s).(string); ok && v != "" {
		return v
	}
	return "text"
}

// padTo repeats the last character of v until it is n characters long (cut when longer).
func padTo(v string, n int) string {
	r := []rune(v)
	if len(r) == 0 {
		r = []rune{'a'}
	}
	for len(r) < n {
		r = append(r, r[len(r)-1])
	}
	return string(r[:n])
}

// insertMid puts x after the first character of v, so patterns such as \S still match the rest.
func insertMid(v, x string) string {
	r := []rune(v)
	if len(r) < 2 {
		return "a" + x + "b"
	}
	return string(r[:1]) + x + string(r[1:])
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func ifBound(b *float64, delta float64) []string {
	if b == nil {
		return nil
	}
	return []string{formatNumber(*b + delta)}
}

func when(cond bool, vs ...string) []string {
	if !cond {
		return nil
	}
	return vs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
