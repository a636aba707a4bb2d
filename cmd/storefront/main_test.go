package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storefront/storefront/internal/testenv"
)

func TestRun(t *testing.T) {
	dbURL := testenv.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": dbURL, "JWT_SECRET": testenv.Secret, "HTTP_ADDR": "127.0.0.1:0"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()

	t.Run("unknown command", func(t *testing.T) {
		var stderr bytes.Buffer
		if err := run(ctx, []string{"frobnicate"}, getenv, io.Discard, &stderr); err == nil || !strings.Contains(stderr.String(), "usage") {
			t.Fatalf("err = %v, stderr %q", err, stderr.String())
		}
	})
	t.Run("production refuses to start without a secret", func(t *testing.T) {
		err := run(ctx, []string{"serve"}, func(k string) string {
			if k == "APP_ENV" {
				return "production"
			}
			if k == "JWT_SECRET" {
				return ""
			}
			return env[k]
		}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("migrate, seed and create-admin", func(t *testing.T) {
		for _, args := range [][]string{{"migrate"}, {"seed"}, {"seed"}, {"create-admin", "--email", "boss@example.com", "--password", "boss-password"}} {
			var out bytes.Buffer
			if err := run(ctx, args, getenv, &out, io.Discard); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out.String())
			}
		}
		if err := run(ctx, []string{"create-admin", "--email", "x@example.com"}, getenv, io.Discard, io.Discard); err == nil {
			t.Fatal("create-admin without a password succeeded")
		}
	})
	t.Run("serve listens on :0, serves metrics apart, and shuts down cleanly", func(t *testing.T) {
		srvCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		ready := make(chan string, 1)
		done := make(chan error, 1)
		logs := &testenv.SyncBuffer{}
		withMetrics := func(k string) string {
			if k == "METRICS_ADDR" {
				return "127.0.0.1:0"
			}
			return getenv(k)
		}
		go func() { done <- serveForTest(srvCtx, withMetrics, logs, ready) }()
		var addr string
		select {
		case addr = <-ready:
		case err := <-done:
			t.Fatalf("serve ended early: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not start")
		}
		resp, err := http.Get("http://" + addr + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("health = %d", resp.StatusCode)
		}
		// /metrics lives on METRICS_ADDR only.
		main, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		main.Body.Close()
		if main.StatusCode != http.StatusNotFound {
			t.Fatalf("/metrics on the main listener = %d", main.StatusCode)
		}
		m := regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`).FindStringSubmatch(logs.String())
		if m == nil {
			t.Fatalf("no metrics listener logged: %s", logs.String())
		}
		metrics, err := http.Get("http://" + m[1] + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(metrics.Body)
		metrics.Body.Close()
		if metrics.StatusCode != http.StatusOK || !strings.Contains(string(b), "storefront_http_request_duration_seconds") {
			t.Fatalf("metrics listener: %d", metrics.StatusCode)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
		}
	})
}
