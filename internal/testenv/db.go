// Package testenv starts the real service for tests: a fresh PostgreSQL database per test, cloned from a
// migrated template, the full HTTP stack, and a generated client whose every response is checked
// against the spec. A missing database fails the test; nothing is skipped.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/db/migrations"
	"github.com/storefront/storefront/internal/postgres"
)

// AdminURL is the server tests create their databases on: TEST_DATABASE_URL, or the local default.
func AdminURL() string {
	return envOr("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

// RedisURL is the Redis tests use: TEST_REDIS_URL, or the local default.
func RedisURL() string { return envOr("TEST_REDIS_URL", "redis://127.0.0.1:6379/0") }

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func withDatabase(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// templateName is derived from the migrations (River's too), so a changed migration gets a new template.
func templateName() (string, error) {
	h := sha256.New()
	river, err := postgres.RiverMigrations()
	if err != nil {
		return "", err
	}
	for _, m := range river {
		h.Write([]byte(m))
	}
	err = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return "sf_template_" + hex.EncodeToString(h.Sum(nil))[:12], err
}

func connectAdmin(ctx context.Context, t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("PostgreSQL is required for this test and is not reachable at %s: %v\n"+
			"start it (see README) or set TEST_DATABASE_URL", AdminURL(), err)
	}
	return conn
}

// ensureTemplate builds the migrated template database once per migration set. Test binaries run in
// parallel, so an advisory lock serialises the build and a rename publishes it atomically.
func ensureTemplate(ctx context.Context, t testing.TB, admin *pgx.Conn) string {
	t.Helper()
	name, err := templateName()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7411)"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = admin.Exec(context.Background(), "SELECT pg_advisory_unlock(7411)") }()
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		return name
	}
	building := name + "_build"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Connect(ctx, withDatabase(AdminURL(), building))
	if err != nil {
		t.Fatal(err)
	}
	err = postgres.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pool.Close()
	if err != nil {
		t.Fatalf("migrating template: %v", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		t.Fatal(err)
	}
	return name
}

// NewDatabase creates a fresh, migrated database for the test and drops it afterwards.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := connectAdmin(ctx, t)
	defer admin.Close(context.Background())
	tmpl := ensureTemplate(ctx, t, admin)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "sf_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	return withDatabase(AdminURL(), name)
}
