package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// twoLimiters are two instances' limiters on one Redis and one key prefix.
func twoLimiters(t *testing.T) (*Limiter, *Limiter) {
	t.Helper()
	a, _ := newTestCache(t, "")
	b, _ := newTestCache(t, a.prefix)
	return NewLimiter(a), NewLimiter(b)
}

// Two instances sharing one key admit what one exact GCRA limiter would (limit L at once, then one per
// period/L), never more, and at most 5% fewer; the refused flood costs no Redis round trips.
func TestLeasedLimitAcrossInstances(t *testing.T) {
	a, b := twoLimiters(t)
	const limit = 1200 // per minute: a burst of 1200, then one every 50 ms
	var allowed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for _, l := range []*Limiter{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < time.Second {
				d, err := l.Take(context.Background(), "user:hammer", limit, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	exact := float64(limit) + float64(elapsed)/float64(time.Minute/limit)
	got := float64(allowed.Load())
	t.Logf("allowed %v in %v; an exact limiter would allow %.0f; %d leases for %d decisions", got, elapsed.Round(time.Millisecond),
		exact, a.Leases.Load()+b.Leases.Load(), a.Allowed.Load()+a.Denied.Load()+b.Allowed.Load()+b.Denied.Load())
	if got > exact+1 || got < 0.95*exact {
		t.Fatalf("allowed %v, want within [%.0f, %.0f]", got, 0.95*exact, exact+1)
	}
	if leases, decisions := a.Leases.Load()+b.Leases.Load(), a.Allowed.Load()+a.Denied.Load()+b.Allowed.Load()+b.Denied.Load(); leases*10 > decisions {
		t.Fatalf("%d round trips for %d decisions", leases, decisions)
	}
}

// One client hammering one instance is refused at its limit exactly, and the headers count down.
func TestLeasedLimitIsExactForOneInstance(t *testing.T) {
	l, _ := twoLimiters(t)
	const limit = 100
	last := limit
	for i := range limit {
		d, err := l.Take(context.Background(), "ip:one", limit, time.Hour)
		if err != nil || !d.Allowed {
			t.Fatalf("request %d refused: %+v %v", i+1, d, err)
		}
		if d.Remaining != last-1 {
			t.Fatalf("request %d: remaining %d, want %d", i+1, d.Remaining, last-1)
		}
		last = d.Remaining
	}
	d, err := l.Take(context.Background(), "ip:one", limit, time.Hour)
	if err != nil || d.Allowed || d.RetryAfter <= 0 || d.Remaining != 0 {
		t.Fatalf("request %d: %+v %v", limit+1, d, err)
	}
}

// Allowance one instance leased and did not spend goes back to Redis, so the other can spend it.
func TestUnspentAllowanceGoesBack(t *testing.T) {
	a, b := twoLimiters(t)
	const limit = 400 // a batch of 10
	if d, _ := a.Take(context.Background(), "user:share", limit, time.Hour); !d.Allowed {
		t.Fatal("refused")
	}
	n := 0
	for ; n < limit; n++ {
		d, _ := b.Take(context.Background(), "user:share", limit, time.Hour)
		if !d.Allowed {
			break
		}
	}
	if n != limit-batchFor(limit) {
		t.Fatalf("b spent %d while a held its batch, want %d", n, limit-batchFor(limit))
	}
	time.Sleep(leaseTTL)
	a.handBack(context.Background())
	b.mu.Lock()
	b.keys = map[string]*held{} // b forgets its refusal, as after its retry time
	b.mu.Unlock()
	more := 0
	for ; more < limit; more++ {
		d, _ := b.Take(context.Background(), "user:share", limit, time.Hour)
		if !d.Allowed {
			break
		}
	}
	if more != batchFor(limit)-1 {
		t.Fatalf("b got %d more after a handed back, want %d", more, batchFor(limit)-1)
	}
}
