package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
	"github.com/storefront/storefront/openapi"
)

func TestOperations(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()

	t.Run("health", func(t *testing.T) {
		resp, err := env.Client.GetHealthWithResponse(ctx)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
	})
	t.Run("ready without redis", func(t *testing.T) {
		resp, err := env.Client.GetReadinessWithResponse(ctx)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.JSON200.Checks.Postgres != apiclient.CheckStatusOk || resp.JSON200.Checks.Redis != apiclient.CheckStatusDisabled {
			t.Fatalf("checks %+v", resp.JSON200.Checks)
		}
	})
	t.Run("spec as yaml is the file", func(t *testing.T) {
		resp, err := env.Client.GetOpenapiYamlWithResponse(ctx)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if string(resp.Body) != string(openapi.YAML) {
			t.Fatal("served YAML differs from openapi/openapi.yaml")
		}
	})
	t.Run("spec as json", func(t *testing.T) {
		resp, err := env.Client.GetOpenapiJsonWithResponse(ctx)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		var doc map[string]any
		if err := json.Unmarshal(resp.Body, &doc); err != nil || doc["openapi"] != "3.1.0" {
			t.Fatalf("not the spec: %v", err)
		}
	})
	t.Run("docs are self-contained", func(t *testing.T) {
		resp, err := env.Client.GetDocsWithResponse(ctx)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		body := string(resp.Body)
		if !strings.Contains(body, `<redoc spec-url="/openapi.json">`) || strings.Contains(body, "cdn.redoc.ly") {
			t.Fatal("docs page does not embed Redoc, or refers to a CDN")
		}
		csp := resp.HTTPResponse.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-eval") {
			t.Fatalf("CSP = %q", csp)
		}
	})
	t.Run("security headers", func(t *testing.T) {
		resp, err := env.Client.GetHealthWithResponse(ctx)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		h := resp.HTTPResponse.Header
		for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
			if h.Get(name) != want {
				t.Errorf("%s = %q", name, h.Get(name))
			}
		}
		if h.Get("Strict-Transport-Security") == "" || h.Get("X-Request-ID") == "" {
			t.Error("missing HSTS or X-Request-ID")
		}
	})
}

func TestReadinessWithRedis(t *testing.T) {
	ctx := context.Background()
	t.Run("reachable", func(t *testing.T) {
		env := testenv.Start(t, testenv.RedisEnv(t)...)
		resp, err := env.Client.GetReadinessWithResponse(ctx)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.JSON200.Checks.Redis != apiclient.CheckStatusOk {
			t.Fatalf("redis check %s: is Redis running at %s?", resp.JSON200.Checks.Redis, testenv.RedisURL())
		}
	})
	t.Run("unreachable means degraded, still serving", func(t *testing.T) {
		env := testenv.Start(t, "REDIS_URL=redis://127.0.0.1:1/0")
		resp, err := env.Client.GetReadinessWithResponse(ctx)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.JSON200.Checks.Redis != apiclient.CheckStatusDegraded || resp.JSON200.Status != apiclient.ReadinessStatusDegraded {
			t.Fatalf("report %+v", resp.JSON200)
		}
	})
}

func TestCORS(t *testing.T) {
	env := testenv.Start(t, "CORS_ALLOWED_ORIGINS=https://shop.example.com")
	for origin, allowed := range map[string]bool{"https://shop.example.com": true, "https://evil.example.com": false} {
		req, _ := http.NewRequest(http.MethodOptions, env.URL+"/v1/me", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if allowed && got != origin || !allowed && got != "" {
			t.Errorf("origin %s: Access-Control-Allow-Origin = %q", origin, got)
		}
	}
}
