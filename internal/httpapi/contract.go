package httpapi

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

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
	mediaTypes   []string // accepted request media types; empty when the operation takes no body
	idempotent   bool     // the spec declares an Idempotency-Key header parameter
}

// contract indexes the spec's operations by Echo route ("GET /v1/users/:user_id"), so the middleware
// finds an operation with the route Echo already matched instead of routing a second time.
type contract struct {
	doc *openapi3.T
	ops map[string]*operation
}

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
			for _, prm := range op.Parameters {
				if prm.Value != nil && prm.Value.In == "header" && strings.EqualFold(prm.Value.Name, headerIdempotencyKey) {
					o.idempotent = true
				}
			}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				o.bodyRequired = rb.Value.Required
				for mt := range rb.Value.Content {
					o.mediaTypes = append(o.mediaTypes, mt)
				}
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
