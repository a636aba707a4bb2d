// Package redis holds the rueidis client, the cache decorators over the domain stores, and the global
// rate limiter. Connecting is lazy and retried, so the service starts and serves while Redis is down,
// and picks Redis up again when it returns.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Options tune the client.
type Options struct {
	URL    string
	Prefix string // prepended to every key, so deployments and tests can share a Redis
	// DisableClientCache turns off RESP3 client-side caching (every cached read goes to Redis).
	DisableClientCache bool
	Logger             *slog.Logger
	// Tracer, when set, records a span for every Redis operation.
	Tracer trace.Tracer
}

// Client is a lazily connected rueidis client that fails fast while Redis is unreachable.
type Client struct {
	opt    rueidis.ClientOption
	prefix string
	logger *slog.Logger
	tracer trace.Tracer

	mu        sync.Mutex
	client    rueidis.Client
	lastDial  time.Time
	lastError error

	failures   atomic.Int64 // commands that failed because Redis was unreachable
	lastLogged atomic.Int64 // unix nanos of the last failure logged
}

// ErrUnavailable is returned while Redis cannot be reached.
var ErrUnavailable = errors.New("redis unavailable")

// opTimeout bounds one Redis operation; past it the request goes on without Redis.
const opTimeout = 300 * time.Millisecond

// bounded returns ctx limited to opTimeout.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, opTimeout)
}

// span starts a client span for a Redis operation when tracing is on; end it with the error.
func (c *Client) span(ctx context.Context, op string) (context.Context, func(error)) {
	if c.tracer == nil {
		return ctx, func(error) {}
	}
	ctx, s := c.tracer.Start(ctx, "redis "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "redis"), attribute.String("db.operation", op)))
	return ctx, func(err error) {
		if err != nil && !rueidis.IsRedisNil(err) {
			s.RecordError(err)
			s.SetStatus(codes.Error, "redis error")
		}
		s.End()
	}
}

// redialEvery bounds how often a down Redis is dialled again; requests in between fail fast.
const redialEvery = time.Second

// New parses the URL; it does not connect.
func New(o Options) (*Client, error) {
	opt, err := rueidis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("parsing REDIS_URL: %w", err)
	}
	opt.DisableCache = o.DisableClientCache
	// A request must never wait long on Redis: no retries, short dial and write timeouts, and every
	// operation runs under opTimeout.
	opt.DisableRetry = true
	opt.ConnWriteTimeout = time.Second
	opt.Dialer.Timeout = 500 * time.Millisecond
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Client{opt: opt, prefix: o.Prefix, logger: logger, tracer: o.Tracer}, nil
}

// Key prefixes a key.
func (c *Client) Key(parts ...string) string {
	k := c.prefix
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += p
	}
	return k
}

// get returns the connected client, dialling at most once per redialEvery while Redis is down.
func (c *Client) get() (rueidis.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	if time.Since(c.lastDial) < redialEvery {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, c.lastError)
	}
	c.lastDial = time.Now()
	client, err := rueidis.NewClient(c.opt)
	if err != nil {
		c.lastError = err
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	c.client = client
	return client, nil
}

// Ping checks that Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	client, err := c.get()
	if err != nil {
		return err
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	return client.Do(ctx, client.B().Ping().Build()).Error()
}

// failed counts a failure and logs it at most once per interval, so a Redis outage does not flood the log.
func (c *Client) failed(op string, err error) {
	c.failures.Add(1)
	now := time.Now().UnixNano()
	last := c.lastLogged.Load()
	if now-last < int64(10*time.Second) || !c.lastLogged.CompareAndSwap(last, now) {
		return
	}
	c.logger.Warn("redis unavailable: serving without it", "op", op, "error", err, "failures_total", c.failures.Load())
}

// Failures is how many operations failed because Redis was unreachable.
func (c *Client) Failures() int64 { return c.failures.Load() }

// Close releases the connections.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		c.client.Close()
		c.client = nil
	}
}
