package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/storefront/storefront/internal/testenv"
)

// The spec's "CORS" section says what a browser gets; this holds the server to it.
func TestCORSAsDocumented(t *testing.T) {
	const origin = "https://shop.example.com"
	env := testenv.Start(t, append(testenv.RedisEnv(t), "CORS_ALLOWED_ORIGINS="+origin)...)
	preflight := func(t *testing.T, from string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, env.URL+"/v1/orders", nil)
		req.Header.Set("Origin", from)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
		resp, err := http.DefaultClient.Do(req) // not the spec-checking client: OPTIONS is no operation of the spec
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	t.Run("preflight from an allowed origin", func(t *testing.T) {
		resp := preflight(t, origin)
		h := resp.Header
		for name, want := range map[string]string{
			"Access-Control-Allow-Origin":  origin,
			"Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE",
			"Access-Control-Allow-Headers": "Authorization,Content-Type,If-Match,If-None-Match,Idempotency-Key,X-Request-ID",
			"Access-Control-Max-Age":       "600",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Credentials") != "" || h.Get("RateLimit") != "" {
			t.Errorf("status %d, headers %v: want 204, no credentials, not rate limited", resp.StatusCode, h)
		}
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		resp := preflight(t, "https://evil.example.com")
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("status %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("a response, errors included, names the origin and exposes the documented headers", func(t *testing.T) {
		for _, path := range []string{"/v1/categories", "/v1/me"} {
			req, _ := http.NewRequest(http.MethodGet, env.URL+path, nil)
			req.Header.Set("Origin", origin)
			resp, err := env.HTTP.Do(req) // checked against the spec, Access-Control-Allow-Origin included
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
				t.Errorf("%s: Access-Control-Allow-Origin %q", path, got)
			}
			exposed := strings.Split(resp.Header.Get("Access-Control-Expose-Headers"), ",")
			for _, want := range []string{"ETag", "Location", "X-Request-ID", "Retry-After", "Idempotent-Replayed", "RateLimit-Policy",
				"RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Deprecation", "Sunset", "Link"} {
				found := false
				for _, e := range exposed {
					found = found || strings.EqualFold(strings.TrimSpace(e), want)
				}
				if !found {
					t.Errorf("%s: %s not in Access-Control-Expose-Headers %q", path, want, exposed)
				}
			}
		}
	})
}
