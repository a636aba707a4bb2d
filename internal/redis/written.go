package redis

import (
	"sync"
	"sync/atomic"
	"time"
)

// written remembers the keys this instance invalidated within the last tombstoneTTL, and makes it read
// them from the store meanwhile. rueidis sends a write and a cached read of the same key over different
// connections of its pool, so Redis's message telling this instance to drop its own copy can arrive
// after the write's reply: without this, the writer could serve its stale copy to its next request (a
// revoked API key working once more on the instance that revoked it). Other instances get the message
// with the write; their window is the delivery of that message.
type written struct {
	mu    sync.Mutex
	n     atomic.Int64     // len(until), read without the lock on every cached read
	until map[string]int64 // key → unix nanos until which it is read from the store
}

const maxWritten = 10000

func newWritten() *written { return &written{until: map[string]int64{}} }

func (w *written) add(keys ...string) {
	now := time.Now().UnixNano()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.until)+len(keys) > maxWritten {
		for k, t := range w.until {
			if t < now {
				delete(w.until, k)
			}
		}
	}
	for _, k := range keys {
		w.until[k] = now + tombstoneTTL.Nanoseconds()
	}
	w.n.Store(int64(len(w.until)))
}

// has reports whether key was written here so recently that it must be read from the store.
func (w *written) has(key string) bool {
	if w.n.Load() == 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.until[key]
	if ok && t < time.Now().UnixNano() {
		delete(w.until, key)
		w.n.Store(int64(len(w.until)))
		return false
	}
	return ok
}
