package deadline

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type key struct{}

func waitDone(t *testing.T, ctx context.Context, within time.Duration) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(within):
		t.Fatalf("not done after %v", within)
	}
}

func TestWithinKeepsTheContractOfWithTimeout(t *testing.T) {
	t.Run("no timer until something waits", func(t *testing.T) {
		parent := context.WithValue(context.Background(), key{}, "v")
		ctx, cancel := Within(parent, time.Hour)
		defer cancel()
		if d, ok := ctx.Deadline(); !ok || time.Until(d) < 59*time.Minute {
			t.Fatalf("deadline %v %v", d, ok)
		}
		if ctx.Value(key{}) != "v" {
			t.Fatal("value not passed through")
		}
		if ctx.(*lazy).armed.Load() != nil {
			t.Fatal("armed by Deadline or Value")
		}
		if ctx.Err() != nil {
			t.Fatalf("err %v", ctx.Err())
		}
		if ctx.(*lazy).armed.Load() == nil {
			t.Fatal("Err did not arm")
		}
	})
	t.Run("done at the deadline", func(t *testing.T) {
		ctx, cancel := Within(context.Background(), 20*time.Millisecond)
		defer cancel()
		waitDone(t, ctx, 2*time.Second)
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("err %v", ctx.Err())
		}
	})
	t.Run("the deadline is fixed when made, not when first awaited", func(t *testing.T) {
		ctx, cancel := Within(context.Background(), 20*time.Millisecond)
		defer cancel()
		time.Sleep(40 * time.Millisecond)
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("err %v, want deadline exceeded at once", ctx.Err())
		}
	})
	t.Run("cancel before anything waited", func(t *testing.T) {
		ctx, cancel := Within(context.Background(), time.Hour)
		cancel()
		waitDone(t, ctx, time.Second)
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Fatalf("err %v", ctx.Err())
		}
	})
	t.Run("cancel after something waited", func(t *testing.T) {
		ctx, cancel := Within(context.Background(), time.Hour)
		done := ctx.Done()
		cancel()
		waitDone(t, ctx, time.Second)
		if done != ctx.Done() || !errors.Is(ctx.Err(), context.Canceled) {
			t.Fatalf("err %v", ctx.Err())
		}
	})
	t.Run("the parent's cancellation reaches it", func(t *testing.T) {
		parent, cancelParent := context.WithCancelCause(context.Background())
		ctx, cancel := Within(parent, time.Hour)
		defer cancel()
		cause := errors.New("client went away")
		cancelParent(cause)
		waitDone(t, ctx, time.Second)
		if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(context.Cause(ctx), cause) {
			t.Fatalf("err %v cause %v", ctx.Err(), context.Cause(ctx))
		}
	})
	t.Run("an earlier parent deadline wins", func(t *testing.T) {
		parent, cancelParent := context.WithTimeout(context.Background(), time.Minute)
		defer cancelParent()
		ctx, cancel := Within(parent, time.Hour)
		defer cancel()
		pd, _ := parent.Deadline()
		if d, _ := ctx.Deadline(); !d.Equal(pd) {
			t.Fatalf("deadline %v, parent's %v", d, pd)
		}
	})
	t.Run("derived contexts end with it", func(t *testing.T) {
		ctx, cancel := Within(context.Background(), 20*time.Millisecond)
		defer cancel()
		child, cancelChild := context.WithCancel(context.WithValue(ctx, key{}, "x"))
		defer cancelChild()
		waitDone(t, child, 2*time.Second)
		if !errors.Is(child.Err(), context.DeadlineExceeded) {
			t.Fatalf("child err %v", child.Err())
		}
	})
	t.Run("concurrent waiters share one timer", func(t *testing.T) {
		ctx, cancel := Within(context.Background(), 30*time.Millisecond)
		defer cancel()
		var wg sync.WaitGroup
		chans := make([]<-chan struct{}, 8)
		for i := range chans {
			wg.Add(1)
			go func() { defer wg.Done(); chans[i] = ctx.Done() }()
		}
		wg.Wait()
		for _, ch := range chans[1:] {
			if ch != chans[0] {
				t.Fatal("two Done channels")
			}
		}
		waitDone(t, ctx, 2*time.Second)
	})
}

// BenchmarkUnwaited compares a bound nothing waits on (a cached read) with context.WithTimeout.
func BenchmarkUnwaited(b *testing.B) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("WithTimeout", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, c := context.WithTimeout(parent, time.Second)
			c()
		}
	})
	b.Run("Within", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, c := Within(parent, time.Second)
			c()
		}
	})
}
