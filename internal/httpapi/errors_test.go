package httpapi

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

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

// The spec names the scopes operations need; every one must be a scope some role is granted, and
// bearerAuth must be the only scheme, since it is the only one the middleware enforces.
func TestSpecScopesAreGranted(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	granted := map[string]bool{}
	for _, r := range []identity.Role{identity.RoleCustomer, identity.RoleEditor, identity.RoleAdmin} {
		for _, s := range r.Scopes() {
			granted[s] = true
		}
	}
	for key, op := range ct.ops {
		for _, alt := range op.security {
			for scheme, scopes := range alt {
				if scheme != bearerScheme {
					t.Errorf("%s: scheme %q is not enforced by the middleware", key, scheme)
				}
				for _, s := range scopes {
					if !granted[s] {
						t.Errorf("%s: scope %q is granted to no role", key, s)
					}
				}
			}
		}
	}
}
