package uow

import (
	"context"
	"slices"
	"testing"
)

// AfterCommit work runs only after the outermost commit; AfterEnd work after the outermost end either
// way; both run at once outside a unit, and each runs once. A savepoint hands its work to its parent,
// dropping the AfterCommit part when it rolled back.
func TestUnit(t *testing.T) {
	var ran []string
	note := func(s string) func() { return func() { ran = append(ran, s) } }

	AfterCommit(context.Background(), note("no tx: commit"))
	AfterEnd(context.Background(), note("no tx: end"))
	if !slices.Equal(ran, []string{"no tx: commit", "no tx: end"}) {
		t.Fatalf("outside a unit: %v", ran)
	}

	tests := []struct {
		name         string
		inner, outer bool // committed
		want         []string
	}{
		{"both commit", true, true, []string{"outer commit", "inner commit", "outer end", "inner end"}},
		{"savepoint rolled back", false, true, []string{"outer commit", "outer end", "inner end"}},
		{"outer rolled back", true, false, []string{"outer end", "inner end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran = nil
			ctx, outer := Begin(context.Background(), "tx")
			AfterCommit(ctx, note("outer commit"))
			AfterEnd(ctx, note("outer end"))
			inCtx, inner := Begin(ctx, "savepoint")
			if Current(inCtx) != inner || Current(ctx) != outer || !Active(inCtx) {
				t.Fatal("units are not nested in the context")
			}
			AfterCommit(inCtx, note("inner commit"))
			AfterEnd(inCtx, note("inner end"))
			inner.End(tt.inner)
			if len(ran) != 0 {
				t.Fatalf("a savepoint ran work: %v", ran)
			}
			outer.End(tt.outer)
			outer.End(true) // a second end runs nothing again
			if !slices.Equal(ran, tt.want) {
				t.Fatalf("ran %v, want %v", ran, tt.want)
			}
		})
	}
}
