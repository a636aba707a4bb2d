package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

// absent stands for a parameter not sent at all.
const absent = "\x00absent"

// The request fast path may only accept what kin-openapi accepts: for every operation it serves, every
// combination of awkward parameter values is tried both ways, and an acceptance by the fast path that
// kin-openapi would refuse fails the test. It must also be in use, or it saves nothing.
func TestFastPathAcceptsOnlyWhatKinAccepts(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	samples := []string{
		absent, "", "0190a4c1-2b3c-7d4e-8f90-a1b2c3d4e5f6", "0190A4C1-2B3C-7D4E-8F90-A1B2C3D4E5F6", "0190a4c12b3c7d4e8f90a1b2c3d4e5f6",
		"0190a4c1-2b3c-7d4e-8f90-a1b2c3d4e5f", "0190a4c1-2b3c-7d4e-8f90-a1b2c3d4e5f6a", "g190a4c1-2b3c-7d4e-8f90-a1b2c3d4e5f6",
		"{0190a4c1-2b3c-7d4e-8f90-a1b2c3d4e5f6}", `W/"3"`, `"3"`, "*", strings.Repeat("é", 256), strings.Repeat("é", 257),
		strings.Repeat("a", 300), "a@example.com", "not an email",
	}
	opts := &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	e := echo.New()
	fastOps, accepted := 0, 0
	for key, op := range ct.ops {
		if len(op.fast) == 0 {
			continue
		}
		fastOps++
		method, path, _ := strings.Cut(key, " ")
		// Every parameter takes every sample in turn while the others hold a valid value.
		valid := func(p fastParam) string {
			if p.format != nil {
				if p.format(samples[2]) == nil {
					return samples[2]
				}
				return "a@example.com"
			}
			return `"1"`
		}
		for i := range op.fast {
			for _, sample := range samples {
				req := httptest.NewRequest(method, "http://example.com"+path, nil)
				c := e.NewContext(req, httptest.NewRecorder())
				params := map[string]string{}
				var names, values []string
				for j, p := range op.fast {
					v := valid(p)
					if j == i {
						v = sample
					}
					switch {
					case p.inPath && v == absent:
						names, values = append(names, p.name), append(values, "")
						params[p.name] = ""
					case p.inPath:
						names, values = append(names, p.name), append(values, v)
						params[p.name] = v
					case v != absent: // "" is sent as an empty header
						req.Header[p.name] = []string{v}
					}
				}
				c.SetParamNames(names...)
				c.SetParamValues(values...)
				fast := op.fastValid(c)
				kinErr := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
					Request: req, PathParams: params, Route: op.route, Options: opts,
				})
				if fast && kinErr != nil {
					t.Errorf("%s: %s=%q passes the fast path but kin-openapi refuses it: %v", key, op.fast[i].name, sample, kinErr)
				}
				if fast {
					accepted++
				}
			}
		}
	}
	if fastOps < 10 || accepted == 0 {
		t.Fatalf("fast path covers %d operations and accepted %d requests; it is not in use", fastOps, accepted)
	}
	if op := ct.ops[http.MethodGet+" /v1/products/:product_id"]; op == nil || op.fast == nil {
		t.Fatal("GET /v1/products/{product_id} does not take the fast path")
	}
}
