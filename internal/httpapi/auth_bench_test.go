package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/testenv"
)

// BenchmarkAuthenticate measures GET /v1/me authenticated with an access token (a JWT: a signature
// check, no lookup) and with an API key (a checksum, a SHA-256 and one lookup of the key's credential,
// served from the client-side cache), in-process through the whole stack with the Redis cache on and
// the rate limiter off, in the same run. lookups/op counts the cached reads per request: GET /v1/me
// reads the user once either way, so an API key should show exactly one more.
func BenchmarkAuthenticate(b *testing.B) {
	env := testenv.StartWith(b, app.Options{DisableRateLimit: true}, append(testenv.RedisEnv(b), "LOG_LEVEL=error")...)
	_, token := env.Customer("bench-auth@example.com")
	key := env.CreateAPIKey(token, "Bench")
	stats := env.App.Cache.Stats
	lookups := func() int64 { return stats.LocalHits.Load() + stats.RedisHits.Load() + stats.Misses.Load() }
	for _, m := range []struct{ name, header, value string }{
		{"jwt", "Authorization", "Bearer " + token},
		{"api-key", "X-API-Key", key.Secret},
	} {
		b.Run(m.name, func(b *testing.B) {
			get := func() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
				req.Header.Set(m.header, m.value)
				env.App.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			for range 3 {
				get() // fill Redis and this process's copy
			}
			before, local := lookups(), stats.LocalHits.Load()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				get()
			}
			b.StopTimer()
			b.ReportMetric(float64(lookups()-before)/float64(b.N), "lookups/op")
			b.ReportMetric(float64(stats.LocalHits.Load()-local)/float64(b.N), "local-hits/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
