package postgres_test

import (
	"context"
	"strings"
	"testing"
)

// The public post lists, as internal/postgres/content.go builds them, are served by indexes.
func TestPostQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	conn := freshConn(t)
	for _, stmt := range []string{
		`INSERT INTO users (public_id, email, name, password_hash)
		 SELECT gen_random_uuid(), 'u' || g || '@example.com', 'U', 'x' FROM generate_series(1, 200) g`,
		`INSERT INTO posts (public_id, author_id, title, slug, body, status, tags, published_at, created_at)
		 SELECT gen_random_uuid(), 1 + g % 200, 'Post ' || g, 'post-' || g,
		        CASE WHEN g % 1000 = 0 THEN 'darjeeling notes' ELSE 'body ' || g END,
		        (ARRAY['published','published','published','draft','archived'])[1 + g % 5],
		        ARRAY['tag' || (g % 300)], now() - g * interval '1 minute', now() - g * interval '1 minute'
		 FROM generate_series(1, 30000) g`,
		`VACUUM ANALYZE users`, `VACUUM ANALYZE posts`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	const public = `SELECT p.id, u.public_id FROM posts p JOIN users u ON u.id = p.author_id
		WHERE p.deleted_at IS NULL AND p.status = 'published'`
	const pub = "coalesce(p.published_at, '0001-01-01 00:00:00+00'::timestamptz)"
	queries := map[string]struct{ sql, index string }{
		"public by -published_at": {public + " ORDER BY " + pub + " DESC, p.public_id DESC LIMIT 21", "posts_published_at_idx"},
		"public keyset page":      {public + " AND (" + pub + ", p.public_id) < (now() - interval '1 day', gen_random_uuid()) ORDER BY " + pub + " DESC, p.public_id DESC LIMIT 21", "posts_published_at_idx"},
		"public by title":         {public + " ORDER BY p.title, p.public_id LIMIT 21", "posts_title_idx"},
		"public by -created_at":   {public + " ORDER BY p.created_at DESC, p.public_id DESC LIMIT 21", "posts_created_at_idx"},
		"by author":               {public + " AND p.author_id = 7 ORDER BY " + pub + " DESC, p.public_id DESC LIMIT 21", "posts_author_published_at_idx"},
		"by tag":                  {public + " AND p.tags @> ARRAY['tag7'::text] ORDER BY " + pub + " DESC, p.public_id DESC LIMIT 21", "posts_tags_idx"},
		"by slug":                 {public + " AND p.slug = 'post-77'", "posts_slug_live_key"},
		"search":                  {public + " AND p.search @@ websearch_to_tsquery('english', 'darjeeling')", "posts_search_idx"},
		"moderator by status":     {`SELECT p.id FROM posts p WHERE p.deleted_at IS NULL AND p.status = 'draft' ORDER BY p.created_at DESC, p.public_id DESC LIMIT 21`, "posts_status_created_at_idx"},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			plan := explain(t, conn, q.sql)
			if !strings.Contains(plan, q.index) || strings.Contains(plan, "Seq Scan on posts") {
				t.Fatalf("plan does not use %s:\n%s", q.index, plan)
			}
		})
	}
}
