package redis

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/storefront/storefront/internal/uow"
)

// cacheNamespace starts every cache key; its version changes whenever the cached JSON of a resource
// changes shape, so instances of a new release never decode an old release's values.
const cacheNamespace = "cache:v1"

// TTL of a cached resource.
const TTL = 10 * time.Minute

// tombstoneTTL is how long an invalidated key refuses to be refilled: long enough for a reader that
// loaded the old row before the write to give up its fill.
const tombstoneTTL = 2 * time.Second

// tombstone marks a key just invalidated; it reads as a miss.
const tombstone = "\x00"

// CacheStats counts cache outcomes, for metrics.
type CacheStats struct {
	LocalHits     atomic.Int64 // served from this process's memory (client-side cache)
	RedisHits     atomic.Int64 // served by Redis
	Misses        atomic.Int64 // loaded from the store
	Invalidations atomic.Int64
	Errors        atomic.Int64 // Redis failed; the store answered
}

// decoded remembers the last decoding of each cached string: a local hit returns the very same string
// until the key changes, so it need not be parsed again. Values handed out are shared and must not be
// modified; the stores' callers only read what Product, Category, UserByID and Post return.
type decoded struct {
	mu sync.RWMutex
	m  map[string]decodedEntry
}

type decodedEntry struct {
	raw   string
	value any
}

const maxDecoded = 10000

func (d *decoded) get(key, raw string) (any, bool) {
	d.mu.RLock()
	e, ok := d.m[key]
	d.mu.RUnlock()
	return e.value, ok && e.raw == raw
}

// maxDecodedBytes keeps large values (long posts) out of the memo, so it stays small.
const maxDecodedBytes = 8 << 10

func (d *decoded) put(key, raw string, v any) {
	if len(raw) > maxDecodedBytes {
		return
	}
	d.mu.Lock()
	if len(d.m) >= maxDecoded {
		clear(d.m) // crude bound; the memo only saves parsing
	}
	d.m[key] = decodedEntry{raw: raw, value: v}
	d.mu.Unlock()
}

// Cache is cache-aside over Redis with RESP3 client-side caching: a read is served from process memory
// when possible, Redis tracks which instances hold which keys, and a write anywhere invalidates every
// instance's copy.
type Cache struct {
	c       *Client
	Stats   *CacheStats
	decoded *decoded
	owed    *owed
	written *written
	// delivering is set while a goroutine delivers owed invalidations (deliverLater).
	delivering atomic.Bool
}

// NewCache returns a cache over the client.
func NewCache(c *Client) *Cache {
	cache := &Cache{c: c, Stats: &CacheStats{}, decoded: &decoded{m: map[string]decodedEntry{}}, owed: newOwed(), written: newWritten()}
	return cache
}

// getOrLoad returns the cached value of key, or loads it, stores it and returns it. A Redis failure
// falls back to load. A load that fills the cache reads the latest writes (never a lagging replica),
// so the cache never keeps an older row than the primary's for its TTL.
func getOrLoad[T any](ctx context.Context, cache *Cache, key string, load func(context.Context) (T, error)) (T, error) {
	if cache.owed.has(key) || cache.written.has(key) {
		return load(ctx) // Redis, or this process's copy, may still hold the value this instance's write replaced
	}
	var (
		raw string
		hit bool
	)
	err := cache.c.doCached(ctx, "GET", &hit, func(ctx context.Context, client rueidis.Client) error {
		res := client.DoCache(ctx, client.B().Get().Key(key).Cache(), TTL)
		hit = res.IsCacheHit()
		var err error
		raw, err = res.ToString()
		return err
	})
	switch {
	case err == nil && raw != tombstone:
		if hit {
			if v, ok := cache.decoded.get(key, raw); ok {
				if tv, ok := v.(T); ok {
					cache.Stats.LocalHits.Add(1)
					return tv, nil
				}
			}
		}
		var v T
		if json.Unmarshal([]byte(raw), &v) == nil {
			if hit {
				cache.Stats.LocalHits.Add(1)
			} else {
				cache.Stats.RedisHits.Add(1)
			}
			cache.decoded.put(key, raw, v)
			return v, nil
		}
	case err != nil && !rueidis.IsRedisNil(err):
		cache.Stats.Errors.Add(1)
		return load(ctx)
	}
	cache.Stats.Misses.Add(1)
	started := time.Now()
	v, err := load(uow.Latest(ctx))
	if err != nil {
		return v, err // not found is not cached: a later create must be visible at once
	}
	// A load slower than a tombstone's life may have read a row a write has since replaced and whose
	// tombstone is already gone: do not fill with it.
	if time.Since(started) >= tombstoneTTL/2 {
		return v, nil
	}
	if b, err := json.Marshal(v); err == nil {
		// NX: a tombstone left by a concurrent write wins over this possibly stale fill.
		err := cache.c.do(ctx, "SET", func(ctx context.Context, client rueidis.Client) error {
			return client.Do(ctx, client.B().Set().Key(key).Value(string(b)).Nx().Ex(TTL).Build()).Error()
		})
		if err != nil && !rueidis.IsRedisNil(err) {
			cache.Stats.Errors.Add(1)
		}
	}
	return v, nil
}

// tombstones leaves a short tombstone on each key: a read sees a miss, a concurrent fill (SET NX)
// cannot put the old value back, and Redis tells every instance holding the key to forget it.
func tombstones(ctx context.Context, client rueidis.Client, keys []string) error {
	cmds := make(rueidis.Commands, 0, len(keys))
	for _, k := range keys {
		cmds = append(cmds, client.B().Set().Key(k).Value(tombstone).Px(tombstoneTTL).Build())
	}
	for _, r := range client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}

// invalidate drops keys: now, and again once the outermost transaction has ended when there is one
// (a reader between the two could otherwise refill the cache with the row being replaced).
// Keys that cannot reach Redis are owed (see owe).
func (cache *Cache) invalidate(ctx context.Context, keys ...string) {
	drop := func() {
		err := cache.c.do(context.WithoutCancel(ctx), "SET tombstone", func(ctx context.Context, client rueidis.Client) error {
			return tombstones(ctx, client, keys)
		})
		if err != nil {
			cache.Stats.Errors.Add(1)
			cache.owe(keys...)
			return
		}
		cache.written.add(keys...)
		cache.Stats.Invalidations.Add(int64(len(keys)))
	}
	if uow.Active(ctx) {
		drop() // now, and again once the outermost transaction has ended
	}
	uow.AfterEnd(ctx, drop)
}
