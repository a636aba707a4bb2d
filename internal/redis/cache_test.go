package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// newTestCache connects to the test Redis (TEST_REDIS_URL, else the local one) under a fresh key
// prefix holding SCAN pattern characters.
func newTestCache(t *testing.T, prefix string) (*Client, *Cache) {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	return newTestCacheAt(t, url, prefix)
}

// newTestCacheAt is newTestCache on the Redis (or Redis Cluster) at url.
func newTestCacheAt(t *testing.T, url, prefix string) (*Client, *Cache) {
	t.Helper()
	if prefix == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		prefix = "test:" + hex.EncodeToString(b) + ":*?[x]:"
	}
	c, err := New(Options{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	cache := NewCache(c)
	if err := c.Connect(context.Background()); err != nil {
		t.Fatalf("Redis is required for this test: %v", err)
	}
	t.Cleanup(c.Close)
	return c, cache
}

// readCached reads key until the cache answers it (the first read's empty result stays in the
// client-side cache until Redis's invalidation of it arrives) and returns the value.
func readCached(t *testing.T, cache *Cache, key string, load func(context.Context) (string, error)) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		hits := cache.Stats.LocalHits.Load() + cache.Stats.RedisHits.Load()
		v, err := getOrLoad(context.Background(), cache, key, load)
		if err != nil {
			t.Fatal(err)
		}
		if cache.Stats.LocalHits.Load()+cache.Stats.RedisHits.Load() > hits {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never served from the cache", key)
		}
	}
}

func constant(v string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return v, nil }
}

// Keys owed an invalidation are read from the store, never from the cache, until delivered.
func TestOwedKeyBypassesCache(t *testing.T) {
	c, cache := newTestCache(t, "")
	key := c.Key(cacheNamespace, "user", "u")
	readCached(t, cache, key, constant("old"))
	cache.owed.add(key)
	if v, err := getOrLoad(context.Background(), cache, key, constant("new")); err != nil || v != "new" {
		t.Fatalf("owed key: %q, %v; want the store's value", v, err)
	}
}

// An invalidation that failed while the circuit stayed closed (an error reply, one timeout) is still
// delivered: another instance stops serving the old value within a few seconds, not after the TTL.
func TestOwedInvalidationDeliveredWhileClosed(t *testing.T) {
	a, cacheA := newTestCache(t, "")
	_, cacheB := newTestCache(t, a.prefix)
	key := a.Key(cacheNamespace, "product", "p")
	if v := readCached(t, cacheB, key, constant("old")); v != "old" {
		t.Fatalf("B cached %q", v)
	}
	cacheA.owe(key) // as invalidate does when Redis refuses the tombstone
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		v, err := getOrLoad(context.Background(), cacheB, key, constant("new"))
		if err != nil {
			t.Fatal(err)
		}
		if v == "new" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B still serves the old value: the owed invalidation was never delivered")
		}
	}
	if a.Open() || cacheA.owed.pending() {
		t.Fatalf("after delivery: open %v, pending %v", a.Open(), cacheA.owed.pending())
	}
}

// Past maxOwed keys the cache forgets them: this instance then reads everything from the store, and
// every cached key under the prefix (and only those) is tombstoned for the other instances.
func TestOverflowDropsEveryCachedKey(t *testing.T) {
	c, _ := newTestCache(t, "")
	overflowDropsEveryCachedKey(t, c.opt.InitAddress[0])
}

// overflowDropsEveryCachedKey is the overflow test on the Redis at addr (host:port), or on the cluster
// whose node it is: the cached keys spread over the cluster's nodes, and every node is scanned.
func overflowDropsEveryCachedKey(t *testing.T, addr string) {
	c, cache := newTestCacheAt(t, "redis://"+addr, "")
	ctx := context.Background()
	var keys []string
	for _, kind := range []string{"product", "post", "user", "category"} {
		for _, id := range []string{"a", "b"} {
			keys = append(keys, c.Key(cacheNamespace, kind, id))
		}
	}
	for _, k := range keys {
		readCached(t, cache, k, constant("v"))
	}
	// A key under another prefix, which the prefix would match were its pattern characters unescaped,
	// must survive.
	client, _ := c.get()
	other := strings.Replace(c.prefix, "*?[x]", "ABx", 1) + cacheNamespace + ":product:z"
	if err := client.Do(ctx, client.B().Set().Key(other).Value("keep").Ex(TTL).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Do(context.Background(), client.B().Del().Key(other).Build()) })

	keysOwed := make([]string, maxOwed+1)
	for i := range keysOwed {
		keysOwed[i] = "owed:" + strconv.Itoa(i)
	}
	cache.owed.add(keysOwed...)
	if !cache.owed.has(keys[0]) {
		t.Fatal("after an overflow, cached keys are still read from the cache")
	}
	if n, overflow := cache.Drain(ctx); n != 0 || overflow || cache.owed.pending() {
		t.Fatalf("after draining: %d keys owed, overflow %v", n, overflow)
	}
	for _, k := range keys {
		if raw, err := client.Do(ctx, client.B().Get().Key(k).Build()).ToString(); err != nil || raw != tombstone {
			t.Fatalf("%s after the drop: %q, %v; want a tombstone", k, raw, err)
		}
	}
	if raw, err := client.Do(ctx, client.B().Get().Key(other).Build()).ToString(); err != nil || raw != "keep" {
		t.Fatalf("another prefix's key after the drop: %q, %v", raw, err)
	}
	holding := 0 // nodes that held some of the keys: each had to be scanned
	for _, node := range client.Nodes() {
		for _, k := range keys { // a node that does not own the key's slot answers MOVED, an error
			if v, err := node.Do(ctx, node.B().Exists().Key(k).Build()).AsInt64(); err == nil && v == 1 {
				holding++
				break
			}
		}
	}
	if len(client.Nodes()) > 1 && holding < 2 {
		t.Fatalf("the cached keys all live on one node of %d: the test proves nothing about the others", len(client.Nodes()))
	}
	t.Logf("%d cached keys on %d of %d nodes, all tombstoned", len(keys), holding, len(client.Nodes()))
}

// A closed client stays closed: a probe that runs after Close neither dials nor closes the circuit.
func TestProbeAfterClose(t *testing.T) {
	c, _ := newTestCache(t, "")
	c.Close()
	if err := c.probe(context.Background()); err == nil || !c.Open() || c.client.Load() != nil {
		t.Fatalf("probe after Close: %v, open %v, client %v", err, c.Open(), c.client.Load() != nil)
	}
	if _, err := c.get(); err == nil {
		t.Fatal("get after Close returned a client")
	}
}

// A key owed again while a delivery of it is under way stays owed: that delivery's tombstone may have
// gone out before the second write committed.
func TestKeyOwedAgainDuringDeliveryStaysOwed(t *testing.T) {
	o := newOwed()
	o.add("k", "j")
	snap := o.snapshot()
	if !o.has("k") {
		t.Fatal("a key being delivered is no longer bypassed")
	}
	o.add("k")
	o.done(snap)
	if !o.has("k") || o.has("j") || !o.pending() {
		t.Fatalf("after delivery: k owed %v, j owed %v", o.has("k"), o.has("j"))
	}
}

// Once the client is closed, nothing keeps delivering (or spinning).
func TestNoDeliveryAfterClose(t *testing.T) {
	c, cache := newTestCache(t, "")
	cache.owe("k") // a delivery is under way
	c.Close()
	for deadline := time.Now().Add(3 * time.Second); cache.delivering.Load(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("delivery still running after Close")
		}
	}
	cache.owe("j")
	time.Sleep(50 * time.Millisecond)
	if cache.delivering.Load() {
		t.Fatal("a delivery started after Close")
	}
}

// Closing drains what is owed first, so a shutdown during a Redis blip leaves no stale value behind;
// it tries Redis even when the circuit is still open (its probe may be backing off).
func TestDrainDeliversOwedKeys(t *testing.T) {
	c, cache := newTestCache(t, "")
	key := c.Key(cacheNamespace, "product", "d")
	cache.owed.add(key) // owed, with no delivery running yet
	c.trip("test", errors.New("i/o timeout"))
	if n, overflow := cache.Drain(context.Background()); n != 0 || overflow {
		t.Fatalf("%d keys still owed after draining (overflow %v)", n, overflow)
	}
	client, _ := c.get()
	if raw, err := client.Do(context.Background(), client.B().Get().Key(key).Build()).ToString(); err != nil || raw != tombstone {
		t.Fatalf("after draining: %q, %v; want a tombstone", raw, err)
	}
}

// Successes mixed among many failures do not keep the circuit closed: at least half of windowOps
// operations failing opens it, although never tripAfter fail in a row.
func TestFailureRateTrips(t *testing.T) {
	c, _ := newTestCache(t, "")
	errTimeout := errors.New("i/o timeout")
	for i := 0; i < windowOps+1 && !c.Open(); i++ {
		_ = c.do(context.Background(), "test", func(context.Context, rueidis.Client) error {
			if i%3 == 0 {
				return nil
			}
			return errTimeout
		})
		if c.Open() && i+1 < windowOps {
			t.Fatalf("opened after %d operations", i+1)
		}
	}
	if !c.Open() {
		t.Fatal("two failures in three over a window did not open the circuit")
	}
}

// A circuit that reopens soon after closing is probed half as often each time.
func TestProbeBacksOffWhenFlapping(t *testing.T) {
	c, _ := newTestCache(t, "")
	fail := func() {
		for i := 0; i < tripAfter; i++ {
			_ = c.do(context.Background(), "test", func(context.Context, rueidis.Client) error { return errors.New("i/o timeout") })
		}
	}
	waitClosed := func() {
		for deadline := time.Now().Add(10 * time.Second); c.Open(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("circuit still open")
			}
		}
	}
	fail()
	first := time.Duration(c.interval.Load())
	if !c.Open() || first != probeEvery {
		t.Fatalf("first trip: open %v, interval %v", c.Open(), first)
	}
	waitClosed()
	fail()
	if got := time.Duration(c.interval.Load()); !c.Open() || got != 2*first {
		t.Fatalf("second trip soon after closing: open %v, interval %v; want %v", c.Open(), got, 2*first)
	}
}

// The primaries are the masters that own slots: a master that failed over to its replica (no slots
// left) and the replicas are not.
func TestClusterPrimariesFromClusterNodes(t *testing.T) {
	out := "a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460\n" +
		"b2 127.0.0.1:7002@17002 master - 0 1 2 connected 5461-10922\n" +
		"c3 127.0.0.1:7003@17003 master,fail - 0 1 3 disconnected\n" +
		"d4 127.0.0.1:7004@17004 master - 0 1 4 connected 10923-16383\n" +
		"e5 127.0.0.1:7005@17005 slave a1 0 1 1 connected\n"
	got := parseClusterPrimaries(out)
	want := []string{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7004"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("primaries %v, want %v", got, want)
	}
}
