package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Mutations of parameters, headers and cursors.

// paramMutation makes malformed values for a parameter, already escaped for a URL where it goes in one.
type paramMutation struct {
	kind   string
	policy policy
	values func(s *openapi3.Schema) []string
}

// want is 400 naming the parameter, unless the schema decides and takes the value (a header value; query
// and path values are escaped, and every one here breaks its schema or the design's text rules).
func (m paramMutation) want(p *openapi3.Parameter, value string) want {
	if m.policy == schemaDecides && validAgainst(p.Schema.Value, value) {
		return documented
	}
	return refused(p.Name)
}

var queryMutations = []paramMutation{
	{"maximum+1", mustRefuse, func(s *openapi3.Schema) []string { return ifBound(s.Max, +1) }},
	{"minimum-1", mustRefuse, func(s *openapi3.Schema) []string { return ifBound(s.Min, -1) }},
	{"not-a-number", mustRefuse, func(s *openapi3.Schema) []string { return when(isType(s, "integer") || isType(s, "number"), "abc") }},
	{"int-as-2.0", mustRefuse, func(s *openapi3.Schema) []string { return when(isType(s, "integer"), "2.0") }},
	{"int-as-1e1", mustRefuse, func(s *openapi3.Schema) []string { return when(isType(s, "integer") && inRange(s, 10) == 10, "1e1") }},
	{"not-a-boolean", mustRefuse, func(s *openapi3.Schema) []string { return when(isType(s, "boolean"), "maybe") }},
	{"not-in-enum", mustRefuse, func(s *openapi3.Schema) []string { return when(len(s.Enum) > 0, "bogus") }},
	{"bad-uuid", mustRefuse, func(s *openapi3.Schema) []string { return when(s.Format == "uuid", "not-a-uuid") }},
	{"max-length+1", mustRefuse, func(s *openapi3.Schema) []string {
		if s.MaxLength == nil {
			return nil
		}
		return []string{strings.Repeat("a", int(*s.MaxLength)+1)}
	}},
	{"nul-byte", mustRefuse, func(s *openapi3.Schema) []string { return when(isType(s, "string"), "a%00b") }},
	{"invalid-utf8", mustRefuse, func(s *openapi3.Schema) []string { return when(isType(s, "string"), "a%FFb", "%C3%28") }},
}

var pathMutations = []paramMutation{
	{"bad-uuid", mustRefuse, func(s *openapi3.Schema) []string { return when(s.Format == "uuid", "not-a-uuid") }},
	{"max-length+1", mustRefuse, func(s *openapi3.Schema) []string {
		if s.MaxLength == nil {
			return nil
		}
		return []string{padTo(baseString(s, nil), int(*s.MaxLength)+1)}
	}},
	{"nul-byte", mustRefuse, func(*openapi3.Schema) []string { return []string{"%00", "0193a6a4-7c1e-7d2a-9f3b-2b8f1d4e5a%00"} }},
	{"invalid-utf8", mustRefuse, func(*openapi3.Schema) []string { return []string{"%FF", "%C3%28"} }},
}

// Header values go on the wire byte for byte. Control characters other than tab make the message invalid
// HTTP (RFC 9110 §5.5), which net/http refuses itself; tab and obs-text bytes reach the service.
var headerMutations = []paramMutation{
	{"max-length+1", mustRefuse, func(s *openapi3.Schema) []string {
		if s.MaxLength == nil {
			return nil
		}
		return []string{strings.Repeat("a", int(*s.MaxLength)+1)}
	}},
	{"tab", schemaDecides, func(*openapi3.Schema) []string { return []string{"a\tb"} }},
	{"obs-text", schemaDecides, func(*openapi3.Schema) []string { return []string{"a\xffb"} }},
}

// controlChars in a header value: net/http's own 400, before any of the service's code runs.
var controlChars = []string{"a\x00b", "a\x01b", "a\x1fb", "a\x7fb"}

// unknownQuery are query parameters no operation declares (the first is issue 10's example).
var unknownQuery = []string{"user_id=0193a6a4-7c1e-7d2a-9f3b-2b8f1d4e5a6c", "bogus=1"}

// paramCases mutates every parameter the operation declares, and adds parameters it does not.
func paramCases(op *specOp) []negCase {
	var out []negCase
	for _, p := range op.params {
		s := p.Schema.Value
		switch p.In {
		case "query":
			for _, m := range queryMutations {
				for _, v := range m.values(s) {
					out = append(out, negCase{op: op, kind: "query." + m.kind, target: p.Name, variant: v,
						req: negRequest{query: p.Name + "=" + v}, want: m.want(p, v)})
				}
			}
		case "path":
			for _, m := range pathMutations {
				for _, v := range m.values(s) {
					out = append(out, negCase{op: op, kind: "path." + m.kind, target: p.Name, variant: v,
						req: negRequest{pathParams: map[string]string{p.Name: v}}, want: m.want(p, v)})
				}
			}
			// Well-formed but nobody's: valid per the spec, so any documented answer (404 where there is one).
			out = append(out, negCase{op: op, kind: "path.unknown-id", target: p.Name, variant: "random UUID",
				req: negRequest{pathParams: map[string]string{p.Name: "0193a6a4-0000-7000-8000-000000000000"}}, want: documented})
		case "header":
			for _, m := range headerMutations {
				for _, v := range m.values(s) {
					out = append(out, negCase{op: op, kind: "header." + m.kind, target: p.Name, variant: strconv.Quote(v),
						req: negRequest{headers: [][2]string{{p.Name, v}}}, want: m.want(p, v)})
				}
			}
			for _, v := range controlChars {
				out = append(out, negCase{op: op, kind: "header.control-char", target: p.Name, variant: strconv.Quote(v),
					req: negRequest{headers: [][2]string{{p.Name, v}}}, want: want{status: 400, protocol: true}})
			}
			if p.Required {
				out = append(out, negCase{op: op, kind: "header.missing-required", target: p.Name, variant: "absent",
					req: negRequest{omitHeader: p.Name}, want: refused(p.Name)})
			}
		}
	}
	for _, q := range unknownQuery {
		name, _, _ := strings.Cut(q, "=")
		if op.param("query", name) != nil {
			continue
		}
		// DESIGN.md: unknown query parameters are refused with 400; an operation whose spec lists no 400
		// (the probes, the docs) may answer anything it documents.
		w := refused(name)
		if !op.documents(400) {
			w = documented
		}
		out = append(out, negCase{op: op, kind: "query.unknown", target: name, variant: q, req: negRequest{query: q}, want: w})
	}
	return out
}

// genuineCursor is a real next_cursor of the operation's first page, for the sort it was issued for.
type genuineCursor struct {
	sort   string // "" when the operation has no sort parameter
	cursor string
}

// cursorCases tampers with genuine cursors: corrupted and forged bytes, NUL bytes in each member of the
// cursor's JSON (or in its raw bytes when it is not JSON), another sort's cursor, random bytes, "AAAA".
// The genuine cursor itself goes too, as a control: it must work.
func cursorCases(op *specOp, genuine []genuineCursor, rng *rand.Rand) []negCase {
	if op.param("query", "cursor") == nil {
		return nil
	}
	var out []negCase
	add := func(kind, sortKey, label, cursor string, w want) {
		q := "cursor=" + cursor
		if sortKey != "" {
			q = "sort=" + sortKey + "&" + q
		}
		out = append(out, negCase{op: op, kind: "cursor." + kind, target: "cursor", variant: label, req: negRequest{query: q}, want: w})
	}
	random := make([]byte, 24)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	add("random-base64url", "", "24 random bytes", base64.RawURLEncoding.EncodeToString(random), refused("cursor"))
	add("AAAA", "", "AAAA", "AAAA", refused("cursor"))
	for i, g := range genuine {
		add("genuine", g.sort, g.sort, g.cursor, want{status: 200})
		raw, err := base64.RawURLEncoding.DecodeString(g.cursor)
		if err != nil || len(raw) == 0 {
			continue
		}
		var members map[string]any
		isJSON := json.Unmarshal(raw, &members) == nil
		// A flipped first or last byte breaks a JSON cursor's structure: strict decoding refuses it.
		for _, at := range []int{0, len(raw) - 1} {
			if !isJSON {
				break
			}
			b := slices.Clone(raw)
			b[at] ^= 0x01
			add("corrupted", g.sort, fmt.Sprintf("sort %q, byte %d of %d flipped", g.sort, at, len(raw)), base64.RawURLEncoding.EncodeToString(b), refused("cursor"))
		}
		// One character changed for another of its kind keeps the cursor well-formed: only a signed
		// cursor tells it from a genuine one (issue 10: "signed or at least strictly decoded").
		if b, ok := forge(raw); ok {
			add("forged", g.sort, fmt.Sprintf("sort %q, last letter or digit changed", g.sort), base64.RawURLEncoding.EncodeToString(b), refused("cursor"))
		}
		if isJSON {
			for _, k := range sortedKeys(members) {
				s, _ := members[k].(string)
				m := cloneJSON(members).(map[string]any)
				m[k] = insertMid(s, "\x00")
				b, _ := json.Marshal(m)
				add("nul-in-member", g.sort, fmt.Sprintf("sort %q, member %q", g.sort, k), base64.RawURLEncoding.EncodeToString(b), refused("cursor"))
			}
		} else {
			add("nul-in-raw", g.sort, fmt.Sprintf("sort %q", g.sort), base64.RawURLEncoding.EncodeToString(append(slices.Clone(raw), 0x00)), refused("cursor"))
			add("invalid-utf8-raw", g.sort, fmt.Sprintf("sort %q", g.sort), base64.RawURLEncoding.EncodeToString(append(slices.Clone(raw), 0xff)), refused("cursor"))
		}
		if len(genuine) > 1 {
			other := genuine[(i+1)%len(genuine)]
			add("other-sort", other.sort, fmt.Sprintf("cursor of %q sent with %q", g.sort, other.sort), g.cursor, refused("cursor"))
		}
	}
	return out
}

// forge changes the last letter or digit of a cursor for the next one of its class, so that hex digits
// stay hex digits (a UUID stays a UUID): '9' becomes '0', 'f' becomes 'a', 'z' becomes 'g'.
func forge(raw []byte) ([]byte, bool) {
	classes := []string{"0123456789", "abcdef", "ghijklmnopqrstuvwxyz", "ABCDEF", "GHIJKLMNOPQRSTUVWXYZ"}
	b := slices.Clone(raw)
	for i := len(b) - 1; i >= 0; i-- {
		for _, class := range classes {
			if at := strings.IndexByte(class, b[i]); at >= 0 {
				b[i] = class[(at+1)%len(class)]
				return b, true
			}
		}
	}
	return nil, false
}
