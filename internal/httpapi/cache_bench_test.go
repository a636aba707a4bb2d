package httpapi_test

import (
	"context"
	"fmt"
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

// BenchmarkGetProduct measures GET /v1/products/{id} over loopback TCP through the whole server (net/http,
// every middleware, the validator, the handler), served (a) from the in-process client-side cache, (b)
// from Redis, (c) from PostgreSQL, and (d) as (a) with the global rate limiter running. Each reports
// requests/s and p50/p99 latency; compare them within one run.
//
// The load generator is a minimal keep-alive HTTP/1.1 client (testenv.LoadConn, in the manner of wrk)
// sharing the two cores with the server, PostgreSQL and Redis. Two baselines, measured in the same
// run, bound what any read path can reach here:
//   - floor: a bare net/http server answering a recorded copy of the same response, i.e. the
//     sockets, the kernel and net/http with no work at all;
//   - pipelined-8/…: the same modes with 8 requests per write (HTTP/1.1 pipelining). The client then
//     writes once and reads a few times per 8 requests and the server reads once; net/http still
//     writes each response on its own. It shows each path with less of the socket cost that every
//     mode pays alike. Latencies there are per batch of 8.
func BenchmarkGetProduct(b *testing.B) {
	for _, depth := range []int{1, 8} {
		name := "keep-alive"
		if depth > 1 {
			name = fmt.Sprintf("pipelined-%d", depth)
		}
		b.Run(name, func(b *testing.B) { benchGetProduct(b, depth) })
	}
}

// BenchmarkGetProductInProcess is the same through the whole Echo stack (every middleware, the
// validator, the handler) called in-process: no sockets and no load generator sharing the two cores,
// so it shows what each read path costs the server itself.
func BenchmarkGetProductInProcess(b *testing.B) { benchGetProduct(b, 0) }

// parallelism × GOMAXPROCS goroutines read at once, each on its own connection.
const parallelism = 8

// productModes are the read paths compared.
var productModes = []struct {
	name string
	opts app.Options
	env  func(testing.TB) []string
}{
	{"client-cache", app.Options{DisableRateLimit: true}, testenv.RedisEnv},
	{"redis", app.Options{DisableRateLimit: true, DisableClientCache: true}, testenv.RedisEnv},
	{"postgres", app.Options{}, func(testing.TB) []string { return nil }},
	{"client-cache+limiter", app.Options{}, func(t testing.TB) []string {
		return append(testenv.RedisEnv(t), "RATE_LIMIT_ANONYMOUS_PER_MINUTE=1000000")
	}},
}

// benchGetProduct runs every mode; depth 0 is in-process, else requests per write on each connection.
func benchGetProduct(b *testing.B, depth int) {
	if depth > 0 {
		b.Run("floor", func(b *testing.B) {
			env, path := productEnv(b, productModes[0].opts, productModes[0].env(b))
			srv := httptest.NewServer(replay(b, env, path))
			b.Cleanup(srv.Close)
			runReads(b, depth, srv.URL, path, nil)
		})
	}
	for _, m := range productModes {
		b.Run(m.name, func(b *testing.B) {
			env, path := productEnv(b, m.opts, m.env(b))
			var in http.Handler
			if depth == 0 {
				in = env.App.Handler
			}
			runReads(b, depth, env.URL, path, in)
			// Only the warm-up may miss (until Redis's invalidation of the first, empty read arrives).
			if env.App.Cache != nil && env.App.Cache.Stats.Misses.Load() > 50 {
				b.Fatalf("%s: %d misses; the cache did not serve the reads", m.name, env.App.Cache.Stats.Misses.Load())
			}
		})
	}
}

// productEnv starts a service and creates the product the benchmark reads; it returns the product's path.
func productEnv(b *testing.B, opts app.Options, env []string) (*testenv.Env, string) {
	e := testenv.StartWith(b, opts, append(env, "LOG_LEVEL=error")...)
	_, admin := e.Admin("bench@example.com")
	resp, err := e.Client.CreateProductWithResponse(context.Background(), nil, apiclient.ProductCreate{Name: "Bench Tea", PriceCents: 1500, Stock: 10}, testenv.Bearer(admin))
	if err != nil || resp.StatusCode() != http.StatusCreated {
		b.Fatalf("product: %v", err)
	}
	return e, "/v1/products/" + resp.JSON201.Data.Id.String()
}

// replay records the service's response to GET path and returns a bare handler that answers it.
func replay(b *testing.B, env *testenv.Env, path string) http.Handler {
	rec := httptest.NewRecorder()
	env.App.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("GET: %d", rec.Code)
	}
	header, body := rec.Header().Clone(), rec.Body.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		_, _ = w.Write(body)
	})
}

// runReads measures GET path: through handler in-process when it is set, else over connections to
// baseURL with depth requests per write. It reports requests/s and p50/p99 latency (per batch when
// pipelined).
func runReads(b *testing.B, depth int, baseURL, path string, handler http.Handler) {
	// reader returns one goroutine's way of reading: its own connection, or the handler in-process.
	reader := func() (func() error, error) {
		if handler != nil {
			return func() error {
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != http.StatusOK {
					return fmt.Errorf("GET: %d", rec.Code)
				}
				return nil
			}, nil
		}
		conn, err := testenv.DialLoad(baseURL, path)
		if err != nil {
			return nil, err
		}
		b.Cleanup(func() { conn.Close() })
		return func() error {
			if status, err := conn.Get(depth, http.StatusOK); err != nil || status != http.StatusOK {
				return fmt.Errorf("GET: %d %v", status, err)
			}
			return nil
		}, nil
	}
	warm, err := reader()
	for i := 0; i < 50 && err == nil; i++ { // warm the cache
		err = warm()
	}
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		read, err := reader()
		if err != nil {
			b.Error(err) // Fatal must not be called from these goroutines
			return
		}
		var local []time.Duration
		for pb.Next() {
			start := time.Now()
			if err := read(); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(start))
		}
		mu.Lock()
		all = append(all, local...)
		mu.Unlock()
	})
	b.StopTimer()
	if b.Failed() || len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(b.N*max(depth, 1))/b.Elapsed().Seconds(), "req/s")
	unit := "µs"
	if depth > 1 {
		unit = "µs/batch"
	}
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-"+unit)
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-"+unit)
}
