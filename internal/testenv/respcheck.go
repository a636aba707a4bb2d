package testenv

import (
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// ResponseChecker checks a response against the spec as Env.Client's transport does (the status
// documented for the operation, headers and body matching; the Error shape for paths the spec does not
// have), but returns what it finds instead of failing the test, for tests that send raw requests and
// tally the answers themselves.
type ResponseChecker struct{ s *specCheckingTransport }

// NewResponseChecker checks responses of the server at serverURL with the full JSON Schema 2020-12
// validator, exactly as Env.Client does.
func NewResponseChecker(t testing.TB, serverURL string) *ResponseChecker {
	return &ResponseChecker{s: newSpecCheckingTransport(t, serverURL)}
}

// NewBuiltinResponseChecker is NewResponseChecker with kin-openapi's built-in validator, the one the
// server validates requests with: the spec keeps to the keywords both validators read alike
// (TestSpecKeepsToSharedKeywords), and the built-in one costs a fraction of compiling a 2020-12
// validator per value, for tests that check thousands of answers.
func NewBuiltinResponseChecker(t testing.TB, serverURL string) *ResponseChecker {
	t.Helper()
	doc := specFor(t, serverURL)
	doc.OpenAPI = "3.0.3"
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &ResponseChecker{s: &specCheckingTransport{t: t, base: http.DefaultTransport, router: router,
		errSch: doc.Components.Schemas["Error"].Value}}
}

// Check returns why the response to req (whose body was read into body) does not match the spec, or nil.
func (c *ResponseChecker) Check(req *http.Request, resp *http.Response, body []byte) error {
	return c.s.check(req, resp, body)
}
