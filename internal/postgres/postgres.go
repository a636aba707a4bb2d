// Package postgres implements the domain stores over sqlc's generated queries, runs the migrations, and
// translates PostgreSQL errors into the apperr vocabulary.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

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

// PoolOptions tune the pool.
type PoolOptions struct {
	// MaxConns is the pool size when the URL has no pool_max_conns; 0 keeps pgx's default.
	MaxConns int
	// Tracer, when set, gives every query a span.
	Tracer trace.TracerProvider
	// ExecMode is pgx's query exec mode by its config name (config.QueryExecModes); empty keeps pgx's
	// default (cache_statement). Behind a transaction-mode pooler use cache_describe.
	ExecMode string
	// ConnectTimeout bounds a dial when the URL sets none (replicas: a dead one must be skipped fast).
	ConnectTimeout time.Duration
}

// execModes maps DATABASE_QUERY_EXEC_MODE to pgx's modes.
var execModes = map[string]pgx.QueryExecMode{
	"cache_statement": pgx.QueryExecModeCacheStatement,
	"cache_describe":  pgx.QueryExecModeCacheDescribe,
	"describe_exec":   pgx.QueryExecModeDescribeExec,
	"exec":            pgx.QueryExecModeExec,
	"simple_protocol": pgx.QueryExecModeSimpleProtocol,
}

// Connect opens a pool and checks it answers. With a tracer provider every query gets a span.
func Connect(ctx context.Context, url string, tp ...trace.TracerProvider) (*pgxpool.Pool, error) {
	o := PoolOptions{}
	if len(tp) > 0 {
		o.Tracer = tp[0]
	}
	return ConnectWith(ctx, url, o)
}

// ConnectWith is Connect with options.
func ConnectWith(ctx context.Context, url string, o PoolOptions) (*pgxpool.Pool, error) {
	pool, err := openPool(ctx, url, o)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	return pool, nil
}

// openPool opens a pool without connecting.
func openPool(ctx context.Context, url string, o PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing the database URL: %w", err)
	}
	if o.MaxConns > 0 && !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(o.MaxConns)
	}
	if o.ExecMode != "" && !strings.Contains(url, "default_query_exec_mode") {
		mode, ok := execModes[o.ExecMode]
		if !ok {
			return nil, fmt.Errorf("unknown query exec mode %q", o.ExecMode)
		}
		cfg.ConnConfig.DefaultQueryExecMode = mode
	}
	if o.ConnectTimeout > 0 && !strings.Contains(url, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = o.ConnectTimeout
	}
	if o.Tracer != nil {
		// Statement text is recorded, never its arguments (they can hold password hashes and tokens).
		cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(o.Tracer), otelpgx.WithDisableConnectionDetailsInAttributes())
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening database pool: %w", err)
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

// Connection-level failures: the database cannot be reached or is going away, so the request may
// succeed elsewhere or later.
var unavailableStates = map[string]bool{
	"57P01": true, // admin_shutdown
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now (starting up, shutting down)
	"57014": true, // query_canceled (a statement timeout, or the request was cancelled)
	"53300": true, // too_many_connections
	"53000": true, // insufficient_resources
}

// retryOutageAfter is the Retry-After of a 503 for a database outage.
const retryOutageAfter = 2 * time.Second

// unavailable reports whether err says the database could not be reached or used (rather than that it
// refused the statement): connection refused or reset, a closed pool, a server shutting down, a
// deadline or cancellation while waiting for a connection or an answer.
func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || unavailableStates[pe.Code]
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	// pgxpool answers Acquire on a closed pool with puddle's ErrClosedPool ("closed pool").
	return strings.Contains(err.Error(), "closed pool")
}

// dbError translates an error of a statement that reads no single row.
func dbError(err error) error { return translate(err, "row") }

// translate maps storage errors to the domain vocabulary: a missing row is apperr.NotFound(resource),
// a unique violation apperr.Duplicate(resource, field), a lost race apperr.Concurrent, an outage
// apperr.Unavailable. What the caller is told is the domain's decision; anything else is internal.
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
	if unavailable(err) {
		return apperr.Unavailable(err, retryOutageAfter)
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
