// Package httpapi implements the generated strict server interface: one file per resource with its
// handlers and converters between wire and domain types. The platform every request crosses (middleware,
// validation, idempotency, the error handler) is package edge.
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/httpapi/edge"
	"github.com/storefront/storefront/internal/idempotency"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/ratelimit"
	"github.com/storefront/storefront/internal/telemetry"
	"github.com/storefront/storefront/internal/uow"
	"github.com/storefront/storefront/internal/webhooks"
)

// Pinger is a dependency /ready checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Replicas report whether every read replica is usable.
type Replicas interface{ Healthy() bool }

// RateLimits are requests per minute.
type RateLimits = edge.RateLimits

// Deps is what the HTTP layer needs.
type Deps struct {
	Logger      *slog.Logger
	Identity    *identity.Service
	Catalog     *catalog.Service
	Content     *content.Service
	Orders      *orders.Service
	Audit       *audit.Log
	Events      *events.Service
	Webhooks    *webhooks.Service
	Idempotency idempotency.Store
	// RequestTimeout bounds each request's work (see edge.Config).
	RequestTimeout time.Duration
	// Tx is the unit of work an idempotent request's work and stored response share.
	Tx       uow.Runner
	Postgres Pinger
	Redis    Pinger // nil when REDIS_URL is not configured
	// Replicas is nil without DATABASE_REPLICA_URLS; with it, GET requests' reads may go to a replica.
	Replicas    Replicas
	CORSOrigins []string
	// Limiter is nil when no rate limiting runs (no Redis).
	Limiter        ratelimit.Limiter
	RateLimits     RateLimits
	TrustedProxies []*net.IPNet
	Metrics        *telemetry.Metrics
	// MetricsElsewhere: /metrics is served on a separate listener (METRICS_ADDR), not by this handler.
	MetricsElsewhere bool
	// NoMetrics leaves out the request metrics middleware (benchmarks of instrumentation overhead).
	NoMetrics bool
	// Tracing is nil when tracing is off; then no tracing middleware runs at all.
	Tracing trace.TracerProvider
}

// Server implements the generated strict server interface.
type Server struct {
	deps   Deps
	docs   func() (*edge.Docs, error) // built on the first request for them (about 2.5 MB a process need not hold until then)
	bodies *bodyMemo
}

var _ api.StrictServerInterface = (*Server)(nil)

// New builds the platform (package edge) and registers the handlers on it.
func New(deps Deps) (*echo.Echo, error) {
	e, err := edge.New(edge.Config{
		Logger: deps.Logger, Tokens: deps.Identity.Tokens(), Accounts: deps.Identity, APIKeys: deps.Identity,
		RequestTimeout: deps.RequestTimeout, Idempotency: deps.Idempotency, Tx: deps.Tx, ReadsMayLag: deps.Replicas != nil,
		CORSOrigins: deps.CORSOrigins, Limiter: deps.Limiter, RateLimits: deps.RateLimits, TrustedProxies: deps.TrustedProxies,
		Metrics: deps.Metrics, NoMetrics: deps.NoMetrics, Tracing: deps.Tracing,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{deps: deps, docs: edge.NewDocs, bodies: newBodyMemo()}
	api.RegisterHandlers(e, api.NewStrictHandler(s, nil))
	return e, nil
}
