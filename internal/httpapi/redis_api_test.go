package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

// Two instances on one PostgreSQL and one Redis share one limit: requests spread over both hit it at
// the same total as one instance would.
func TestRateLimitSharedByTwoInstances(t *testing.T) {
	redisEnv := append(testenv.RedisEnv(t), "RATE_LIMIT_ANONYMOUS_PER_MINUTE=20")
	a := testenv.Start(t, redisEnv...)
	b := testenv.Start(t, append(redisEnv, "DATABASE_URL="+a.DatabaseURL())...)
	ctx := context.Background()

	allowed, limited := 0, 0
	for i := 0; i < 30; i++ {
		env := a
		if i%2 == 1 {
			env = b
		}
		resp, err := env.Client.ListCategoriesWithResponse(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := resp.HTTPResponse.Header
		switch resp.StatusCode() {
		case http.StatusOK:
			allowed++
			if h.Get("RateLimit-Limit") != "20" || h.Get("X-RateLimit-Limit") != "20" || h.Get("RateLimit-Remaining") == "" {
				t.Fatalf("headers %v", h)
			}
		case http.StatusTooManyRequests:
			limited++
			e := wantError(t, resp, resp.Body, err, http.StatusTooManyRequests, "RATE_LIMITED")
			_ = e
			if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 || h.Get("RateLimit-Remaining") != "0" {
				t.Fatalf("429 headers %v", h)
			}
		default:
			t.Fatalf("status %d", resp.StatusCode())
		}
	}
	// 20 per minute, all at once; at most one more may have refilled while the test ran.
	if allowed < 20 || allowed > 21 || limited != 30-allowed {
		t.Fatalf("allowed %d, limited %d", allowed, limited)
	}
	t.Run("operations are not limited", func(t *testing.T) {
		resp, err := a.Client.GetHealthWithResponse(ctx)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.HTTPResponse.Header.Get("RateLimit-Limit") != "" {
			t.Fatal("/health is rate limited")
		}
	})
	t.Run("a signed-in user has their own, larger budget", func(t *testing.T) {
		_, tokens := a.Customers(1, "limits") // made directly: the anonymous budget is spent
		resp, err := b.Client.GetMeWithResponse(ctx, testenv.Bearer(tokens[0]))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.HTTPResponse.Header.Get("RateLimit-Limit") != "1000" {
			t.Fatalf("user limit %q", resp.HTTPResponse.Header.Get("RateLimit-Limit"))
		}
	})
}

// An update through instance A is visible on the next read through instance B: Redis invalidates B's
// in-process copy.
func TestCacheCoherentAcrossInstances(t *testing.T) {
	redisEnv := testenv.RedisEnv(t)
	a := testenv.Start(t, redisEnv...)
	b := testenv.Start(t, append(redisEnv, "DATABASE_URL="+a.DatabaseURL())...)
	ctx := context.Background()
	_, admin := a.Admin("cache-admin@example.com")
	created, err := a.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1200, Stock: 10}, testenv.Bearer(admin))
	wantStatus(t, created, created.Body, err, http.StatusCreated)
	id := created.JSON201.Data.Id

	read := func(env *testenv.Env) *apiclient.GetProductResponse {
		t.Helper()
		resp, err := env.Client.GetProductWithResponse(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// The first read fills Redis (and that write drops B's copy of the miss); the second is served by
	// Redis and tracked; from the third on B answers from its own memory.
	read(b)
	read(b)
	before := b.App.Cache.Stats.LocalHits.Load()
	if got := read(b); got.JSON200.Data.PriceCents != 1200 || b.App.Cache.Stats.LocalHits.Load() != before+1 {
		t.Fatalf("second read through B was not served from B's memory (local hits %d → %d)", before, b.App.Cache.Stats.LocalHits.Load())
	}

	upd, err := a.Client.UpdateProductWithResponse(ctx, id, nil, apiclient.ProductPatch{PriceCents: ptr(int64(1500))}, testenv.Bearer(admin))
	wantStatus(t, upd, upd.Body, err, http.StatusOK)
	if got := read(b); got.StatusCode() != http.StatusOK || got.JSON200.Data.PriceCents != 1500 {
		t.Fatalf("B served a stale product after A's update: %s", got.Body)
	}

	t.Run("orders through A update stock seen by B", func(t *testing.T) {
		_, customer := a.Customer("cache-buyer@example.com")
		order, err := a.Client.CreateOrderWithResponse(ctx, key(), apiclient.OrderCreate{
			Items: []apiclient.OrderItemCreate{{ProductId: id, Quantity: 3}}, ShippingAddress: address}, testenv.Bearer(customer))
		wantStatus(t, order, order.Body, err, http.StatusCreated)
		if got := read(b); got.JSON200.Data.Stock != 7 {
			t.Fatalf("B shows stock %d after an order of 3 of 10", got.JSON200.Data.Stock)
		}
	})
	t.Run("a deleted product is gone through B", func(t *testing.T) {
		del, err := a.Client.DeleteProductWithResponse(ctx, id, nil, testenv.Bearer(admin))
		wantStatus(t, del, del.Body, err, http.StatusNoContent)
		got := read(b)
		wantError(t, got, got.Body, nil, http.StatusNotFound, "NOT_FOUND")
	})
	if inv := a.App.Cache.Stats.Invalidations.Load(); inv == 0 {
		t.Fatal("no invalidations counted")
	}
}

// With Redis gone the service keeps serving (no cache, no limits), says so once in the log, reports
// itself degraded, and recovers without a restart when Redis returns.
func TestRedisOutageAndRecovery(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	env := testenv.Start(t, "REDIS_URL="+srv.URL(), "REDIS_KEY_PREFIX=outage:")
	ctx := context.Background()
	_, admin := env.Admin("outage-admin@example.com")
	created, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Hojicha", PriceCents: 900, Stock: 5}, testenv.Bearer(admin))
	wantStatus(t, created, created.Body, err, http.StatusCreated)
	id := created.JSON201.Data.Id

	get := func() *apiclient.GetProductResponse {
		t.Helper()
		resp, err := env.Client.GetProductWithResponse(ctx, id, nil)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		return resp
	}
	if get().HTTPResponse.Header.Get("RateLimit-Limit") == "" {
		t.Fatal("no rate limit headers while Redis is up")
	}

	srv.Stop()
	for i := 0; i < 20; i++ {
		if resp := get(); resp.HTTPResponse.Header.Get("RateLimit-Limit") != "" && i > 0 {
			t.Fatal("rate limit headers while Redis is down")
		}
	}
	ready, err := env.Client.GetReadinessWithResponse(ctx)
	wantStatus(t, ready, ready.Body, err, http.StatusOK)
	if ready.JSON200.Checks.Redis != apiclient.CheckStatusDegraded {
		t.Fatalf("ready %+v", ready.JSON200)
	}
	upd, err := env.Client.UpdateProductWithResponse(ctx, id, nil, apiclient.ProductPatch{PriceCents: ptr(int64(950))}, testenv.Bearer(admin))
	wantStatus(t, upd, upd.Body, err, http.StatusOK)
	if env.App.Redis.Failures() == 0 {
		t.Fatal("failures not counted")
	}
	if n := strings.Count(env.Logs(), "redis unavailable"); n < 1 || n > 2 {
		t.Fatalf("logged %d times during the outage; want once per interval", n)
	}

	srv.Start()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ready, err := env.Client.GetReadinessWithResponse(ctx)
		if err == nil && ready.JSON200 != nil && ready.JSON200.Checks.Redis == apiclient.CheckStatusOk {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("did not recover after Redis came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp := get()
	if resp.HTTPResponse.Header.Get("RateLimit-Limit") == "" || resp.JSON200.Data.PriceCents != 950 {
		t.Fatalf("after recovery: limit header %q, price %d", resp.HTTPResponse.Header.Get("RateLimit-Limit"), resp.JSON200.Data.PriceCents)
	}
	hits := env.App.Cache.Stats.LocalHits.Load() + env.App.Cache.Stats.RedisHits.Load()
	get()
	if env.App.Cache.Stats.LocalHits.Load()+env.App.Cache.Stats.RedisHits.Load() != hits+1 {
		t.Fatal("cache not in use again after recovery")
	}
}
