package edge

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/storefront/storefront/internal/apperr"
)

// The text rule, in one place: every string a request carries — each body field and object key, each
// query, path and header parameter the service reads — is valid UTF-8 and holds no control character
// other than tab, line feed and carriage return. PostgreSQL refuses NUL bytes and invalid UTF-8 in
// text, and control characters in names and titles only cause harm downstream, so they are answered
// with 400 VALIDATION_ERROR naming the field, before any handler (or password hash) runs. The spec
// states the rule in its Conventions.

// textProblem says what is wrong with s under the text rule, or "".
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\t' || c == '\n' || c == '\r':
		case c < 0x20 || c == 0x7f:
			if c == 0 {
				return "must not contain NUL characters"
			}
			return "must not contain control characters other than tab, line feed and carriage return"
		}
	}
	return ""
}

// bodyTextDetails walks a decoded JSON body and reports every string and object key that breaks the
// text rule, by its path (items[0].name).
func bodyTextDetails(v any, path string, out *[]apperr.Detail) {
	switch x := v.(type) {
	case string:
		if p := textProblem(x); p != "" {
			*out = append(*out, apperr.Detail{Field: path, Message: p})
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // a stable order of details
		for _, k := range keys {
			if p := textProblem(k); p != "" {
				// The name itself is not repeated: it is the text at fault.
				*out = append(*out, apperr.Detail{Field: path, Message: "has a member whose name " + p})
				continue
			}
			bodyTextDetails(x[k], joinPath(path, []string{k}), out)
		}
	case []any:
		for i, e := range x {
			bodyTextDetails(e, path+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

// paramTextDetails checks the query parameters (names and values) and path parameters of a request.
func paramTextDetails(query url.Values, names, values []string) []apperr.Detail {
	var out []apperr.Detail
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if p := textProblem(k); p != "" {
			out = append(out, apperr.Detail{Field: strconv.Quote(k), Message: "the parameter name " + p})
			continue
		}
		for _, v := range query[k] {
			if p := textProblem(v); p != "" {
				out = append(out, apperr.Detail{Field: k, Message: p})
				break
			}
		}
	}
	for i, name := range names {
		if i < len(values) {
			if p := textProblem(values[i]); p != "" {
				out = append(out, apperr.Detail{Field: name, Message: p})
			}
		}
	}
	return out
}

// unknownQueryDetails names the query parameters the operation does not declare. Request bodies refuse
// unknown fields; so do query strings: a misspelt filter must not silently list everything.
func unknownQueryDetails(query url.Values, declared map[string]bool) []apperr.Detail {
	if declared == nil {
		return nil
	}
	var out []apperr.Detail
	for k := range query {
		if !declared[k] {
			name := k
			if textProblem(k) != "" {
				continue // reported by paramTextDetails
			}
			out = append(out, apperr.Detail{Field: name, Message: "is not a parameter of this operation"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// literalDetails reports every integer field of the body written with a fraction or an exponent (2.0,
// 1e1), and every null where the schema allows none. JSON Schema counts 2.0 as an integer, but it is not
// an integer literal and the server binds integers as integers; and a null must not quietly become a
// property's default. Both are refused with the same VALIDATION_ERROR as other type errors. v is the
// body decoded with json.Number; schema is the operation's body schema.
func literalDetails(schema *openapi3.Schema, v any, path string, out *[]apperr.Detail) {
	if schema == nil {
		return
	}
	for _, group := range []openapi3.SchemaRefs{schema.AllOf, schema.AnyOf, schema.OneOf} {
		for _, s := range group {
			if s != nil {
				literalDetails(s.Value, v, path, out)
			}
		}
	}
	switch x := v.(type) {
	case nil:
		if t := schema.Type; t != nil && len(t.Slice()) > 0 && !t.Includes("null") && !schema.Nullable {
			*out = append(*out, apperr.Detail{Field: path, Message: "must not be null"})
		}
	case json.Number:
		if schema.Type.Is("integer") && strings.ContainsAny(string(x), ".eE") {
			*out = append(*out, apperr.Detail{Field: path, Message: "must be an integer written without a fraction or exponent"})
		}
	case map[string]any:
		for k, e := range x {
			field := joinPath(path, []string{k})
			if p, ok := schema.Properties[k]; ok && p != nil {
				literalDetails(p.Value, e, field, out)
			} else if ap := schema.AdditionalProperties.Schema; ap != nil {
				literalDetails(ap.Value, e, field, out)
			}
		}
	case []any:
		if schema.Items != nil {
			for i, e := range x {
				literalDetails(schema.Items.Value, e, path+"["+strconv.Itoa(i)+"]", out)
			}
		}
	}
}
