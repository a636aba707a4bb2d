package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

// eventually polls cond every 50 ms until it holds, failing the test after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
	}
}

// A primary and a streaming replica (pg_basebackup), both private servers on free ports. With the
// replica's replay paused, the author of a new post reads it back at once (from the primary: the
// caller's write position is past the replica's), while an anonymous list is answered by the replica
// (without the post, which only the primary has). Resumed, the replica serves the post. Stopped, it
// degrades /ready and its reads go to the primary without one failed request.
func TestReadReplicas(t *testing.T) {
	began := time.Now()
	primary := testenv.StartPostgres(t)
	url := primary.CreateMigratedDatabase("storefront")
	replica := primary.StartReplica()
	t.Logf("primary on %d, replica on %d, ready in %v", primary.Port, replica.Port, time.Since(began).Round(time.Millisecond))
	env := testenv.Start(t, append(testenv.RedisEnv(t), "DATABASE_URL="+url,
		"DATABASE_REPLICA_URLS="+replica.URL("storefront"), "DATABASE_REPLICA_MAX_LAG=1m")...)
	ctx := context.Background()
	rs := env.App.DB.Replicas()
	eventually(t, 10*time.Second, "the replica never became usable", rs.Healthy)

	author, token := env.Admin("replica-author@example.com")
	publish := func(title string) uuid.UUID {
		t.Helper()
		resp, err := env.Client.CreatePostWithResponse(ctx, author.Id, nil,
			apiclient.PostCreate{Title: title, Body: "Steeped.", Status: ptr(apiclient.Published)}, testenv.Bearer(token))
		wantStatus(t, resp, resp.Body, err, http.StatusCreated)
		return resp.JSON201.Data.Id
	}
	titles := func(editors ...apiclient.RequestEditorFn) map[string]bool {
		t.Helper()
		resp, err := env.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{AuthorId: &author.Id}, editors...)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		out := map[string]bool{}
		for _, p := range resp.JSON200.Data {
			out[p.Title] = true
		}
		return out
	}
	// The replica's backends that ran a posts list (pg_stat_activity keeps each backend's last query).
	listsOn := func(s *testenv.PGServer) int64 {
		return s.QueryInt("postgres", `SELECT count(*) FROM pg_stat_activity WHERE datname = 'storefront'
			AND query LIKE '%FROM posts p JOIN users u%'`)
	}
	publish("Before the pause")
	eventually(t, 10*time.Second, "the replica never replayed the first post", func() bool { return titles()["Before the pause"] })
	if n := listsOn(replica); n == 0 {
		t.Fatal("no posts list ran on the replica")
	}

	// A second instance with a tight lag bound (and no Redis): it skips the replica once it lags.
	strict := testenv.Start(t, "DATABASE_URL="+url, "DATABASE_REPLICA_URLS="+replica.URL("storefront"), "DATABASE_REPLICA_MAX_LAG=300ms")
	eventually(t, 10*time.Second, "the replica never became usable for the strict instance", strict.App.DB.Replicas().Healthy)

	replica.Exec("postgres", "SELECT pg_wal_replay_pause()")
	eventually(t, 10*time.Second, "replay never paused", func() bool {
		return replica.QueryInt("postgres", "SELECT (pg_get_wal_replay_pause_state() = 'paused')::int") == 1
	})
	during := publish("During the pause")

	primaryBefore, replicaBefore := rs.PrimaryReads.Load(), rs.ReplicaReads.Load()
	if got := titles(testenv.Bearer(token)); !got["During the pause"] {
		t.Fatalf("the author does not see their own post at once: %v", got)
	}
	if rs.PrimaryReads.Load() != primaryBefore+1 || rs.ReplicaReads.Load() != replicaBefore {
		t.Fatalf("the author's read: primary reads %d → %d, replica reads %d → %d; want the primary",
			primaryBefore, rs.PrimaryReads.Load(), replicaBefore, rs.ReplicaReads.Load())
	}
	// A single read through the cache fills it from the primary, never with the lagging replica's
	// answer (here: no such post), even for an anonymous caller.
	misses := env.App.Cache.Stats.Misses.Load()
	read, err := env.Client.GetPostWithResponse(ctx, during, nil)
	wantStatus(t, read, read.Body, err, http.StatusOK)
	if env.App.Cache.Stats.Misses.Load() != misses+1 {
		t.Fatal("the anonymous single read did not fill the cache")
	}
	read, err = env.Client.GetPostWithResponse(ctx, during, nil, testenv.Bearer(token))
	wantStatus(t, read, read.Body, err, http.StatusOK)
	if got := titles(); got["During the pause"] || !got["Before the pause"] {
		t.Fatalf("anonymous list during the pause: %v; want the replica's (older) answer", got)
	}
	if rs.ReplicaReads.Load() != replicaBefore+1 {
		t.Fatalf("anonymous read: replica reads %d → %d; want one more", replicaBefore, rs.ReplicaReads.Load())
	}
	t.Logf("paused: author's list from the primary (primary reads %d → %d), anonymous list from the replica (replica reads %d → %d), "+
		"posts lists run on the replica's backends: %d", primaryBefore, rs.PrimaryReads.Load(), replicaBefore, rs.ReplicaReads.Load(), listsOn(replica))

	// Past the strict instance's bound the paused replica is skipped: /ready says so, and its
	// anonymous reads come from the primary (with the new post).
	eventually(t, 10*time.Second, "the strict instance never skipped the lagging replica", func() bool {
		ready, err := strict.Client.GetReadinessWithResponse(ctx)
		return err == nil && ready.StatusCode() == http.StatusOK && ready.JSON200.Checks.Replicas != nil &&
			*ready.JSON200.Checks.Replicas == apiclient.CheckStatusDegraded
	})
	strictPrimary := strict.App.DB.Replicas().PrimaryReads.Load()
	resp, err := strict.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{AuthorId: &author.Id})
	wantStatus(t, resp, resp.Body, err, http.StatusOK)
	if len(resp.JSON200.Data) != 2 || strict.App.DB.Replicas().PrimaryReads.Load() != strictPrimary+1 {
		t.Fatalf("strict instance, replica lagging: %d posts, primary reads %d → %d; want both posts from the primary",
			len(resp.JSON200.Data), strictPrimary, strict.App.DB.Replicas().PrimaryReads.Load())
	}
	t.Logf("lagging: the strict instance (DATABASE_REPLICA_MAX_LAG=300ms) skipped the replica, lag %v", strict.App.DB.Replicas().States()[0].Lag)

	replica.Exec("postgres", "SELECT pg_wal_replay_resume()")
	replicaBefore = rs.ReplicaReads.Load()
	eventually(t, 10*time.Second, "the replica never served the new post after replay resumed", func() bool { return titles()["During the pause"] })
	t.Logf("resumed: the replica served the new post after %d anonymous reads", rs.ReplicaReads.Load()-replicaBefore)

	// The replica goes away: not one request fails, /ready says degraded, reads go to the primary.
	replica.Stop()
	primaryBefore = rs.PrimaryReads.Load()
	failed := 0
	for i := 0; i < 40; i++ {
		resp, err := env.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{AuthorId: &author.Id})
		if err != nil || resp.StatusCode() != http.StatusOK || len(resp.JSON200.Data) != 2 {
			failed++
		}
	}
	if failed != 0 {
		t.Fatalf("%d of 40 reads failed after the replica stopped", failed)
	}
	eventually(t, 5*time.Second, "/ready does not report the replica", func() bool {
		ready, err := env.Client.GetReadinessWithResponse(ctx)
		return err == nil && ready.StatusCode() == http.StatusOK && ready.JSON200.Status == apiclient.ReadinessStatusDegraded &&
			ready.JSON200.Checks.Replicas != nil && *ready.JSON200.Checks.Replicas == apiclient.CheckStatusDegraded
	})
	m := scrape(t, env)
	// Each of the 40 reads went to the primary, or failed on the replica and was run on the primary.
	primaryReads, fallbacks := m[`storefront_db_reads_total{target="primary"}`], m[`storefront_db_replica_fallbacks_total`]
	if m[`storefront_db_replica_usable{replica="1"}`] != 0 || primaryReads+fallbacks < float64(primaryBefore+40) {
		t.Fatalf("metrics after the replica stopped: usable %v, primary reads %v, fallbacks %v", m[`storefront_db_replica_usable{replica="1"}`],
			primaryReads, fallbacks)
	}
	t.Logf("stopped: 0 of 40 reads failed, %d fell back to the primary mid-read, %d went to the primary; test took %v",
		rs.Fallbacks.Load(), rs.PrimaryReads.Load()-primaryBefore, time.Since(began).Round(time.Millisecond))
}
