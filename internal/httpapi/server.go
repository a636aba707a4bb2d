// Package httpapi is the HTTP edge: Echo setup, middleware, the implementation of the generated strict
// server interface, converters between wire and domain types, and the one error handler.
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"
	"go.opentelemetry.io/otel/trace"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/idempotency"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/ratelimit"
	"github.com/storefront/storefront/internal/telemetry"
)

// Pinger is a dependency /ready checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps is what the HTTP layer needs.
type Deps struct {
	Logger      *slog.Logger
	Identity    *identity.Service
	Catalog     *catalog.Service
	Content     *content.Service
	Orders      *orders.Service
	Idempotency idempotency.Store
	Postgres    Pinger
	Redis       Pinger // nil when REDIS_URL is not configured
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
	docs   *docs
	bodies *bodyMemo
}

var _ api.StrictServerInterface = (*Server)(nil)

// New builds the Echo instance with the full middleware chain:
// request id → trace span → metrics → access log → recover → security headers → deprecation → CORS → client IP →
// rate limit → auth → validation → idempotency → handler.
func New(deps Deps) (*echo.Echo, error) {
	ct, err := loadContract()
	if err != nil {
		return nil, err
	}
	d, err := newDocs()
	if err != nil {
		return nil, err
	}
	deprecated, err := announceDeprecations(ct.doc)
	if err != nil {
		return nil, err
	}
	s := &Server{deps: deps, docs: d, bodies: newBodyMemo()}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The peer address, unless the peer is a configured trusted proxy: a client must not choose the
	// address it is throttled by.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(deps.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range deps.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	e.HTTPErrorHandler = errorHandler(deps.Logger)
	mw := []echo.MiddlewareFunc{withRequestID}
	if deps.Tracing != nil {
		mw = append(mw, otelecho.Middleware(telemetry.ServiceName, otelecho.WithTracerProvider(deps.Tracing),
			otelecho.WithPropagators(telemetry.Propagator())))
	}
	if !deps.NoMetrics {
		mw = append(mw, observe(deps.Metrics))
	}
	mw = append(mw, accessLog(deps.Logger), recoverPanics(deps.Logger), securityHeaders, deprecated)
	if len(deps.CORSOrigins) > 0 {
		mw = append(mw, middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins: deps.CORSOrigins,
			AllowMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
			AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, "If-Match", "If-None-Match", "Idempotency-Key", headerRequestID},
			ExposeHeaders: []string{"ETag", "Location", headerRequestID, "Retry-After", headerReplayed,
				"RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
				"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Deprecation", "Sunset", "Link"},
			MaxAge: int((10 * time.Minute).Seconds()),
		}))
	}
	mw = append(mw, limitRates(deps.Limiter, deps.RateLimits, deps.Identity.Tokens()),
		authenticate(ct, deps.Identity.Tokens()), validateRequests(ct),
		idempotent(ct, deps.Idempotency, deps.Metrics.IdempotencyReplayed))
	e.Use(chain(mw...))
	api.RegisterHandlers(e, api.NewStrictHandler(s, nil))
	return e, nil
}

// chain composes middleware once, at start. Echo v4 composes the middleware given to Use again for
// every request (a closure per middleware per request); the composed chain ends in the handler Echo
// routed the request to (c.Handler()), which is what Echo passes the last Use middleware as next. It
// therefore ignores next: it must be the only Use middleware, which New guarantees.
func chain(mw ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	h := func(c echo.Context) error { return c.Handler()(c) }
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return func(echo.HandlerFunc) echo.HandlerFunc { return h }
}

type clientIPKey struct{}

func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
