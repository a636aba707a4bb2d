// Package edge is the platform every request crosses before and after its handler: request ids,
// tracing, metrics, the access log, panic recovery, security headers, CORS, rate limits,
// authentication, validation against the spec, idempotency keys, and the one error handler that owns
// the status table and the error body. It knows operations only through the spec, never through
// handlers; internal/httpapi registers the handlers on the Echo instance New returns.
package edge

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

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/idempotency"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/ratelimit"
	"github.com/storefront/storefront/internal/telemetry"
	"github.com/storefront/storefront/internal/uow"
)

// Config is what the platform needs.
type Config struct {
	Logger *slog.Logger
	Tokens *identity.TokenIssuer
	// Accounts refuses signed-in callers whose account is suspended or deleted.
	Accounts Accounts
	// RequestTimeout bounds a request's work (waiting for a database connection included); past it the
	// request answers 503.
	RequestTimeout time.Duration
	// APIKeys authenticates API keys; nil refuses them.
	APIKeys KeyAuthenticator
	// Idempotency keeps stored responses; Tx is the unit of work a request's work and its stored
	// response share.
	Idempotency idempotency.Store
	Tx          uow.Runner
	// ReadsMayLag lets GET requests read from replicas (see readers).
	ReadsMayLag bool
	CORSOrigins []string
	// Limiter is nil when no rate limiting runs (no Redis).
	Limiter        ratelimit.Limiter
	RateLimits     RateLimits
	TrustedProxies []*net.IPNet
	Metrics        *telemetry.Metrics
	// NoMetrics leaves out the request metrics middleware (benchmarks of instrumentation overhead).
	NoMetrics bool
	// Tracing is nil when tracing is off; then no tracing middleware runs at all.
	Tracing trace.TracerProvider
}

// New builds the Echo instance with the full chain:
// request id → framing → deadline → trace span → metrics → access log → recover → security headers →
// deprecation → CORS → rate limit → auth → validation → idempotency → handler.
func New(cfg Config) (*echo.Echo, error) {
	ct, err := sharedContract()
	if err != nil {
		return nil, err
	}
	deprecated, err := announceDeprecations(ct.doc)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The peer address, unless the peer is a configured trusted proxy: a client must not choose the
	// address it is throttled by.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	e.HTTPErrorHandler = errorHandler(cfg.Logger)
	mw := []echo.MiddlewareFunc{requestContext(cfg.RequestTimeout), refuseAmbiguousFraming}
	if cfg.Tracing != nil {
		mw = append(mw, otelecho.Middleware(telemetry.ServiceName, otelecho.WithTracerProvider(cfg.Tracing),
			otelecho.WithPropagators(telemetry.Propagator())))
	}
	if !cfg.NoMetrics {
		mw = append(mw, observe(cfg.Metrics))
	}
	mw = append(mw, accessLog(cfg.Logger), recoverPanics(cfg.Logger), securityHeaders, deprecated)
	if len(cfg.CORSOrigins) > 0 {
		mw = append(mw, middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins: cfg.CORSOrigins,
			AllowMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
			AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, "If-Match", "If-None-Match", "Idempotency-Key", headerRequestID},
			ExposeHeaders: []string{"ETag", "Location", headerRequestID, "Retry-After", headerReplayed,
				"RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
				"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Deprecation", "Sunset", "Link"},
			MaxAge: int((10 * time.Minute).Seconds()),
		}))
	}
	creds, err := newCredentials(ct.doc, cfg.Tokens, cfg.APIKeys)
	if err != nil {
		return nil, err
	}
	mw = append(mw, limitRates(cfg.Limiter, cfg.RateLimits, creds),
		authenticate(ct, creds, cfg.Accounts), validateRequests(ct))
	if cfg.ReadsMayLag {
		mw = append(mw, readers)
	}
	mw = append(mw, idempotent(ct, cfg.Idempotency, cfg.Tx, cfg.Metrics.IdempotencyReplayed))
	e.Use(chain(mw...))
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

// ClientIP is the caller's address as the edge determined it (see IPExtractor).
func ClientIP(ctx context.Context) string { return access.OriginFrom(ctx).ClientIP }
