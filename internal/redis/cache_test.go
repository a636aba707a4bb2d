package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
)

// newTestCache connects to the test Redis (TEST_REDIS_URL, else the local one) under a fresh key
// prefix holding SCAN pattern characters.
func newTestCache(t *testing.T) (*Client, *Cache) {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	c, err := New(Options{URL: url, Prefix: "test:" + hex.EncodeToString(b) + ":*?[x]:"})
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

// When more invalidations are owed than the cache remembers, recovery drops every cached key under the
// prefix (and only those), so nothing written during the outage is served stale.
func TestSettleAfterOverflowDropsEveryCachedKey(t *testing.T) {
	c, cache := newTestCache(t)
	ctx := context.Background()
	loads := 0
	load := func() (string, error) { loads++; return "v", nil }
	keys := []string{c.Key(cacheNamespace, "product", "a"), c.Key(cacheNamespace, "post", "b")}
	for _, k := range keys {
		if _, err := getOrLoad(ctx, cache, k, load); err != nil {
			t.Fatal(err)
		}
	}
	// A key under another prefix, which the prefix would match were its pattern characters unescaped,
	// must survive.
	client, _ := c.get()
	other := strings.Replace(c.prefix, "*?[x]", "ABx", 1) + cacheNamespace + ":product:z"
	if err := client.Do(ctx, client.B().Set().Key(other).Value("keep").Ex(TTL).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Do(context.Background(), client.B().Del().Key(other).Build()) })

	for i := 0; i <= maxOwed; i++ {
		cache.owed.add("owed:" + strconv.Itoa(i))
	}
	if !cache.owed.overflow || cache.owed.n.Load() != maxOwed {
		t.Fatalf("owed %d keys", cache.owed.n.Load())
	}
	if err := cache.settle(ctx, client); err != nil {
		t.Fatal(err)
	}
	if cache.owed.n.Load() != 0 || cache.owed.overflow {
		t.Fatal("owed invalidations not cleared after settling")
	}
	for _, k := range keys {
		if raw, err := client.Do(ctx, client.B().Get().Key(k).Build()).ToString(); err != nil || raw != tombstone {
			t.Fatalf("%s after settling: %q, %v; want a tombstone", k, raw, err)
		}
	}
	if raw, err := client.Do(ctx, client.B().Get().Key(other).Build()).ToString(); err != nil || raw != "keep" {
		t.Fatalf("another prefix's key after settling: %q, %v", raw, err)
	}
	loads = 0
	if _, err := getOrLoad(ctx, cache, keys[0], load); err != nil || loads != 1 {
		t.Fatalf("read after settling: loads %d, %v; want a load from the store", loads, err)
	}
}

// Keys owed an invalidation are read from the store, never from Redis, until settled.
func TestOwedKeyBypassesCache(t *testing.T) {
	c, cache := newTestCache(t)
	ctx := context.Background()
	key := c.Key(cacheNamespace, "user", "u")
	loads := 0
	load := func() (string, error) { loads++; return "v", nil }
	for i := 0; i < 2; i++ {
		if _, err := getOrLoad(ctx, cache, key, load); err != nil {
			t.Fatal(err)
		}
	}
	if loads != 1 {
		t.Fatalf("%d loads; want the second read cached", loads)
	}
	cache.owed.add(key)
	if _, err := getOrLoad(ctx, cache, key, load); err != nil || loads != 2 {
		t.Fatalf("owed key: %d loads, %v; want a load", loads, err)
	}
}
