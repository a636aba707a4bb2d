package aftercommit

import (
	"context"
	"slices"
	"testing"
)

// Do work runs only after a commit; Always work runs after the transaction ends either way; both run
// at once without a transaction, and each runs once.
func TestHooks(t *testing.T) {
	var ran []string
	note := func(s string) func() { return func() { ran = append(ran, s) } }

	Do(context.Background(), note("no tx: do"))
	Always(context.Background(), note("no tx: always"))
	if !slices.Equal(ran, []string{"no tx: do", "no tx: always"}) {
		t.Fatalf("without a transaction: %v", ran)
	}

	for _, committed := range []bool{true, false} {
		ran = nil
		ctx, h := With(context.Background())
		Do(ctx, note("do"))
		Always(ctx, note("always"))
		if len(ran) != 0 || !Active(ctx) {
			t.Fatalf("ran before the transaction ended: %v", ran)
		}
		want := []string{"always"}
		if committed {
			h.Run()
			want = []string{"do", "always"}
		} else {
			h.Abandon()
		}
		h.Run() // a second end runs nothing again
		if !slices.Equal(ran, want) {
			t.Fatalf("committed=%v: ran %v, want %v", committed, ran, want)
		}
	}
}
