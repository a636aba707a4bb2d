package edge

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/deadline"
	"github.com/storefront/storefront/internal/telemetry"
)

const headerRequestID = "X-Request-ID"

// requestIDKey is headerRequestID as net/http keys it (X-Request-Id), for direct map access.
var requestIDKey = http.CanonicalHeaderKey(headerRequestID)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// Generated request ids are a random per-process prefix and a counter: unique across instances and
// restarts, and cheap (no entropy read per request).
var (
	requestIDPrefix  = strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	requestIDCounter atomic.Uint64
)

func newRequestID() string {
	return requestIDPrefix + "-" + strconv.FormatUint(requestIDCounter.Add(1), 36)
}

// requestContext accepts a sane incoming X-Request-ID or makes one, and echoes it on the response. It
// also records the request's origin (the id and the caller's address, see IPExtractor) for strict
// handlers and the domains (the audit log), which only see a context, and bounds the context by
// timeout (none when 0): work still waiting past it (on a lock, or for a database connection when the
// pool is exhausted) is cancelled and answers 503 UNAVAILABLE. One middleware, so the request is
// copied once for all three.
func requestContext(timeout time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			var rid string
			if v := req.Header[requestIDKey]; len(v) > 0 && validRequestID.MatchString(v[0]) {
				rid = v[0]
			} else {
				rid = newRequestID()
			}
			c.Response().Header()[requestIDKey] = []string{rid}
			ctx := access.WithOrigin(telemetry.WithRequestID(req.Context(), rid), access.Origin{RequestID: rid, ClientIP: c.RealIP()})
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = deadline.Within(ctx, timeout) // no timer unless something waits
				defer cancel()
			}
			c.SetRequest(req.WithContext(ctx))
			return next(c)
		}
	}
}

func requestID(c echo.Context) string { return telemetry.RequestID(c.Request().Context()) }

// accessLog writes one line per request. It renders errors itself (through Echo's error handler) so the
// line carries the final status.
func accessLog(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			req := c.Request()
			if !logger.Enabled(req.Context(), slog.LevelInfo) {
				return nil
			}
			// request_id, trace_id and span_id come from the context (telemetry.LogHandler).
			attrs := []slog.Attr{
				slog.String("method", req.Method),
				slog.String("route", routeOf(c)),
				slog.Int("status", c.Response().Status),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.Int64("bytes_out", c.Response().Size),
				slog.String("remote_ip", c.RealIP()),
			}
			if p, ok := access.PrincipalFrom(req.Context()); ok {
				attrs = append(attrs, slog.String("user_id", p.UserID.String()))
				if p.ViaAPIKey() {
					attrs = append(attrs, slog.String("api_key_id", p.APIKeyID.String()))
				}
			}
			logger.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)
			return nil
		}
	}
}

// routeOf is the route template, never the raw path, so log and metric cardinality stays bounded.
func routeOf(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return "unmatched"
}

// recoverPanics turns a panic into a logged INTERNAL error; the stack goes to the log, not the client.
func recoverPanics(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					logger.ErrorContext(c.Request().Context(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					err = apperr.Internal(fmt.Errorf("panic: %v", r))
				}
			}()
			return next(c)
		}
	}
}

// observe records every request's duration by route template and status class, and requests in flight.
func observe(m *telemetry.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			done := m.InFlight()
			defer done()
			if err := next(c); err != nil {
				c.Error(err)
			}
			m.ObserveRequest(c.Request().Method, routeOf(c), c.Response().Status, time.Since(start))
			return nil
		}
	}
}

// securityHeaders sets the defaults every response carries; /docs widens the CSP for Redoc. The
// values are shared, canonical-keyed slices: nothing appends to a response header's slice in place
// (Add appends to a one-element slice, which copies), so sharing them saves allocating per request.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		for _, kv := range defaultHeaders {
			h[kv.name] = kv.value
		}
		return next(c)
	}
}

var defaultHeaders = []struct {
	name  string
	value []string
}{
	{"Strict-Transport-Security", []string{"max-age=63072000; includeSubDomains"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Cross-Origin-Resource-Policy", []string{"same-site"}},
	{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'"}},
	// Authenticated and error responses must not be stored by shared caches; handlers that serve
	// cacheable content replace this.
	{echo.HeaderCacheControl, []string{"no-store"}},
	// What a caller sees can depend on its credentials (inactive products, drafts): a shared cache must
	// keep public responses per Authorization and X-API-Key. CORS adds Origin to a copy.
	{echo.HeaderVary, []string{"Authorization", "X-API-Key"}},
}
