package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

// The service on a three-primary Redis Cluster started by the test: the same coherence and shared
// rate-limit tests as on a single Redis, then one primary killed: the service fails open as it does
// when a single Redis goes away (every request answered; what lived on the dead primary is read from
// PostgreSQL and its limits are off; /ready degraded), and a write made meanwhile is not hidden by a
// stale cached copy.
func TestRedisCluster(t *testing.T) {
	began := time.Now()
	cluster := testenv.StartRedisCluster(t)
	t.Logf("cluster of 3 primaries on %v up in %v: %s", cluster.Ports, time.Since(began).Round(time.Millisecond), cluster.URL())
	clusterEnv := func() []string {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		return []string{"REDIS_URL=" + cluster.URL(), "REDIS_KEY_PREFIX=test:" + hex.EncodeToString(b) + ":"}
	}
	t.Run("cache coherent across instances", func(t *testing.T) { cacheCoherence(t, clusterEnv()) })
	t.Run("rate limit shared by two instances", func(t *testing.T) { rateLimitShared(t, clusterEnv()) })
	t.Run("a primary killed fails open", func(t *testing.T) {
		env := testenv.Start(t, clusterEnv()...)
		ctx := context.Background()
		redisUp(t, env)
		_, admin := env.Admin("cluster-admin@example.com")
		var ids []apiclient.ProductId
		for i := range 6 { // spread over the slots, so some live on the node that dies
			p, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Tea " + string(rune('A'+i)), PriceCents: 1000, Stock: 5}, testenv.Bearer(admin))
			wantStatus(t, p, p.Body, err, http.StatusCreated)
			ids = append(ids, p.JSON201.Data.Id)
		}
		readAll := func(price int64) {
			t.Helper()
			for _, id := range ids {
				resp, err := env.Client.GetProductWithResponse(ctx, id, nil)
				wantStatus(t, resp, resp.Body, err, http.StatusOK)
				if resp.JSON200.Data.PriceCents != price {
					t.Fatalf("product %s at %d; want %d", id, resp.JSON200.Data.PriceCents, price)
				}
			}
		}
		readAll(1000)
		readAll(1000) // cached now, on every node
		cluster.Kill(1)
		for i := 0; i < 5; i++ {
			readAll(1000)
		}
		for _, id := range ids {
			upd, err := env.Client.UpdateProductWithResponse(ctx, id, nil, apiclient.ProductPatch{PriceCents: ptr(int64(1100))}, testenv.Bearer(admin))
			wantStatus(t, upd, upd.Body, err, http.StatusOK)
		}
		readAll(1100)
		if env.App.Redis.Failures() == 0 {
			t.Fatal("no Redis failure counted with a primary down")
		}
		// As with a single Redis, the circuit opens: no request tries the cluster until every primary
		// answers again.
		eventually(t, 5*time.Second, "the circuit never opened with a primary down", env.App.Redis.Open)
		skipped := env.App.Redis.Skipped()
		readAll(1100)
		if env.App.Redis.Skipped() == skipped {
			t.Fatal("reads tried the cluster with the circuit open")
		}
		eventually(t, 10*time.Second, "/ready never said degraded with a primary down", func() bool {
			ready, err := env.Client.GetReadinessWithResponse(ctx)
			return err == nil && ready.StatusCode() == http.StatusOK && ready.JSON200.Checks.Redis == apiclient.CheckStatusDegraded
		})
		readAll(1100)
		t.Logf("with a primary down: every read and write answered; %d Redis failures, %d operations skipped by the open circuit, %d limiter fail-opens",
			env.App.Redis.Failures(), env.App.Redis.Skipped(), env.App.Limiter.FailedOpen.Load())
	})
}
