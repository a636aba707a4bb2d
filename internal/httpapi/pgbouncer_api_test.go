package httpapi_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storefront/storefront/internal/testenv"
)

// poolerSuite is the part of the API suite run again through PgBouncer: users and sign-in (the
// sign-in throttle's pg_advisory_xact_lock), orders with concurrency, idempotency keys (their
// pg_try_advisory_xact_lock and the request-long transaction, in flight too), posts (slug retries in
// savepoints), and serializable retries. Chosen to cover every way the service uses a session, within
// about 40 s under the race detector.
var poolerSuite = []string{
	"TestRegister", "TestLogin", "TestPlaceOrder", "TestIdempotentOrders", "TestConcurrentOrdersNeverOversell",
	"TestIdempotencyKeyInFlight", "TestPostsWorkflow", "TestSerializableOrdersRetry",
}

// The service works unchanged behind a transaction-mode PgBouncer (Debian's 1.18, which cannot keep
// prepared statements in that mode), with DATABASE_QUERY_EXEC_MODE=cache_describe: this test starts
// one in front of the test PostgreSQL and runs poolerSuite again, in this same test binary, with every
// service the tests start reaching its database through it (testenv.PoolerEnv).
func TestAPIThroughPgBouncer(t *testing.T) {
	if os.Getenv(testenv.PoolerEnv) != "" {
		return // already the run through the pooler
	}
	admin, err := url.Parse(testenv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	bouncer := testenv.StartPgBouncer(t, admin.Host)
	// Why the exec mode matters: pgx's default prepares each statement once per connection and reuses
	// it by name, and PgBouncer 1.18 in transaction mode gives each transaction whichever server
	// connection is free.
	if failed, first := bouncer.QueryErrors(t, "cache_statement"); failed == 0 {
		t.Fatal("pgx's default exec mode worked behind PgBouncer in transaction mode; the setting would be needless")
	} else {
		t.Logf("cache_statement behind PgBouncer: %d of 40 queries failed (%v)", failed, first)
	}
	if failed, first := bouncer.QueryErrors(t, "cache_describe"); failed != 0 {
		t.Fatalf("cache_describe behind PgBouncer: %d of 40 queries failed: %v", failed, first)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	began := time.Now()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^("+strings.Join(poolerSuite, "|")+")$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), testenv.PoolerEnv+"="+bouncer.Addr())
	out, err := cmd.CombinedOutput()
	passed := regexp.MustCompile(`(?m)^--- PASS: (\w+)`).FindAllStringSubmatch(string(out), -1)
	if err != nil || len(passed) != len(poolerSuite) {
		t.Fatalf("through PgBouncer: %v; %d of %d tests passed:\n%s", err, len(passed), len(poolerSuite), tail(out, 20000))
	}
	var xacts, queries int64
	for deadline := time.Now().Add(5 * time.Second); xacts == 0 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		xacts, queries = bouncer.Stats(t) // totals are refreshed every stats_period (1 s)
	}
	if xacts == 0 || queries == 0 {
		t.Fatalf("PgBouncer carried %d transactions and %d queries: the suite did not go through it", xacts, queries)
	}
	t.Logf("%d tests passed through PgBouncer in transaction mode in %v; it carried %d transactions, %d queries",
		len(passed), time.Since(began).Round(time.Millisecond), xacts, queries)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
