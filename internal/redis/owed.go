package redis

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// owed holds invalidations that could not reach Redis. Until one is delivered, this instance reads
// that key from the store, never from the cache. Past maxOwed keys it forgets them: it then reads every
// key from the store for a TTL (by then every value cached before the forgotten writes has expired),
// and tombstones every cached key under the prefix when Redis can be reached (for other instances).
type owed struct {
	mu   sync.Mutex
	n    atomic.Int64      // len(keys), read without the lock on every cached read
	keys map[string]uint64 // owed key → when it was (last) owed, from seq
	seq  uint64
	// overflow: keys were forgotten and every cached key is still to be dropped. The drop scans every
	// node the client knows (one for a single Redis, each node of a cluster), each from its cursor on,
	// until every node's scan is finished.
	overflow  bool
	overflows int64 // counts overflows, so a drop that began before the latest one does not clear it
	cursors   map[string]uint64
	finished  map[string]bool
	bypass    atomic.Int64 // unix nanos until which every read goes to the store
}

const maxOwed = 10000

func newOwed() *owed { return &owed{keys: map[string]uint64{}} }

func (o *owed) add(keys ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, k := range keys {
		o.seq++
		if _, ok := o.keys[k]; ok {
			o.keys[k] = o.seq // owed again: a delivery already under way does not settle this one
			continue
		}
		if len(o.keys) >= maxOwed {
			o.overflow, o.cursors, o.finished = true, map[string]uint64{}, map[string]bool{}
			o.overflows++
			o.bypass.Store(time.Now().Add(TTL).UnixNano())
			break
		}
		o.keys[k] = o.seq
	}
	o.n.Store(int64(len(o.keys)))
}

// has reports whether key must be read from the store.
func (o *owed) has(key string) bool {
	if o.n.Load() == 0 && o.bypass.Load() == 0 {
		return false
	}
	if until := o.bypass.Load(); until != 0 {
		if time.Now().UnixNano() < until {
			return true
		}
		o.bypass.CompareAndSwap(until, 0)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.keys[key]
	return ok
}

// pending reports whether anything is still to be delivered.
func (o *owed) pending() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.keys) > 0 || o.overflow
}

// snapshot returns what is owed now. The keys stay owed (and bypassed) until done is called with the
// snapshot after their tombstones are in Redis, so this instance never reads them from the cache
// while a delivery is under way.
func (o *owed) snapshot() map[string]uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.keys)
}

// done forgets the delivered keys, except those owed again since the snapshot, and returns how many
// it forgot (a concurrent delivery of the same snapshot forgets none).
func (o *owed) done(delivered map[string]uint64) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for k, seq := range delivered {
		if s, ok := o.keys[k]; ok && s == seq {
			delete(o.keys, k)
			n++
		}
	}
	o.n.Store(int64(len(o.keys)))
	return n
}

// owe records keys whose invalidation failed and makes sure someone delivers them.
func (cache *Cache) owe(keys ...string) {
	cache.owed.add(keys...)
	if cache.c.life.Err() == nil {
		cache.deliverLater()
	}
}

// Drain delivers what is owed, within ctx, before the client closes: it tries Redis once even while the
// circuit is open (the probe may be backing off), tombstones the owed keys and, after an overflow, every
// cached key. It returns how many keys remain owed and whether an overflow's drop is unfinished; other
// instances may serve those stale for up to the TTL.
func (cache *Cache) Drain(ctx context.Context) (owedKeys int, overflow bool) {
	if cache.owed.pending() {
		if cache.c.Open() {
			_ = cache.c.probe(ctx)
		}
		if client, err := cache.c.get(); err == nil {
			if cache.settle(ctx, client) == nil {
				_ = cache.dropSome(ctx, client)
			}
		}
	}
	cache.owed.mu.Lock()
	defer cache.owed.mu.Unlock()
	return len(cache.owed.keys), cache.owed.overflow
}

// settle delivers the owed keys' tombstones.
func (cache *Cache) settle(ctx context.Context, client rueidis.Client) error {
	owed := cache.owed.snapshot()
	keys := slices.Collect(maps.Keys(owed))
	if err := tombstones(ctx, client, keys); err != nil {
		return err
	}
	cache.Stats.Invalidations.Add(int64(cache.owed.done(owed)))
	return nil
}

// deliverLater starts, unless it runs already, the background delivery of what is owed: once per
// probeEvery, while the circuit is closed, it settles the owed keys and goes on with dropping every
// cached key after an overflow, until nothing is owed or the client is closed. Failures that opened
// the circuit are delivered within probeEvery of its closing; those that did not (one timeout, an
// error reply such as OOM) within probeEvery of Redis accepting the writes.
func (cache *Cache) deliverLater() {
	if !cache.delivering.CompareAndSwap(false, true) {
		return
	}
	go func() {
		for {
			cache.deliver()
			cache.delivering.Store(false)
			// Keys owed after deliver's last look and before the flag was down would be stranded.
			if cache.c.life.Err() != nil || !cache.owed.pending() || !cache.delivering.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

func (cache *Cache) deliver() {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for cache.owed.pending() {
		select {
		case <-cache.c.life.Done():
			return
		case <-t.C:
		}
		client, err := cache.c.get()
		if err != nil {
			continue // the circuit is open: the probe settles first
		}
		ctx, cancel := context.WithTimeout(cache.c.life, deliverTimeout)
		if cache.settle(ctx, client) == nil {
			_ = cache.dropSome(ctx, client)
		}
		cancel()
	}
}

// dropSome goes on tombstoning every cached key under the prefix after an overflow, node by node (a
// cluster's keys live on the node that owns their slot, and SCAN sees one node), each from where it
// got to, until ctx ends or every node's scan is complete. A node that joins during the drop is
// scanned too; keys moved by a resharding meanwhile may be missed, and expire within the TTL.
func (cache *Cache) dropSome(ctx context.Context, client rueidis.Client) error {
	o := cache.owed
	o.mu.Lock()
	overflow, gen := o.overflow, o.overflows
	o.mu.Unlock()
	if !overflow {
		return nil
	}
	nodes := client.Nodes()
	for _, addr := range slices.Sorted(maps.Keys(nodes)) {
		if err := cache.dropOn(ctx, client, nodes[addr], addr, gen); err != nil {
			return err
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.overflows == gen && len(o.finished) >= len(nodes) {
		o.overflow = false
	}
	return nil
}

// dropOn scans one node for cached keys and tombstones them (through client, which routes each key to
// its node), until its scan is complete.
func (cache *Cache) dropOn(ctx context.Context, client, node rueidis.Client, addr string, gen int64) error {
	o := cache.owed
	match := globEscape(cache.c.Key(cacheNamespace)) + ":*"
	for ctx.Err() == nil {
		o.mu.Lock()
		if o.overflows != gen { // overflowed again meanwhile: that drop starts over
			o.mu.Unlock()
			return nil
		}
		cursor, done := o.cursors[addr], o.finished[addr]
		o.mu.Unlock()
		if done {
			return nil
		}
		entry, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Match(match).Count(1000).Build()).AsScanEntry()
		if err != nil {
			return err
		}
		if err := tombstones(ctx, client, entry.Elements); err != nil {
			return err
		}
		cache.Stats.Invalidations.Add(int64(len(entry.Elements)))
		o.mu.Lock()
		if o.overflows == gen {
			o.cursors[addr] = entry.Cursor
			if entry.Cursor == 0 {
				o.finished[addr] = true
			}
		}
		o.mu.Unlock()
	}
	return ctx.Err()
}

// globEscape quotes the characters SCAN MATCH treats as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
