package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/internal/testenv"
)

// freshConn connects to a new migrated database for the test.
func freshConn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func explain(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "EXPLAIN "+q)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// The product and order lists, as internal/postgres builds them, are served by indexes over a
// realistic table: no sequential scan of the big table and no sort of it.
func TestCatalogAndOrderQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	conn := freshConn(t)
	for _, stmt := range []string{
		`INSERT INTO categories (public_id, name, slug) SELECT gen_random_uuid(), 'Category ' || g, 'category-' || g FROM generate_series(1, 20) g`,
		`INSERT INTO products (public_id, category_id, name, slug, description, price_cents, stock, active, created_at)
		 SELECT gen_random_uuid(), 1 + g % 20, 'Product ' || g, 'product-' || g,
		        CASE WHEN g % 500 = 0 THEN 'smoky oolong' ELSE 'plain description ' || g END,
		        100 + (g * 37) % 100000, g % 7, g % 50 <> 0, now() - g * interval '1 minute'
		 FROM generate_series(1, 30000) g`,
		`INSERT INTO users (public_id, email, name, password_hash)
		 SELECT gen_random_uuid(), 'u' || g || '@example.com', 'U', 'x' FROM generate_series(1, 500) g`,
		`INSERT INTO orders (public_id, user_id, status, subtotal_cents, total_cents, currency, shipping_address, created_at)
		 SELECT gen_random_uuid(), 1 + g % 500, (ARRAY['pending','paid','shipped','delivered','cancelled'])[1 + g % 5],
		        2000, 2000, 'USD', '{}', now() - g * interval '1 minute'
		 FROM generate_series(1, 30000) g`,
		`VACUUM ANALYZE categories`, `VACUUM ANALYZE products`, `VACUUM ANALYZE users`, `VACUUM ANALYZE orders`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	const product = `SELECT p.id, c.public_id FROM products p LEFT JOIN categories c ON c.id = p.category_id
		WHERE p.deleted_at IS NULL AND p.active`
	const order = `SELECT o.id, u.public_id FROM orders o JOIN users u ON u.id = o.user_id WHERE true`
	queries := map[string]struct{ sql, index string }{
		"products by -created_at":   {product + " ORDER BY p.created_at DESC, p.public_id DESC LIMIT 21", "products_created_at_idx"},
		"products by name keyset":   {product + " AND (p.name, p.public_id) > ('Product 5', gen_random_uuid()) ORDER BY p.name, p.public_id LIMIT 21", "products_name_idx"},
		"products by price":         {product + " ORDER BY p.price_cents, p.public_id LIMIT 21", "products_price_idx"},
		"price range by -price":     {product + " AND p.price_cents >= 500 AND p.price_cents <= 900 ORDER BY p.price_cents DESC, p.public_id DESC LIMIT 21", "products_price_idx"},
		"category by -created_at":   {product + " AND p.category_id = (SELECT id FROM categories WHERE public_id = gen_random_uuid()) ORDER BY p.created_at DESC, p.public_id DESC LIMIT 21", "products_category_created_at_idx"},
		"category by price":         {product + " AND p.category_id = 3 ORDER BY p.price_cents, p.public_id LIMIT 21", "products_category_price_idx"},
		"category by name":          {product + " AND p.category_id = 3 ORDER BY p.name, p.public_id LIMIT 21", "products_category_name_idx"},
		"full-text search":          {product + " AND p.search @@ websearch_to_tsquery('english', 'oolong') ORDER BY ts_rank(p.search, websearch_to_tsquery('english', 'oolong'))::float8 DESC, p.public_id DESC LIMIT 21", "products_search_idx"},
		"a user's orders":           {order + " AND o.user_id = 7 ORDER BY o.created_at DESC, o.public_id DESC LIMIT 21", "orders_user_created_at_idx"},
		"a user's orders by status": {order + " AND o.user_id = 7 AND o.status = 'paid' ORDER BY o.created_at DESC, o.public_id DESC LIMIT 21", "orders_user_status_created_at_idx"},
		"all orders by status":      {order + " AND o.status = 'paid' ORDER BY o.created_at DESC, o.public_id DESC LIMIT 21", "orders_status_created_at_idx"},
		"all orders":                {order + " ORDER BY o.created_at DESC, o.public_id DESC LIMIT 21", "orders_created_at_idx"},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			plan := explain(t, conn, q.sql)
			if !strings.Contains(plan, q.index) || strings.Contains(plan, "Seq Scan on products") || strings.Contains(plan, "Seq Scan on orders") {
				t.Fatalf("plan does not use %s:\n%s", q.index, plan)
			}
			t.Logf("%s:\n%s", name, plan)
		})
	}
}
