package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/testenv"
)

// BenchmarkGetProduct measures GET /v1/products/{id} over the real HTTP stack, served (a) from the
// in-process client-side cache, (b) from Redis, (c) from PostgreSQL, and (d) as (a) with the global rate
// limiter running. Each reports requests/s and p50/p99 latency; compare them within one run.
func BenchmarkGetProduct(b *testing.B) { benchGetProduct(b, false) }

// BenchmarkGetProductInProcess is the same through the whole Echo stack (every middleware, the
// validator, the handler) called in-process: no sockets and no HTTP client sharing the two cores, so
// it shows what each read path costs the server itself.
func BenchmarkGetProductInProcess(b *testing.B) { benchGetProduct(b, true) }

func benchGetProduct(b *testing.B, inProcess bool) {
	modes := []struct {
		name string
		opts app.Options
		env  func() []string
	}{
		{"client-cache", app.Options{DisableRateLimit: true}, func() []string { return testenv.RedisEnv(b) }},
		{"redis", app.Options{DisableRateLimit: true, DisableClientCache: true}, func() []string { return testenv.RedisEnv(b) }},
		{"postgres", app.Options{}, func() []string { return nil }},
		{"client-cache+limiter", app.Options{}, func() []string {
			return append(testenv.RedisEnv(b), "RATE_LIMIT_ANONYMOUS_PER_MINUTE=1000000")
		}},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			env := testenv.StartWith(b, m.opts, append(m.env(), "LOG_LEVEL=error")...)
			ctx := context.Background()
			_, admin := env.Admin("bench@example.com")
			resp, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Bench Tea", PriceCents: 1500, Stock: 10}, testenv.Bearer(admin))
			if err != nil || resp.StatusCode() != http.StatusCreated {
				b.Fatalf("product: %v", err)
			}
			path := "/v1/products/" + resp.JSON201.Data.Id.String()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			get := func() {
				if inProcess {
					rec := httptest.NewRecorder()
					env.App.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
					if rec.Code != http.StatusOK {
						b.Fatalf("GET: %d", rec.Code)
					}
					return
				}
				r, err := client.Get(env.URL + path)
				if err != nil || r.StatusCode != http.StatusOK {
					b.Fatalf("GET: %v", err)
				}
				_, _ = io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
			for i := 0; i < 50; i++ { // warm the cache and the connections
				get()
			}
			var mu sync.Mutex
			var all []time.Duration
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var local []time.Duration
				for pb.Next() {
					start := time.Now()
					get()
					local = append(local, time.Since(start))
				}
				mu.Lock()
				all = append(all, local...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(all)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			// Only the warm-up may miss (until Redis's invalidation of the first, empty read arrives).
			if env.App.Cache != nil && env.App.Cache.Stats.Misses.Load() > 50 {
				b.Fatalf("%s: %d misses; the cache did not serve the reads", m.name, env.App.Cache.Stats.Misses.Load())
			}
		})
	}
}
