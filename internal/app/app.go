// Package app is the composition root: it builds every component from a Config. cmd/storefront and the
// API tests both start the service through it, so tests run exactly what production runs.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/config"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/httpapi"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/postgres"
	"github.com/storefront/storefront/internal/queue"
	"github.com/storefront/storefront/internal/redis"
	"github.com/storefront/storefront/internal/telemetry"
	"github.com/storefront/storefront/internal/webhookhttp"
	"github.com/storefront/storefront/internal/webhooks"
)

// Options adjust what Config does not cover.
type Options struct {
	// Argon2 overrides the password hashing cost (tests use a cheap one).
	Argon2 *identity.Argon2Params
	// DisableClientCache sends every cached read to Redis (for measuring what the in-process copy saves).
	DisableClientCache bool
	// DisableRateLimit runs without the limiter even with Redis (benchmarks of the read paths).
	DisableRateLimit bool
	// TracerProvider turns tracing on (HTTP, SQL and Redis spans); nil leaves it off entirely.
	TracerProvider trace.TracerProvider
	// NoMetrics leaves out the request metrics middleware (to measure what instrumentation costs).
	NoMetrics bool
	// RunWorkers runs WEBHOOK_WORKERS webhook workers in this process (serve and worker do; migrate, seed
	// and most tests only enqueue).
	RunWorkers bool
	// Webhooks overrides webhook timing and name resolution (tests: a short retry schedule, a clock, a
	// resolver stub).
	Webhooks WebhookOptions
}

// WebhookOptions are the webhook settings tests may change; zero values keep the defaults.
type WebhookOptions struct {
	Schedule        webhooks.Schedule
	RotationOverlap time.Duration
	DisableAfter    time.Duration
	Now             func() time.Time
	Resolver        webhooks.Resolver // how endpoint hosts are looked up, at creation and at connect time
	Timeout         time.Duration     // of one attempt
}

// App is a wired service.
type App struct {
	Config config.Config
	Logger *slog.Logger
	Pool   *pgxpool.Pool
	// DB is the unit of work every store and service shares.
	DB       *postgres.DB
	Redis    *redis.Client
	Identity *identity.Service
	Catalog  *catalog.Service
	Content  *content.Service
	Orders   *orders.Service
	// Audit is the audit log every service records its changes in.
	Audit    *audit.Log
	Events   *events.Service
	Webhooks *webhooks.Service
	// Outbox records events in the unit of work of their change; Queue runs the webhook attempts.
	Outbox  *events.Outbox
	Queue   *queue.Queue
	Handler http.Handler
	// Cache and Limiter are nil without Redis.
	Cache   *redis.Cache
	Limiter *redis.Limiter
	Metrics *telemetry.Metrics

	idempotency *postgres.IdempotencyStore
}

// New connects to PostgreSQL (and prepares Redis when configured) and wires the services and HTTP stack.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger, opts Options) (*App, error) {
	poolOpts := postgres.PoolOptions{MaxConns: cfg.DatabaseMaxConns, Tracer: opts.TracerProvider, ExecMode: cfg.DatabaseQueryExecMode}
	pool, err := postgres.ConnectWith(ctx, cfg.DatabaseURL, poolOpts)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, Pool: pool, Metrics: telemetry.NewMetrics()}
	a.Metrics.RegisterPool(pool)
	if cfg.RedisURL != "" {
		a.Redis, err = redis.New(redis.Options{URL: cfg.RedisURL, Prefix: cfg.RedisKeyPrefix, Logger: logger,
			DisableClientCache: opts.DisableClientCache, Tracer: telemetry.Tracer(opts.TracerProvider)})
		if err != nil {
			pool.Close()
			return nil, err
		}
		a.Cache, a.Limiter = redis.NewCache(a.Redis), redis.NewLimiter(a.Redis)
		a.registerRedisMetrics()
		if err := a.Redis.Connect(ctx); err != nil {
			logger.Warn("redis unreachable at start: serving without cache and rate limits until it answers", "error", err)
		}
	} else {
		logger.Info("REDIS_URL is not set: running without Redis: no cache and no rate limits")
	}
	params := identity.DefaultArgon2Params
	if opts.Argon2 != nil {
		params = *opts.Argon2
	}
	hasher, err := identity.NewPasswordHasher(params)
	if err != nil {
		a.Close()
		return nil, err
	}
	tokens := identity.NewTokenIssuer(cfg.JWTSecret, cfg.AccessTokenTTL, nil)
	a.DB = postgres.NewDB(pool, cfg.JWTSecret)
	if err := a.scale(ctx, poolOpts); err != nil {
		a.Close()
		return nil, err
	}
	var (
		identityStore identity.Store = postgres.NewIdentityStore(a.DB)
		catalogStore  catalog.Store  = postgres.NewCatalogStore(a.DB)
		contentStore  content.Store  = postgres.NewContentStore(a.DB)
		orderStore    orders.Store   = postgres.NewOrderStore(a.DB)
	)
	if a.Cache != nil {
		identityStore = redis.NewIdentityStore(identityStore, a.Cache)
		catalogStore = redis.NewCatalogStore(catalogStore, a.Cache)
		contentStore = redis.NewContentStore(contentStore, a.Cache)
		orderStore = redis.NewOrderStore(orderStore, a.Cache)
	}
	a.Audit = audit.NewLog(postgres.NewAuditStore(a.DB))
	a.Identity = identity.NewService(identityStore, a.DB, hasher, tokens, cfg.RefreshTokenTTL)
	a.Identity.RecordTo(a.Audit)
	if cfg.Production() {
		a.Identity.UseLiveKeys()
	}
	if err := a.wireEvents(ctx, opts); err != nil {
		a.Close()
		return nil, err
	}
	a.Catalog = catalog.NewService(catalogStore, a.DB, a.Outbox)
	a.Catalog.RecordTo(a.Audit)
	a.Content = content.NewService(contentStore, a.DB, a.Outbox)
	a.Content.RecordTo(a.Audit)
	a.Orders = orders.NewService(orderStore, a.DB, orders.NewSimulator(), a.Outbox)
	a.Orders.RecordTo(a.Audit)
	a.Orders.ObserveTransitions(a.Metrics.OrderTransition)
	a.idempotency = postgres.NewIdempotencyStore(a.DB)

	deps := httpapi.Deps{
		Logger: logger, Identity: a.Identity, Catalog: a.Catalog, Content: a.Content, Orders: a.Orders, Audit: a.Audit,
		Idempotency: a.idempotency, Tx: a.DB, RequestTimeout: cfg.RequestTimeout, Postgres: pool, CORSOrigins: cfg.CORSAllowedOrigins,
		TrustedProxies: cfg.TrustedProxies,
		RateLimits:     httpapi.RateLimits{Anonymous: cfg.RateLimitAnonymous, User: cfg.RateLimitUser, APIKey: cfg.RateLimitAPIKey},
		Metrics:        a.Metrics, MetricsElsewhere: cfg.MetricsAddr != "", NoMetrics: opts.NoMetrics,
	}
	if r := a.DB.Replicas(); r != nil {
		deps.Replicas = r
	}
	if opts.TracerProvider != nil {
		deps.Tracing = opts.TracerProvider
	}
	deps.Events, deps.Webhooks = a.Events, a.Webhooks
	if a.Redis != nil {
		deps.Redis = a.Redis
		if !opts.DisableRateLimit {
			deps.Limiter = a.Limiter
		}
	}
	e, err := httpapi.New(deps)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("building HTTP stack: %w", err)
	}
	a.Handler = e
	if opts.RunWorkers {
		if err := a.Queue.Start(context.Background()); err != nil { // stopped by Close, not by New's ctx
			a.Close()
			return nil, fmt.Errorf("starting webhook workers: %w", err)
		}
	}
	return a, nil
}

// wireEvents builds the outbox, the webhook service that subscribes to it, and the queue and sender
// that deliver.
func (a *App) wireEvents(ctx context.Context, opts Options) error {
	cfg, wo := a.Config, opts.Webhooks
	eventStore := postgres.NewEventStore(a.DB)
	a.Outbox = events.NewOutbox(eventStore, httpapi.RenderResource, func(ctx context.Context) events.Origin {
		return events.Origin{RequestID: telemetry.RequestID(ctx), TraceParent: telemetry.TraceParent(ctx)}
	})
	a.Events = events.NewService(eventStore)
	policy := webhooks.Policy{RequireHTTPS: cfg.Production(), AllowPrivate: cfg.WebhooksAllowPrivateNetworks}
	var resolver webhooks.Resolver = net.DefaultResolver
	if wo.Resolver != nil {
		resolver = wo.Resolver
	}
	workers := 0
	if opts.RunWorkers {
		workers = cfg.WebhookWorkers
	}
	var svc *webhooks.Service
	q, err := queue.New(ctx, queue.Options{DatabaseURL: cfg.DatabaseDirectURL, Workers: workers, Logger: a.Logger, Stats: a.Pool},
		queue.DelivererFunc(func(ctx context.Context, id uuid.UUID) (time.Duration, error) { return svc.Deliver(ctx, id) }))
	if err != nil {
		return err
	}
	a.Queue = q
	sender := webhookhttp.New(webhookhttp.Options{Policy: policy, Resolver: resolver, Timeout: wo.Timeout,
		Tracer: telemetry.Tracer(opts.TracerProvider)})
	svc = webhooks.NewService(postgres.NewWebhookStore(a.DB), a.DB, q, sender, a.Outbox, webhooks.Config{Policy: policy,
		Resolver: resolver, Schedule: wo.Schedule, RotationOverlap: wo.RotationOverlap, DisableAfter: wo.DisableAfter, Now: wo.Now})
	svc.ObserveAttempts(func(o webhooks.Outcome, final webhooks.DeliveryStatus, d time.Duration) {
		a.Metrics.WebhookAttempt(string(o), string(final), d)
	})
	a.Outbox.Subscribe(svc)
	a.Webhooks = svc
	a.Metrics.RegisterWebhookQueue(func(ctx context.Context) (telemetry.QueueStats, error) {
		s, err := q.Stats(ctx)
		return telemetry.QueueStats{Due: s.Due, Waiting: s.Waiting, Running: s.Running, Lag: s.Lag}, err
	})
	return nil
}

// registerRedisMetrics exports the cache, limiter and Redis failure counters, read at scrape time.
func (a *App) registerRedisMetrics() {
	st := a.Cache.Stats
	for result, n := range map[string]*atomic.Int64{"local_hit": &st.LocalHits, "redis_hit": &st.RedisHits, "miss": &st.Misses, "error": &st.Errors} {
		a.Metrics.CounterFunc("cache_requests_total", "Cached reads, by where they were answered.", prometheus.Labels{"result": result},
			func() float64 { return float64(n.Load()) })
	}
	a.Metrics.CounterFunc("cache_invalidations_total", "Cache keys invalidated.", nil, func() float64 { return float64(st.Invalidations.Load()) })
	for decision, n := range map[string]*atomic.Int64{"allow": &a.Limiter.Allowed, "deny": &a.Limiter.Denied, "fail_open": &a.Limiter.FailedOpen} {
		a.Metrics.CounterFunc("rate_limit_decisions_total", "Rate limit decisions; fail_open when Redis could not answer.",
			prometheus.Labels{"decision": decision}, func() float64 { return float64(n.Load()) })
	}
	a.Metrics.CounterFunc("redis_failures_total", "Redis operations that failed; the service went on without Redis.", nil,
		func() float64 { return float64(a.Redis.Failures()) })
	a.Metrics.CounterFunc("redis_skipped_total", "Redis operations not tried because the circuit breaker was open.", nil,
		func() float64 { return float64(a.Redis.Skipped()) })
	a.Metrics.GaugeFunc("redis_circuit_open", "1 while Redis is bypassed (unreachable or unresponsive), else 0.", func() float64 {
		if a.Redis.Open() {
			return 1
		}
		return 0
	})
}

// Close stops the webhook workers (attempts under way get a few seconds to finish) and releases connections.
func (a *App) Close() {
	if a.Queue != nil {
		a.Queue.Stop()
		a.Queue.Close()
	}
	if a.Cache != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if n, overflow := a.Cache.Drain(ctx); n > 0 || overflow {
			a.Logger.Warn("closing with cache invalidations undelivered: other instances may serve those keys stale for up to the cache TTL",
				"keys", n, "overflow", overflow)
		}
		cancel()
	}
	if a.DB != nil && a.DB.Replicas() != nil {
		a.DB.Replicas().Close()
	}
	if a.Redis != nil {
		a.Redis.Close()
	}
	a.Pool.Close()
}
