// Package postgres implements the domain stores over sqlc's generated queries, runs the migrations, and
// translates PostgreSQL errors into the apperr vocabulary.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"go.opentelemetry.io/otel/trace"

	"github.com/storefront/storefront/db/migrations"
	"github.com/storefront/storefront/internal/apperr"
)

// Connect opens a pool and checks it answers. With a tracer provider every query gets a span.
func Connect(ctx context.Context, url string, tp ...trace.TracerProvider) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
	}
	if len(tp) > 0 && tp[0] != nil {
		// Statement text is recorded, never its arguments (they can hold password hashes and tokens).
		cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tp[0]), otelpgx.WithDisableConnectionDetailsInAttributes())
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	return pool, nil
}

// Migrate applies every pending migration: the service's own (goose, db/migrations), then River's job
// queue tables (rivermigrate, at the version go.mod pins), which db/migrations does not own.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	if err := migrateSchema(ctx, pool, logger); err != nil {
		return err
	}
	return MigrateRiver(ctx, pool, logger)
}

// MigrateRiver applies River's pending migrations.
func MigrateRiver(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("loading River migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("migrating River: %w", err)
	}
	for _, v := range res.Versions {
		logger.Info("river migration applied", "version", v.Version, "name", v.Name, "duration", v.Duration)
	}
	return nil
}

// RiverMigrations describes River's migrations (version, name and SQL), so a migrated template database
// can be told apart from one built for another River version.
func RiverMigrations() ([]string, error) {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range m.AllVersions() {
		out = append(out, fmt.Sprintf("%d %s\n%s", v.Version, v.Name, v.SQLUp))
	}
	return out, nil
}

func migrateSchema(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	sub, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		return fmt.Errorf("loading migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	for _, r := range results {
		logger.Info("migration applied", "version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return nil
}

// SQLSTATEs the stores translate.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// uniqueFields names the field each unique constraint keeps unique, for the Duplicate errors domains
// decide on. Slug constraints are absent: the stores retry with another slug (withFreeSlug).
var uniqueFields = map[string]string{
	"users_email_live_key":     "email",
	"categories_name_live_key": "name",
}

// translate maps storage errors to the domain vocabulary: a missing row is apperr.NotFound(resource),
// a unique violation apperr.Duplicate(resource, field), a lost race apperr.Concurrent. What the caller
// is told is the domain's decision; anything else is internal.
func translate(err error, resource string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.NotFound(resource)
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case uniqueViolation:
			e := apperr.Duplicate(resource, uniqueFields[pgErr.ConstraintName])
			e.Cause = err
			return e
		case foreignKeyViolation:
			e := apperr.New(apperr.KindConflict, "The "+resource+" refers to something that no longer exists.")
			e.Cause = err
			return e
		case serializationFailure, deadlockDetected:
			return apperr.Concurrent(err)
		}
	}
	return apperr.Internal(err)
}

// deleted translates a soft delete that touched n rows: none means the row was not there.
func deleted(n int64, err error, resource string) error {
	if err == nil && n == 0 {
		return apperr.NotFound(resource)
	}
	return translate(err, resource)
}

// uniqueConstraint reports the name of the unique constraint err violated, if any.
func uniqueConstraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return pgErr.ConstraintName
	}
	return ""
}
