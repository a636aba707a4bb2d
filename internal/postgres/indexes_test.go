package postgres_test

import (
	"context"
	"strings"
	"testing"
)

// Every user list sort and the filters in front of the default sort are served by an index: with a
// realistic table, EXPLAIN shows an index scan and no sort step. This is the evidence for the indexes
// in 00001_identity.sql.
func TestUserListQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	conn := freshConn(t)
	_, err := conn.Exec(ctx, `
		INSERT INTO users (public_id, email, name, password_hash, role, status, created_at)
		SELECT gen_random_uuid(), 'user' || g || '@example.com', 'Name ' || (g % 1000), 'x',
		       (ARRAY['customer','editor','admin'])[1 + g % 3], (ARRAY['active','suspended'])[1 + g % 2],
		       now() - g * interval '1 minute'
		FROM generate_series(1, 20000) g`)
	if err != nil {
		t.Fatal(err)
	}
	// As autovacuum would: refresh statistics and flush the GIN pending list.
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE users"); err != nil {
		t.Fatal(err)
	}
	const cols = "SELECT id FROM users WHERE deleted_at IS NULL"
	queries := map[string]string{
		"created_at":         cols + " ORDER BY created_at, public_id LIMIT 21",
		"-created_at keyset": cols + " AND (created_at, public_id) < (now(), gen_random_uuid()) ORDER BY created_at DESC, public_id DESC LIMIT 21",
		"email":              cols + " ORDER BY lower(email), public_id LIMIT 21",
		"-email keyset":      cols + " AND (lower(email), public_id) < ('user5', gen_random_uuid()) ORDER BY lower(email) DESC, public_id DESC LIMIT 21",
		"name":               cols + " ORDER BY name, public_id LIMIT 21",
		"role filter":        cols + " AND role = 'editor' ORDER BY created_at DESC, public_id DESC LIMIT 21",
		"status filter":      cols + " AND status = 'suspended' ORDER BY created_at DESC, public_id DESC LIMIT 21",
		"email lookup":       "SELECT id FROM users WHERE lower(email) = lower('user77@example.com') AND deleted_at IS NULL",
		"substring search q": cols + " AND (lower(email) LIKE '%user1234%' OR lower(name) LIKE '%user1234%')",
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			plan := explain(t, conn, q)
			if !strings.Contains(plan, "Index") || strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort  (") {
				t.Fatalf("plan does not use an index:\n%s", plan)
			}
			t.Logf("%s:\n%s", name, plan)
		})
	}
}
