package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

const deprecationSpec = `
openapi: 3.1.0
info: {title: deprecation test, version: "1"}
paths:
  /v1/widgets/{widget_id}:
    get:
      deprecated: true
      x-deprecated-at: 2026-01-15
      x-sunset: "2026-07-31"
      x-successor: /v1/gadgets/{widget_id}
      x-deprecation-link: https://developer.storefront.example/deprecations/widgets
      responses: {"200": {description: ok}}
    delete:
      responses: {"204": {description: deleted}}
%s
`

func loadSpec(t *testing.T, extra string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(strings.Replace(deprecationSpec, "%s", extra, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// A deprecated operation's responses announce it, errors included; other operations stay quiet.
func TestDeprecationHeaders(t *testing.T) {
	mw, err := announceDeprecations(loadSpec(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(mw)
	e.GET("/v1/widgets/:widget_id", func(c echo.Context) error {
		if c.Param("widget_id") == "missing" {
			return echo.ErrNotFound
		}
		return c.NoContent(http.StatusOK)
	})
	e.DELETE("/v1/widgets/:widget_id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/widgets/missing", nil))
	if rec.Code != http.StatusNotFound || rec.Header().Get("Sunset") == "" {
		t.Errorf("an error response of a deprecated operation: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/widgets/w1", nil))
	h := rec.Header()
	// 2026-01-15T00:00:00Z is 1768435200.
	if got := h.Get("Deprecation"); got != "@1768435200" {
		t.Errorf("Deprecation %q", got)
	}
	if got := h.Get("Sunset"); got != "Fri, 31 Jul 2026 00:00:00 GMT" {
		t.Errorf("Sunset %q", got)
	}
	wantLinks := []string{`</v1/gadgets/{widget_id}>; rel="successor-version"`,
		`<https://developer.storefront.example/deprecations/widgets>; rel="deprecation"; type="text/html"`}
	if got := h.Values("Link"); strings.Join(got, "|") != strings.Join(wantLinks, "|") {
		t.Errorf("Link %q", got)
	}

	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/v1/widgets/w1", nil))
	if rec.Code != http.StatusNoContent || rec.Header().Get("Deprecation") != "" || rec.Header().Get("Sunset") != "" {
		t.Errorf("a current operation announced a deprecation: %d %v", rec.Code, rec.Header())
	}
}

// The service refuses to start on a deprecation it cannot announce properly.
func TestDeprecationNeedsDates(t *testing.T) {
	for name, op := range map[string]string{
		"no sunset":             "x-deprecated-at: 2026-01-15",
		"no deprecation date":   `x-sunset: "2026-07-31"`,
		"sunset not a date":     "x-deprecated-at: 2026-01-15\n      x-sunset: next summer",
		"sunset before":         "x-deprecated-at: 2026-01-15\n      x-sunset: 2025-12-31",
		"rfc 3339 times are ok": "x-deprecated-at: \"2026-01-15T00:00:00Z\"\n      x-sunset: \"2026-07-31T12:00:00+02:00\"",
	} {
		t.Run(name, func(t *testing.T) {
			extra := "  /v1/gizmos:\n    get:\n      deprecated: true\n      " + op + "\n      responses: {\"200\": {description: ok}}"
			_, err := deprecationHeaders(loadSpec(t, extra))
			if ok := name == "rfc 3339 times are ok"; ok != (err == nil) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// The real contract deprecates nothing today; the middleware then adds nothing.
func TestContractDeprecations(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	byPath, err := deprecationHeaders(ct.doc)
	if err != nil {
		t.Fatal(err)
	}
	for path, ops := range byPath {
		for method := range ops {
			t.Logf("deprecated: %s %s", method, path)
		}
	}
}
