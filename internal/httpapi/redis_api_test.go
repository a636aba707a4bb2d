package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/rueidis"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/redis"
	"github.com/storefront/storefront/internal/testenv"
)

// Two instances on one PostgreSQL and one Redis share one limit: requests spread over both hit it at
// the same total as one instance would.
func TestRateLimitSharedByTwoInstances(t *testing.T) { rateLimitShared(t, testenv.RedisEnv(t)) }

// rateLimitShared is the shared-limit test on the Redis (or Redis Cluster) redisEnv configures.
func rateLimitShared(t *testing.T, redisEnv []string) {
	redisEnv = append(redisEnv, "RATE_LIMIT_ANONYMOUS_PER_MINUTE=20")
	a := testenv.Start(t, redisEnv...)
	b := testenv.Start(t, append(redisEnv, "DATABASE_URL="+a.DatabaseURL())...)
	redisUp(t, a, b)
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

// redisUp waits until every instance's circuit has closed: an instance starts with it open and closes it
// once a probe reaches Redis, which on a loaded machine may take a probe interval (a second) or two.
func redisUp(t *testing.T, envs ...*testenv.Env) {
	t.Helper()
	for _, env := range envs {
		eventually(t, 5*time.Second, "the Redis circuit never closed", func() bool { return !env.App.Redis.Open() })
	}
}

// An update through instance A is visible on the next read through instance B: Redis invalidates B's
// in-process copy.
func TestCacheCoherentAcrossInstances(t *testing.T) { cacheCoherence(t, testenv.RedisEnv(t)) }

// cacheCoherence is the coherence test on the Redis (or Redis Cluster) redisEnv configures.
func cacheCoherence(t *testing.T, redisEnv []string) {
	a := testenv.Start(t, redisEnv...)
	b := testenv.Start(t, append(redisEnv, "DATABASE_URL="+a.DatabaseURL())...)
	redisUp(t, a, b)
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
	// Redis and tracked; from then on B answers from its own memory. The fill's invalidation message
	// is asynchronous: under load it can arrive after the second read and drop that copy once more, so
	// B gets a few reads (bounded) to start answering from memory.
	read(b)
	local := false
	for i := 0; i < 20 && !local; i++ {
		before := b.App.Cache.Stats.LocalHits.Load()
		got := read(b)
		if got.StatusCode() != http.StatusOK || got.JSON200.Data.PriceCents != 1200 {
			t.Fatalf("read through B: %s", got.Body)
		}
		local = b.App.Cache.Stats.LocalHits.Load() > before
		if !local {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !local {
		t.Fatalf("20 reads through B, none served from B's memory (local hits %d)", b.App.Cache.Stats.LocalHits.Load())
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

// productOnPrivateRedis starts a service on its own redis-server, creates a product at price as an
// admin, and returns a reader of it that expects 200.
func productOnPrivateRedis(t *testing.T, name string, price int64) (*testenv.RedisServer, *testenv.Env, string, uuid.UUID, func() *apiclient.GetProductResponse) {
	t.Helper()
	srv := testenv.StartRedisServer(t)
	env := testenv.Start(t, "REDIS_URL="+srv.URL(), "REDIS_KEY_PREFIX="+name+":")
	ctx := context.Background()
	_, admin := env.Admin(name + "-admin@example.com")
	created, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Tea " + name, PriceCents: price, Stock: 5}, testenv.Bearer(admin))
	wantStatus(t, created, created.Body, err, http.StatusCreated)
	id := created.JSON201.Data.Id
	return srv, env, admin, id, func() *apiclient.GetProductResponse {
		t.Helper()
		resp, err := env.Client.GetProductWithResponse(ctx, id, nil)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		return resp
	}
}

// waitClosed waits for the circuit breaker to close (Redis reached again).
func waitClosed(t *testing.T, c *redis.Client) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); c.Open(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("circuit still open: Redis not reached again")
		}
	}
}

// With Redis gone the service keeps serving (no cache, no limits), says so once in the log, reports
// itself degraded, and recovers without a restart when Redis returns.
func TestRedisOutageAndRecovery(t *testing.T) {
	srv, env, admin, id, get := productOnPrivateRedis(t, "outage", 900)
	ctx := context.Background()
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
	if n := strings.Count(env.Logs(), `"msg":"redis unavailable: serving without it"`); n < 1 || n > 2 {
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
	// Connections idle through the outage must not fail the first requests after it (rueidis spreads
	// commands over several; the probe's ping proves one).
	failures := env.App.Redis.Failures()
	for i := 0; i < 10; i++ {
		resp := get()
		if resp.HTTPResponse.Header.Get("RateLimit-Limit") == "" || resp.JSON200.Data.PriceCents != 950 {
			t.Fatalf("read %d after recovery: limit header %q, price %d", i, resp.HTTPResponse.Header.Get("RateLimit-Limit"), resp.JSON200.Data.PriceCents)
		}
	}
	if n := env.App.Redis.Failures() - failures; n != 0 {
		t.Fatalf("%d Redis failures after recovery", n)
	}
	waitForCacheHit(t, env.App.Cache.Stats, get)
}

// waitForCacheHit reads until the cache answers (an owed invalidation's tombstone lives 2 s).
func waitForCacheHit(t *testing.T, st *redis.CacheStats, get func() *apiclient.GetProductResponse) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		hits := st.LocalHits.Load() + st.RedisHits.Load()
		get()
		if st.LocalHits.Load()+st.RedisHits.Load() > hits {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("cache not in use again after recovery")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A Redis that hangs (accepts, never answers) trips the circuit breaker after a few failed operations:
// from then on no request waits on Redis. A write made meanwhile owes its invalidation, which is
// delivered when Redis answers again, so the value cached before the hang is never served again.
func TestRedisHangTripsBreaker(t *testing.T) {
	srv, env, admin, id, get := productOnPrivateRedis(t, "hang", 2400)
	ctx := context.Background()
	get()
	waitForCacheHit(t, env.App.Cache.Stats, get) // 2400 is now cached in Redis and in this process

	srv.Pause()
	for i := 0; !env.App.Redis.Open(); i++ {
		if i == 10 {
			t.Fatalf("circuit still closed after %d requests against a hung Redis", i)
		}
		get()
	}
	failures, skipped := env.App.Redis.Failures(), env.App.Redis.Skipped()
	upd, err := env.Client.UpdateProductWithResponse(ctx, id, nil, apiclient.ProductPatch{PriceCents: ptr(int64(2500))}, testenv.Bearer(admin))
	wantStatus(t, upd, upd.Body, err, http.StatusOK)
	for i := 0; i < 20; i++ {
		if resp := get(); resp.JSON200.Data.PriceCents != 2500 {
			t.Fatalf("price %d during the hang; want 2500", resp.JSON200.Data.PriceCents)
		}
	}
	if n := env.App.Redis.Failures(); n != failures {
		t.Fatalf("%d more operations waited on the hung Redis after the circuit opened", n-failures)
	}
	if n := env.App.Redis.Skipped() - skipped; n < 20 {
		t.Fatalf("%d operations skipped by the open circuit; want at least one per request", n)
	}
	m := scrape(t, env)
	if m["storefront_redis_circuit_open"] != 1 || m["storefront_redis_skipped_total"] < 20 {
		t.Fatalf("metrics: circuit_open %v, skipped %v", m["storefront_redis_circuit_open"], m["storefront_redis_skipped_total"])
	}
	ready, err := env.Client.GetReadinessWithResponse(ctx)
	wantStatus(t, ready, ready.Body, err, http.StatusOK)
	if ready.JSON200.Checks.Redis != apiclient.CheckStatusDegraded {
		t.Fatalf("ready during the hang: %+v", ready.JSON200)
	}

	srv.Resume()
	waitClosed(t, env.App.Redis)
	// Redis still holds the 2400 cached before the hang; the owed invalidation must have removed it.
	if resp := get(); resp.JSON200.Data.PriceCents != 2500 {
		t.Fatalf("price %d after the hang; want 2500 (stale cache)", resp.JSON200.Data.PriceCents)
	}
	waitForCacheHit(t, env.App.Cache.Stats, get)
	if resp := get(); resp.JSON200.Data.PriceCents != 2500 || resp.HTTPResponse.Header.Get("RateLimit-Limit") == "" {
		t.Fatalf("after recovery: price %d, limit header %q", resp.JSON200.Data.PriceCents, resp.HTTPResponse.Header.Get("RateLimit-Limit"))
	}
}

// Redis down when the service starts: it starts and serves, and takes Redis up when it appears.
func TestRedisDownAtStart(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	srv.Stop()
	env := testenv.Start(t, "REDIS_URL="+srv.URL(), "REDIS_KEY_PREFIX=late:")
	ctx := context.Background()
	resp, err := env.Client.ListProductsWithResponse(ctx, nil)
	wantStatus(t, resp, resp.Body, err, http.StatusOK)
	if !env.App.Redis.Open() || resp.HTTPResponse.Header.Get("RateLimit-Limit") != "" {
		t.Fatal("started as if Redis were up")
	}
	srv.Start()
	waitClosed(t, env.App.Redis)
	resp, err = env.Client.ListProductsWithResponse(ctx, nil)
	wantStatus(t, resp, resp.Body, err, http.StatusOK)
	if resp.HTTPResponse.Header.Get("RateLimit-Limit") == "" {
		t.Fatal("no rate limits after Redis came up")
	}
}

// Redis refusing a write (here: out of memory) makes an invalidation fail without opening the circuit.
// The writer owes it and delivers it once Redis accepts writes again, so another instance stops serving
// the old value within seconds rather than after the 10-minute TTL.
func TestRefusedInvalidationDeliveredLater(t *testing.T) {
	srv, a, admin, id, _ := productOnPrivateRedis(t, "refused", 3000)
	b := testenv.Start(t, "REDIS_URL="+srv.URL(), "REDIS_KEY_PREFIX=refused:", "DATABASE_URL="+a.DatabaseURL())
	ctx := context.Background()
	readB := func() *apiclient.GetProductResponse {
		t.Helper()
		resp, err := b.Client.GetProductWithResponse(ctx, id, nil)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		return resp
	}
	waitForCacheHit(t, b.App.Cache.Stats, readB) // B holds 3000

	admin2, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:" + strconv.Itoa(srv.Port)}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer admin2.Close()
	setMaxMemory := func(v string) {
		t.Helper()
		if err := admin2.Do(ctx, admin2.B().ConfigSet().ParameterValue().ParameterValue("maxmemory", v).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	setMaxMemory("1")
	upd, err := a.Client.UpdateProductWithResponse(ctx, id, nil, apiclient.ProductPatch{PriceCents: ptr(int64(3100))}, testenv.Bearer(admin))
	wantStatus(t, upd, upd.Body, err, http.StatusOK)
	if a.App.Redis.Open() {
		t.Fatal("an error reply opened the circuit; Redis answered")
	}
	setMaxMemory("0")
	for deadline := time.Now().Add(10 * time.Second); readB().JSON200.Data.PriceCents != 3100; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("B still serves the old price: the refused invalidation was never delivered")
		}
	}
}
