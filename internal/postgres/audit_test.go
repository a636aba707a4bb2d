package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/postgres"
	"github.com/storefront/storefront/internal/testenv"
)

func auditPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Connect(context.Background(), testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// insertAged writes n entries aged days days, as the service would have written them then.
func insertAged(t *testing.T, pool *pgxpool.Pool, n, days int) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		INSERT INTO audit_events (public_id, occurred_at, action, resource_type, changes)
		SELECT gen_random_uuid(), now() - make_interval(days => $2) - g * interval '1 second', 'product.updated', 'product', '{}'
		FROM generate_series(1, $1) g`, n, days)
	if err != nil {
		t.Fatal(err)
	}
}

func wantRefused(t *testing.T, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Fatalf("err = %v, want the guard's insufficient_privilege", err)
	}
}

// The role the service uses cannot rewrite the audit log: UPDATE and TRUNCATE are refused, and so is
// DELETE of an entry younger than the retention; expired entries can be deleted.
func TestAuditEventsAreAppendOnly(t *testing.T) {
	ctx := context.Background()
	pool := auditPool(t)
	d := postgres.NewDB(pool, nil)
	store := postgres.NewAuditStore(d)
	id := uuid.Must(uuid.NewV7())
	err := d.InTx(ctx, func(ctx context.Context) error {
		return store.InsertEntry(ctx, audit.Entry{ID: id, Action: audit.UserRoleChanged, ResourceType: audit.ResourceUser,
			ResourceID: uuid.New(), Changes: audit.Changes{}.Diff("role", "customer", "admin")})
	})
	if err != nil {
		t.Fatal(err)
	}
	insertAged(t, pool, 1, 500)
	for name, stmt := range map[string]string{
		"update":               "UPDATE audit_events SET action = 'user.deleted'",
		"update of one column": "UPDATE audit_events SET changes = '{}' WHERE public_id = '" + id.String() + "'",
		"delete unexpired":     "DELETE FROM audit_events WHERE public_id = '" + id.String() + "'",
		"delete all":           "DELETE FROM audit_events",
		"truncate":             "TRUNCATE audit_events",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pool.Exec(ctx, stmt)
			wantRefused(t, err)
		})
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_events").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d entries left, %v", n, err)
	}
	t.Run("an expired entry may be deleted", func(t *testing.T) {
		tag, err := pool.Exec(ctx, "DELETE FROM audit_events WHERE occurred_at < now() - interval '400 days'")
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("deleted %v, %v", tag, err)
		}
	})
	t.Run("a shorter retention moves the line", func(t *testing.T) {
		insertAged(t, pool, 1, 40)
		_, err := pool.Exec(ctx, "DELETE FROM audit_events WHERE occurred_at < now() - interval '30 days'")
		wantRefused(t, err) // 40 days is younger than 400
		if _, err := postgres.Cleanup(ctx, pool, 30, time.Now().Add(-30*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_events").Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d entries left after pruning at 30 days, %v", n, err)
		}
	})
}

// The janitor prunes expired entries in batches and leaves the rest.
func TestAuditPruneInBatches(t *testing.T) {
	ctx := context.Background()
	pool := auditPool(t)
	insertAged(t, pool, 2500, 401)
	insertAged(t, pool, 10, 399)
	removed, err := postgres.Cleanup(ctx, pool, 400, time.Now().Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if removed["audit_events"] != 2500 {
		t.Fatalf("removed %v", removed)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_events").Scan(&n); err != nil || n != 10 {
		t.Fatalf("%d entries left, %v", n, err)
	}
}

// The audit log and the API key lists are served by indexes: no sort of, and no sequential scan over,
// a big table.
func TestAuditAndKeyListsUseIndexes(t *testing.T) {
	ctx := context.Background()
	conn := freshConn(t)
	for _, stmt := range []string{
		`INSERT INTO users (public_id, email, name, password_hash) SELECT gen_random_uuid(), 'u' || g || '@example.com', 'U', 'x' FROM generate_series(1, 500) g`,
		`INSERT INTO api_keys (public_id, user_id, name, prefix, last_four, secret_hash, created_at)
		 SELECT gen_random_uuid(), 1 + g % 500, 'key', 'sk_test_', 'abcd', sha256(g::text::bytea), now() - g * interval '1 minute'
		 FROM generate_series(1, 20000) g`,
		`INSERT INTO audit_events (public_id, occurred_at, actor_id, action, resource_type, resource_id, changes)
		 SELECT gen_random_uuid(), now() - g * interval '1 minute', ('00000000-0000-7000-8000-' || lpad((g % 300)::text, 12, '0'))::uuid,
		        (ARRAY['product.updated','order.paid','auth.login_succeeded','user.role_changed'])[1 + g % 4],
		        (ARRAY['product','order','user','user'])[1 + g % 4], ('00000000-0000-7000-8000-' || lpad((g % 5000)::text, 12, '0'))::uuid, '{}'
		 FROM generate_series(1, 40000) g`,
		`VACUUM ANALYZE users`, `VACUUM ANALYZE api_keys`, `VACUUM ANALYZE audit_events`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	const events = "SELECT id FROM audit_events WHERE true"
	const keys = "SELECT k.id, u.public_id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE true"
	queries := map[string]struct{ sql, index string }{
		"audit log":             {events + " ORDER BY occurred_at DESC, public_id DESC LIMIT 21", "audit_events_occurred_at_idx"},
		"audit log keyset":      {events + " AND (occurred_at, public_id) < (now() - interval '1 day', gen_random_uuid()) ORDER BY occurred_at DESC, public_id DESC LIMIT 21", "audit_events_occurred_at_idx"},
		"by actor":              {events + " AND actor_id = '00000000-0000-7000-8000-000000000007' ORDER BY occurred_at DESC, public_id DESC LIMIT 21", "audit_events_actor_idx"},
		"by resource":           {events + " AND resource_type = 'order' AND resource_id = '00000000-0000-7000-8000-000000000009' ORDER BY occurred_at DESC, public_id DESC LIMIT 21", "audit_events_resource_idx"},
		"by action":             {events + " AND action = 'order.paid' ORDER BY occurred_at DESC, public_id DESC LIMIT 21", "audit_events_action_idx"},
		"a user's keys":         {keys + " AND k.user_id = (SELECT id FROM users WHERE public_id = gen_random_uuid()) ORDER BY k.created_at DESC, k.public_id DESC LIMIT 21", "api_keys_user_created_at_idx"},
		"credential by hash":    {"SELECT k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.secret_hash = sha256('7'::bytea) AND u.deleted_at IS NULL", "api_keys_secret_hash_key"},
		"a user's live key ids": {"SELECT k.secret_hash FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.public_id = gen_random_uuid() AND k.revoked_at IS NULL", "api_keys_user_created_at_idx"},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			plan := explain(t, conn, q.sql)
			if !strings.Contains(plan, q.index) || strings.Contains(plan, "Seq Scan on audit_events") || strings.Contains(plan, "Seq Scan on api_keys") {
				t.Fatalf("plan does not use %s:\n%s", q.index, plan)
			}
		})
	}
}
