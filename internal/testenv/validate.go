package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/storefront/storefront/gen/api"
)

func init() {
	// The docs page is HTML; kin-openapi checks it as a string against its schema.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

// specCheckingTransport validates every response against the spec: its status must be documented for
// the operation, and its headers and body must match. Responses to paths or methods the spec does not
// have must still be the documented Error shape.
type specCheckingTransport struct {
	t      testing.TB
	base   http.RoundTripper
	router routers.Router
	errSch *openapi3.Schema
}

// loadedSpec is the embedded spec, parsed once per test binary (parsing it costs about half a second
// under the race detector); it is only read, so tests share it and copy what they change.
var loadedSpec = sync.OnceValues(api.GetSwagger)

// specFor is the spec with its servers set to serverURL, a copy sharing everything else.
func specFor(t testing.TB, serverURL string) *openapi3.T {
	t.Helper()
	doc, err := loadedSpec()
	if err != nil {
		t.Fatal(err)
	}
	d := *doc
	d.Servers = openapi3.Servers{{URL: serverURL}}
	return &d
}

func newSpecCheckingTransport(t testing.TB, serverURL string) *specCheckingTransport {
	doc := specFor(t, serverURL)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &specCheckingTransport{t: t, base: http.DefaultTransport, router: router,
		errSch: doc.Components.Schemas["Error"].Value}
}

func (s *specCheckingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := s.check(req, resp, body); err != nil {
		s.t.Errorf("response to %s %s (status %d) does not match the spec: %v\nbody: %s",
			req.Method, req.URL.Path, resp.StatusCode, err, truncate(body))
	}
	return resp, nil
}

func (s *specCheckingTransport) check(req *http.Request, resp *http.Response, body []byte) error {
	// Route on a copy without the body: only the URL and method matter.
	probe := &http.Request{Method: req.Method, URL: &url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host,
		Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}, Header: req.Header}
	route, params, err := s.router.FindRoute(probe)
	if err != nil {
		return s.checkErrorShape(resp, body)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	})
}

func (s *specCheckingTransport) checkErrorShape(resp *http.Response, body []byte) error {
	if resp.StatusCode < 400 {
		return fmt.Errorf("a path the spec does not have answered %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" && ct != "application/json; charset=utf-8" {
		return fmt.Errorf("error response has Content-Type %q", ct)
	}
	v, err := decodeJSON(body)
	if err != nil {
		return err
	}
	return s.errSch.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
