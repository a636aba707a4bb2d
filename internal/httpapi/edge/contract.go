package edge

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/gen/api"
)

// operation is what the middleware needs to know about one operation of the spec.
type operation struct {
	route        *routers.Route
	security     openapi3.SecurityRequirements
	bodyRequired bool
	mediaTypes   []string         // accepted request media types; empty when the operation takes no body
	idempotent   bool             // the spec declares an Idempotency-Key header parameter
	query        map[string]bool  // the declared query parameters; nil: undeclared ones are not refused
	bodySchema   *openapi3.Schema // the JSON request body's schema, when there is one
	// fast lists the parameters of an operation that takes no body and whose parameters are all simple
	// strings in the path or headers (nil otherwise): see fastValid.
	fast []fastParam
}

// fastParam is a path or header parameter whose schema is a string with at most a format and length
// bounds, which the middleware can check without kin-openapi.
type fastParam struct {
	name             string // as net/http keys it, for headers
	inPath, required bool
	minLen, maxLen   int64 // maxLen < 0: no bound
	format           func(string) error
}

// fastValid reports whether the request's parameters pass the checks kin-openapi would make. The checks
// are the schema's own (length in characters, the same format functions kin-openapi calls), so true
// means kin-openapi would accept the request too; on false the middleware asks kin-openapi, which
// decides and reports. It spares the common reads kin-openapi's per-request cost.
func (o *operation) fastValid(c echo.Context) bool {
	for _, p := range o.fast {
		var v string
		if p.inPath {
			v = c.Param(p.name)
		} else if vs, ok := c.Request().Header[p.name]; ok {
			if len(vs) == 0 {
				return false
			}
			v = vs[0] // kin-openapi reads the first value too
		} else if p.required {
			return false
		} else {
			continue // absent and optional
		}
		if v == "" {
			return false // kin-openapi decides what an empty value means
		}
		n := int64(utf8.RuneCountInString(v))
		if n < p.minLen || p.maxLen >= 0 && n > p.maxLen || p.format != nil && p.format(v) != nil {
			return false
		}
	}
	return true
}

// fastParams returns the fast checks for params, or nil when one of them needs kin-openapi.
func fastParams(params ...openapi3.Parameters) []fastParam {
	out := []fastParam{}
	for _, list := range params {
		for _, ref := range list {
			p := ref.Value
			if p == nil || (p.In != "path" && p.In != "header") || p.Content != nil || p.Schema == nil || p.Schema.Value == nil ||
				(p.Style != "" && p.Style != "simple") || (p.Explode != nil && *p.Explode) {
				return nil
			}
			sch := p.Schema.Value
			if !sch.Type.Is("string") || len(sch.Type.Slice()) != 1 || !onlyKeywords(sch, "type", "format", "minLength", "maxLength", "description", "example", "examples", "title") {
				return nil
			}
			fp := fastParam{name: p.Name, inPath: p.In == "path", required: p.Required, minLen: int64(sch.MinLength), maxLen: -1}
			if !fp.inPath {
				fp.name = http.CanonicalHeaderKey(p.Name)
			}
			if sch.MaxLength != nil {
				fp.maxLen = int64(*sch.MaxLength)
			}
			if sch.Format != "" {
				if fp.format = formatChecks[sch.Format]; fp.format == nil {
					return nil
				}
			}
			out = append(out, fp)
		}
	}
	return out
}

// onlyKeywords reports whether the schema uses no keyword but these.
func onlyKeywords(s *openapi3.Schema, allowed ...string) bool {
	b, err := json.Marshal(s)
	if err != nil {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			return false
		}
	}
	return true
}

// contract indexes the spec's operations by Echo route ("GET /v1/users/:user_id"), so the middleware
// finds an operation with the route Echo already matched instead of routing a second time.
type contract struct {
	doc *openapi3.T
	ops map[string]*operation
}

// sharedContract is the contract, loaded once per process: it is only read after loading, and parsing
// the spec is the dearest part of starting (tests start many instances in one process).
var sharedContract = sync.OnceValues(loadContract)

func loadContract() (*contract, error) {
	doc, err := api.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("loading embedded spec: %w", err)
	}
	doc.Servers = nil // validate paths as served, whatever host the request came to
	// kin-openapi validates a 3.1 document by compiling a JSON Schema 2020-12 validator for every value
	// it checks (and, for schemas with $refs, then uses its built-in validator anyway), which made request
	// validation a third of the CPU of placing an order. The spec keeps to keywords both validators read
	// alike (TestSpecKeepsToSharedKeywords), so requests are validated with the built-in one. The tests
	// still check every response with the full 2020-12 validator.
	validationDoc := *doc
	validationDoc.OpenAPI = "3.0.3"
	ct := &contract{doc: doc, ops: map[string]*operation{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := &operation{
				route:    &routers.Route{Spec: &validationDoc, Path: path, PathItem: item, Method: method, Operation: op},
				security: doc.Security,
			}
			if op.Security != nil {
				o.security = *op.Security
			}
			if strings.HasPrefix(path, "/v1/") { // probes and documents ignore what they do not read
				o.query = map[string]bool{}
			}
			for _, prm := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				if prm.Value == nil {
					continue
				}
				if prm.Value.In == "header" && strings.EqualFold(prm.Value.Name, headerIdempotencyKey) {
					o.idempotent = true
				}
				if prm.Value.In == "query" && o.query != nil {
					o.query[prm.Value.Name] = true
				}
			}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				o.bodyRequired = rb.Value.Required
				for mt, c := range rb.Value.Content {
					o.mediaTypes = append(o.mediaTypes, mt)
					if c.Schema != nil && strings.Contains(mt, "json") {
						o.bodySchema = c.Schema.Value
					}
				}
			}
			if len(o.mediaTypes) == 0 {
				o.fast = fastParams(item.Parameters, op.Parameters)
			}
			ct.ops[method+" "+echoPath(path)] = o
		}
	}
	return ct, nil
}

// echoPath turns /v1/users/{user_id} into /v1/users/:user_id.
func echoPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			parts[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(parts, "/")
}

func (ct *contract) lookup(c echo.Context) *operation {
	return ct.ops[c.Request().Method+" "+c.Path()]
}

// acceptsMediaType reports whether the request's Content-Type is one the operation declares.
func (o *operation) acceptsMediaType(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil {
		return false
	}
	for _, want := range o.mediaTypes {
		if strings.EqualFold(mt, want) {
			return true
		}
	}
	return false
}
