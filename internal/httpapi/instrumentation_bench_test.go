package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/testenv"
)

// BenchmarkInstrumentation measures GET /v1/products/{id} (in-process, full Echo stack, from
// PostgreSQL) with no instrumentation at all, with the default (metrics on, tracing off), and with
// tracing on (spans exported in batches to a discarding exporter). Tracing off must stay within 5% of
// no instrumentation.
func BenchmarkInstrumentation(b *testing.B) {
	discard := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer discard.Shutdown(context.Background())
	for _, m := range []struct {
		name string
		opts app.Options
	}{
		{"none", app.Options{NoMetrics: true}},
		{"tracing-off", app.Options{}},
		{"tracing-on", app.Options{TracerProvider: discard}},
	} {
		b.Run(m.name, func(b *testing.B) {
			env := testenv.StartWith(b, m.opts, "LOG_LEVEL=error")
			_, admin := env.Admin("instr@example.com")
			resp, err := env.Client.CreateProductWithResponse(context.Background(), nil,
				apiclient.ProductCreate{Name: "Bench", PriceCents: 100, Stock: 1}, testenv.Bearer(admin))
			if err != nil || resp.StatusCode() != http.StatusCreated {
				b.Fatal(err)
			}
			path := "/v1/products/" + resp.JSON201.Data.Id.String()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := httptest.NewRecorder()
				env.App.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
