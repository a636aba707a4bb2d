package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

// The endpoint is the collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is: spans go to /v1/traces.
func TestSpansGoToV1Traces(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
	}))
	defer srv.Close()
	tp, err := NewTracerProvider(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("t").Start(context.Background(), "x")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) == 0 || paths[0] != "/v1/traces" {
		t.Fatalf("spans posted to %v", paths)
	}
	if _, err := NewTracerProvider(context.Background(), "collector:4318"); err == nil {
		t.Fatal("an endpoint without a scheme was accepted")
	}
}

// Any token is an HTTP method; the label must stay bounded.
func TestMethodLabelIsBounded(t *testing.T) {
	m := NewMetrics()
	for _, method := range []string{"GET", "X0", "X1", "BREW"} {
		m.ObserveRequest(method, "/v1/posts", 405, time.Millisecond)
	}
	out, err := testutil.CollectAndFormat(m.requestDuration, expfmt.TypeTextPlain, "storefront_http_request_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	if !strings.Contains(text, `method="OTHER"`) || strings.Contains(text, `method="X0"`) {
		t.Fatalf("labels: %s", text)
	}
}
