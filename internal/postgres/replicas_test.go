package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/postgres"
	"github.com/storefront/storefront/internal/testenv"
	"github.com/storefront/storefront/internal/uow"
)

// A read sent to a replica that no longer answers (it went away after the last check) is run on the
// primary at once: the caller never sees the failure, and the replica is skipped from then on.
func TestReplicaReadFallsBackToPrimary(t *testing.T) {
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	gone := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/gone?sslmode=disable", testenv.FreePort(t))
	r, err := postgres.NewReplicas(ctx, pool, []string{gone}, time.Minute, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), postgres.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	if r.Healthy() {
		t.Fatal("a replica that does not answer was found usable")
	}
	postgres.PretendUsable(r) // as if it answered at the last check and died since
	d := postgres.NewDB(pool, nil)
	d.SetReplicas(r)
	store := postgres.NewCatalogStore(d)
	anonymousGET := uow.WithReader(ctx, &uow.Reader{MayLag: true})
	got, err := store.ListCategories(anonymousGET, page.Request{Limit: 10, Sort: "name", Count: page.CountExact})
	if err != nil || got.Total == nil || *got.Total != 0 {
		t.Fatalf("list through a dead replica: %+v, %v; want the primary's answer", got, err)
	}
	if r.ReplicaReads.Load() != 1 || r.Fallbacks.Load() != 1 || r.Healthy() {
		t.Fatalf("replica reads %d, fallbacks %d, healthy %v; want one read sent there, answered by the primary, the replica skipped",
			r.ReplicaReads.Load(), r.Fallbacks.Load(), r.Healthy())
	}
	if _, err := store.ListCategories(anonymousGET, page.Request{Limit: 10, Sort: "name"}); err != nil || r.PrimaryReads.Load() != 1 {
		t.Fatalf("next read: %v, primary reads %d; want it sent to the primary", err, r.PrimaryReads.Load())
	}
}
