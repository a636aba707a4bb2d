package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/testenv"
)

// scrape reads /metrics and returns the value of each sample, keyed by name{label="value",...} with
// labels in name order (histograms by their _count).
func scrape(t *testing.T, env *testenv.Env) map[string]float64 {
	t.Helper()
	resp, err := env.Client.GetMetricsWithResponse(context.Background())
	wantStatus(t, resp, resp.Body, err, http.StatusOK)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(resp.Body)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for name, mf := range families {
		for _, m := range mf.Metric {
			key := name + labelString(m.Label)
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[name+"_count"+labelString(m.Label)] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

func labelString(labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return ""
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l.GetName() + "=\"" + l.GetValue() + "\""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestMetrics(t *testing.T) {
	env := testenv.Start(t, testenv.RedisEnv(t)...)
	ctx := context.Background()
	_, admin := env.Admin("metrics-admin@example.com")
	_, customer := env.Customer("metrics-buyer@example.com")
	before := scrape(t, env)

	created, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Gyokuro", PriceCents: 2000, Stock: 5}, testenv.Bearer(admin))
	wantStatus(t, created, created.Body, err, http.StatusCreated)
	id := created.JSON201.Data.Id
	for i := 0; i < 3; i++ {
		r, err := env.Client.GetProductWithResponse(ctx, id, nil)
		wantStatus(t, r, r.Body, err, http.StatusOK)
	}
	missing, _ := env.HTTP.Get(env.URL + "/v1/nothing")
	missing.Body.Close()
	k := key()
	body := apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: id, Quantity: 1}}, ShippingAddress: address}
	for i := 0; i < 2; i++ {
		r, err := env.Client.CreateOrderWithResponse(ctx, k, body, testenv.Bearer(customer))
		wantStatus(t, r, r.Body, err, http.StatusCreated)
	}
	after := scrape(t, env)

	moved := func(key string) float64 { return after[key] - before[key] }
	for key, want := range map[string]float64{
		`storefront_http_request_duration_seconds_count{method="GET",route="/v1/products/:product_id",status_class="2xx"}`: 3,
		`storefront_http_request_duration_seconds_count{method="GET",route="unmatched",status_class="4xx"}`:                1,
		`storefront_http_request_duration_seconds_count{method="POST",route="/v1/orders",status_class="2xx"}`:              2,
		// the product once, and each signed-in caller's account (checked on every authenticated request) once
		`storefront_cache_requests_total{result="miss"}`:         3,
		`storefront_idempotency_replays_total`:                   1,
		`storefront_order_transitions_total{transition="place"}`: 1,
		// 3 product reads + 1 unmatched /v1 path + 1 product write + 2 orders, each counted once by the limiter
		`storefront_rate_limit_decisions_total{decision="allow"}`: 7,
	} {
		if got := moved(key); got != want {
			t.Errorf("%s moved by %v, want %v", key, got, want)
		}
	}
	// two product reads, and the customer's account on the second order
	if hits := moved(`storefront_cache_requests_total{result="local_hit"}`) + moved(`storefront_cache_requests_total{result="redis_hit"}`); hits != 3 {
		t.Errorf("cache hits moved by %v, want 3", hits)
	}
	for _, present := range []string{"storefront_http_requests_in_flight", "storefront_db_pool_total_connections",
		"storefront_db_pool_acquires_total", "go_goroutines", "process_resident_memory_bytes", "storefront_redis_failures_total"} {
		if _, ok := after[present]; !ok {
			t.Errorf("metric %s missing", present)
		}
	}
	if after["storefront_cache_invalidations_total"] < 1 {
		t.Error("no cache invalidation counted (the order took stock)")
	}
}

func TestTracing(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	env := testenv.StartWith(t, app.Options{TracerProvider: tp}, testenv.RedisEnv(t)...)
	ctx := context.Background()
	u, token := env.Customer("traced@example.com")
	exporter.Reset()

	const parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	resp, err := env.Client.GetUserWithResponse(ctx, u.Id, nil, testenv.Bearer(token),
		testenv.Header("traceparent", "00-"+parentTrace+"-00f067aa0ba902b7-01"))
	wantStatus(t, resp, resp.Body, err, http.StatusOK)

	spans := exporter.GetSpans()
	var server *tracetest.SpanStub
	for i := range spans {
		if spans[i].Name == "GET /v1/users/:user_id" {
			server = &spans[i]
		}
	}
	if server == nil {
		t.Fatalf("no server span among %d spans", len(spans))
	}
	if server.SpanContext.TraceID().String() != parentTrace {
		t.Fatalf("incoming traceparent not continued: trace %s", server.SpanContext.TraceID())
	}
	attrs := map[attribute.Key]attribute.Value{}
	for _, a := range server.Attributes {
		attrs[a.Key] = a.Value
	}
	if attrs["http.route"].AsString() != "/v1/users/:user_id" || attrs["http.status_code"].AsInt64() != 200 {
		t.Fatalf("server span attributes %v", server.Attributes)
	}
	var sql, redis int
	for _, s := range spans {
		if s.Parent.SpanID() != server.SpanContext.SpanID() {
			continue
		}
		switch {
		case strings.HasPrefix(s.Name, "redis "):
			redis++
		case strings.Contains(strings.ToLower(s.Name), "select") || strings.HasPrefix(s.Name, "query"):
			sql++
			for _, a := range s.Attributes {
				if strings.Contains(a.Value.Emit(), "traced@example.com") {
					t.Fatalf("query arguments recorded in a span: %v", a)
				}
			}
		}
	}
	if sql < 1 || redis < 1 {
		names := []string{}
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("children of the server span: %d SQL, %d Redis; spans %v", sql, redis, names)
	}

	// The access log line of that request carries its request id and trace ids.
	found := false
	for _, line := range strings.Split(env.Logs(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "request" || rec["route"] != "/v1/users/:user_id" {
			continue
		}
		found = true
		if rec["trace_id"] != parentTrace || rec["span_id"] != server.SpanContext.SpanID().String() ||
			rec["request_id"] != resp.HTTPResponse.Header.Get("X-Request-ID") {
			t.Fatalf("log line %v", rec)
		}
	}
	if !found {
		t.Fatal("no access log line for the request")
	}
}
