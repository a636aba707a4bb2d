package edge

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/telemetry"
)

func TestInternalErrorsLeakNothing(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(&logs, nil)})
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(logger)
	e.Use(withRequestID, accessLog(logger), recoverPanics(logger))
	e.GET("/fail", func(echo.Context) error { return errors.New("pq: relation users_secret does not exist") })
	e.GET("/panic", func(echo.Context) error { panic("nil map in secret_module") })

	for path, secret := range map[string]string{"/fail": "users_secret", "/panic": "secret_module"} {
		t.Run(path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("X-Request-ID", "rid-"+path[1:])
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d", rec.Code)
			}
			if got := rec.Header().Get("X-Request-ID"); got != "rid-"+path[1:] {
				t.Fatalf("X-Request-ID %q", got)
			}
			body := rec.Body.String()
			if strings.Contains(body, secret) || !strings.Contains(body, `"code":"INTERNAL"`) || !strings.Contains(body, "rid-"+path[1:]) {
				t.Fatalf("body %s", body)
			}
			if !strings.Contains(logs.String(), secret) || !strings.Contains(logs.String(), "rid-"+path[1:]) {
				t.Fatalf("cause or request id not logged: %s", logs.String())
			}
		})
	}
}

// The spec names the scopes operations need; every one must be a scope some role is granted, and every
// scheme one the middleware enforces (bearerAuth for access tokens, apiKeyAuth for API keys).
func TestSpecScopesAreGranted(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := newCredentials(ct.doc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if creds.schemes[bearerScheme] != accessToken || creds.schemes[apiKeyScheme] != apiKey || creds.keyHeader != "X-Api-Key" {
		t.Fatalf("schemes %v, key header %q", creds.schemes, creds.keyHeader)
	}
	granted := map[string]bool{}
	for _, r := range []identity.Role{identity.RoleCustomer, identity.RoleEditor, identity.RoleAdmin} {
		for _, s := range r.Scopes() {
			granted[s] = true
		}
	}
	keys := 0
	for key, op := range ct.ops {
		for _, alt := range op.security {
			for scheme, scopes := range alt {
				if creds.schemes[scheme] == 0 {
					t.Errorf("%s: scheme %q is not enforced by the middleware", key, scheme)
				}
				if scheme == apiKeyScheme {
					keys++
				}
				for _, s := range scopes {
					if !granted[s] {
						t.Errorf("%s: scope %q is granted to no role", key, s)
					}
				}
			}
		}
	}
	if keys == 0 {
		t.Error("no operation accepts API keys")
	}
}

// Every wire code is declared once in apperr; the set must equal the spec's ErrorBody.code enum, so
// the server never sends a code clients cannot decode and the spec lists no code the server lacks.
func TestErrorCodesMatchSpec(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]bool{}
	for _, v := range ct.doc.Components.Schemas["ErrorBody"].Value.Properties["code"].Value.Enum {
		spec[v.(string)] = true
	}
	declared := map[string]bool{}
	for _, c := range apperr.Codes {
		if declared[string(c)] {
			t.Errorf("code %s declared twice", c)
		}
		declared[string(c)] = true
		if !spec[string(c)] {
			t.Errorf("code %s is not in the spec's ErrorBody.code enum", c)
		}
	}
	for c := range spec {
		if !declared[c] {
			t.Errorf("the spec's code %s is not declared in apperr.Codes", c)
		}
	}
	// Every kind has a default code, and it is declared.
	for k := apperr.KindInternal; k <= apperr.KindUnsupportedMedia; k++ {
		if c := apperr.New(k, "").Code; !declared[string(c)] {
			t.Errorf("kind %d has code %q", k, c)
		}
		if _, ok := statusOf[k]; !ok {
			t.Errorf("kind %d has no HTTP status", k)
		}
	}
}

// withRequestID is requestContext without a timeout, for the tests that build a bare Echo.
var withRequestID = requestContext(0)
