// Package redis holds the rueidis client, the cache decorators over the domain stores, and the global
// rate limiter. Connecting is lazy and retried, so the service starts and serves while Redis is down,
// and picks Redis up again when it returns.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/storefront/storefront/internal/deadline"
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

// Client is a rueidis client behind a circuit breaker. While Redis is unreachable or unresponsive the
// circuit is open: every operation fails at once (callers go on without Redis) and a background probe
// dials and pings Redis once per probe interval (probeEvery, backing off while Redis flaps) until it
// answers, then closes the circuit. No request ever waits on a dial, and a hung Redis costs only the
// few requests that trip the breaker.
type Client struct {
	opt    rueidis.ClientOption
	prefix string
	logger *slog.Logger
	tracer trace.Tracer

	client      atomic.Pointer[rueidis.Client] // nil until the first successful dial
	open        atomic.Bool                    // the circuit: true while Redis is considered down
	consecutive atomic.Int64                   // failures in a row while closed
	window      rateWindow                     // outcomes in the last windowLen, for the failure-rate rule
	interval    atomic.Int64                   // probe interval now (backs off when the circuit reopens soon after closing)
	closedAt    atomic.Int64                   // mono() when the circuit last closed after a trip; 0 if never
	tripped     atomic.Bool                    // the circuit opened on failures (not at a failed start) and has not closed since
	cluster     atomic.Bool                    // the client talks to a Redis Cluster
	lastCheck   atomic.Int64                   // mono() of the last check of every primary after a failure (cluster)
	probeMu     sync.Mutex                     // one probe at a time
	life        context.Context                // cancelled by Close: stops the probe and background work
	stop        context.CancelFunc
	closeOnce   sync.Once

	failures   atomic.Int64 // operations that reached Redis and failed
	skipped    atomic.Int64 // operations not attempted because the circuit was open
	lastLogged atomic.Int64 // unix nanos of the last failure logged
}

// ErrUnavailable is returned while Redis cannot be reached.
var ErrUnavailable = errors.New("redis unavailable")

// errCircuitOpen is returned, wrapped in ErrUnavailable, without trying Redis.
var errCircuitOpen = fmt.Errorf("%w: circuit open", ErrUnavailable)

const (
	// opTimeout bounds one Redis operation; past it the request goes on without Redis.
	opTimeout = 300 * time.Millisecond
	// tripAfter consecutive failures open the circuit; so does a failure rate of at least half of at
	// least windowOps operations within windowLen (some successes among many timeouts).
	tripAfter = 3
	windowOps = 20
	windowLen = 10 * time.Second
	// probeEvery is how often an open circuit dials and pings Redis again; when the circuit reopens
	// within flapWithin of closing, the interval doubles, up to maxProbeEvery.
	probeEvery    = time.Second
	maxProbeEvery = 30 * time.Second
	flapWithin    = 30 * time.Second
	// deliverTimeout bounds one background delivery of owed invalidations.
	deliverTimeout = 5 * time.Second
)

// bounded returns ctx limited to opTimeout. The timer is made only when the operation waits: a read
// rueidis answers from its client-side cache never does.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return deadline.Within(ctx, opTimeout)
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

// New parses the URL; it does not connect (see Connect). The circuit starts open: until a probe
// reaches Redis, operations fail fast.
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
	c := &Client{opt: opt, prefix: o.Prefix, logger: logger, tracer: o.Tracer}
	c.life, c.stop = context.WithCancel(context.Background())
	c.interval.Store(int64(probeEvery))
	c.open.Store(true)
	return c, nil
}

// Connect makes one attempt to reach Redis now (bounded by the dial timeout and opTimeout). When it
// fails, the service starts without Redis and the background probe keeps trying.
func (c *Client) Connect(ctx context.Context) error {
	if err := c.probe(ctx); err != nil {
		go c.probeUntilUp()
		return err
	}
	return nil
}

// probe dials Redis afresh and pings it; on success it closes the circuit. A fresh client each time:
// connections idle through an outage can be dead without knowing it, and rueidis spreads commands
// over several, so a ping on one proves nothing about the others.
func (c *Client) probe(ctx context.Context) error {
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	if c.life.Err() != nil {
		return fmt.Errorf("%w: client closed", ErrUnavailable)
	}
	if !c.open.Load() {
		return nil
	}
	client, err := rueidis.NewClient(c.opt)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	pctx, cancel := bounded(ctx)
	defer cancel()
	if err := pingEvery(pctx, client); err != nil {
		client.Close()
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	c.cluster.Store(client.Mode() == rueidis.ClientModeCluster)
	old := c.client.Swap(&client)
	c.consecutive.Store(0)
	c.window.reset(mono())
	if c.tripped.Swap(false) {
		// Before the circuit closes: a failure right after must find it, to count as flapping.
		c.closedAt.Store(mono())
	}
	c.open.Store(false)
	if old != nil {
		(*old).Close() // operations still on it fail, and the breaker ignores them (see current)
	}
	return nil
}

// probeUntilUp probes once per interval until Redis answers or the client is closed.
func (c *Client) probeUntilUp() {
	t := time.NewTimer(time.Duration(c.interval.Load()))
	defer t.Stop()
	for {
		select {
		case <-c.life.Done():
			return
		case <-t.C:
			t.Reset(time.Duration(c.interval.Load()))
		}
		if c.probe(c.life) == nil {
			c.logger.Info("redis reachable again: cache and rate limits back on")
			return
		}
	}
}

// trip opens the circuit (once) and starts probing. A Redis that fails again soon after the circuit
// closed is probed less and less often, so a flapping Redis does not cost a fresh client and a burst of
// timeouts every second.
func (c *Client) trip(op string, err error) {
	if c.open.CompareAndSwap(false, true) {
		c.tripped.Store(true)
		next := probeEvery
		if at := c.closedAt.Load(); at != 0 && time.Duration(mono()-at) < flapWithin {
			next = min(2*time.Duration(c.interval.Load()), maxProbeEvery)
		}
		c.interval.Store(int64(next))
		c.logger.Warn("redis circuit open: serving without Redis until it answers again", "op", op, "error", err, "probe_every", next.String())
		go c.probeUntilUp()
	}
}

// mono is a monotonic clock reading in nanoseconds (never 0), immune to wall-clock steps.
func mono() int64 { return int64(time.Since(monoEpoch)) + 1 }

var monoEpoch = time.Now()

// rateWindow counts operations and failures over windowLen. Counts are approximate around a reset,
// which is all the failure-rate rule needs.
type rateWindow struct {
	start, ops, fails atomic.Int64
}

func (w *rateWindow) reset(now int64) {
	w.start.Store(now)
	w.ops.Store(0)
	w.fails.Store(0)
}

// record counts one outcome and reports whether the failure rate now trips the circuit.
func (w *rateWindow) record(failed bool) bool {
	now := mono()
	if start := w.start.Load(); now-start > int64(windowLen) && w.start.CompareAndSwap(start, now) {
		w.ops.Store(0)
		w.fails.Store(0)
	}
	ops, fails := w.ops.Add(1), w.fails.Load()
	if failed {
		fails = w.fails.Add(1)
	}
	return ops >= windowOps && 2*fails >= ops
}

// Key prefixes a key made of parts joined by ':'.
func (c *Client) Key(parts ...string) string {
	n := len(c.prefix) + len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(c.prefix)
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(p)
	}
	return b.String()
}

// get returns the client while the circuit is closed; it never waits.
func (c *Client) get() (rueidis.Client, error) {
	if c.open.Load() { // before the client: the probe swaps the client in before it closes the circuit
		return nil, errCircuitOpen
	}
	p := c.client.Load()
	if p == nil {
		return nil, errCircuitOpen
	}
	return *p, nil
}

// current reports whether client is still the one in use (the probe replaces it after an outage).
// rueidis clients are pointers, so comparing them is comparing identities.
func (c *Client) current(client rueidis.Client) bool {
	p := c.client.Load()
	return p != nil && *p == client
}

// do runs one operation: it fails fast while the circuit is open, bounds the operation by opTimeout,
// traces it, and feeds the outcome to the breaker.
func (c *Client) do(ctx context.Context, op string, fn func(ctx context.Context, client rueidis.Client) error) error {
	return c.doCached(ctx, op, nil, fn)
}

// doCached is do for an operation that may be answered from process memory: fn sets *local when it
// was, and then the outcome says nothing about Redis. Answers from Redis, errors included (a nil
// reply, a script error), count as Redis being up.
func (c *Client) doCached(ctx context.Context, op string, local *bool, fn func(ctx context.Context, client rueidis.Client) error) error {
	client, err := c.get()
	if err != nil {
		c.skipped.Add(1)
		return err
	}
	rctx, cancel := bounded(ctx)
	defer cancel()
	rctx, end := c.span(rctx, op)
	err = fn(rctx, client)
	end(err)
	_, answered := rueidis.IsRedisErr(err)
	switch {
	case local != nil && *local, err != nil && !c.current(client):
		// Served from memory, or failed on a client replaced meanwhile: says nothing about Redis.
	case err == nil || answered || rueidis.IsRedisNil(err):
		c.consecutive.Store(0)
		c.window.record(false)
	case ctx.Err() != nil:
		// The caller gave up (a client went away); that says nothing about Redis.
	default:
		c.failed(op, err)
	}
	return err
}

// Ping checks that Redis answers: every node of a cluster.
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, "PING", pingEvery)
}

// pingEvery pings the one Redis, or every primary of a cluster. A cluster with a primary down serves
// part of the keys only; for the service it is down (fail open, degraded), as a single Redis that
// stopped, until every primary answers again. A cluster's replicas are not pinged: the service never
// reads from them, and one going away changes nothing.
func pingEvery(ctx context.Context, client rueidis.Client) error {
	nodes := client.Nodes()
	addrs := slices.Sorted(maps.Keys(nodes))
	if client.Mode() == rueidis.ClientModeCluster {
		primaries, err := clusterPrimaries(ctx, client)
		if err != nil {
			return err
		}
		addrs = primaries
	}
	for _, addr := range addrs {
		n, ok := nodes[addr]
		if !ok {
			return fmt.Errorf("cluster primary %s is not among the client's nodes", addr)
		}
		if err := n.Do(ctx, n.B().Ping().Build()).Error(); err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
	}
	return nil
}

// clusterPrimaries lists the addresses of a cluster's primaries that own slots, from CLUSTER NODES
// (lines of "<id> <host:port@bus> <flags> <primary> <ping> <pong> <epoch> <link> <slots>...", flags
// such as "myself,master" or "master,fail").
func clusterPrimaries(ctx context.Context, client rueidis.Client) ([]string, error) {
	out, err := client.Do(ctx, client.B().ClusterNodes().Build()).ToString()
	if err != nil {
		return nil, err
	}
	addrs := parseClusterPrimaries(out)
	if len(addrs) == 0 {
		return nil, fmt.Errorf("CLUSTER NODES lists no primary")
	}
	return addrs, nil
}

// parseClusterPrimaries reads CLUSTER NODES's answer.
func parseClusterPrimaries(out string) []string {
	var addrs []string
	for _, line := range strings.Split(out, "\n") {
		// A primary serves slots (fields 9 on); one that failed over to its replica has none left.
		f := strings.Fields(line)
		if len(f) < 9 || !slices.Contains(strings.Split(f[2], ","), "master") {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		addrs = append(addrs, addr)
	}
	slices.Sort(addrs)
	return addrs
}

// failed counts a failure, trips the breaker after tripAfter in a row or at the failure rate, and logs
// at most once per interval, so a Redis outage does not flood the log.
func (c *Client) failed(op string, err error) {
	c.failures.Add(1)
	if rate := c.window.record(true); c.consecutive.Add(1) >= tripAfter || rate {
		c.trip(op, err)
	} else if c.cluster.Load() {
		c.checkPrimaries()
	}
	now := time.Now().UnixNano()
	last := c.lastLogged.Load()
	if now-last < int64(10*time.Second) || !c.lastLogged.CompareAndSwap(last, now) {
		return
	}
	c.logger.Warn("redis unavailable: serving without it", "op", op, "error", err, "failures_total", c.failures.Load())
}

// checkPrimaries pings every primary of the cluster in the background, at most once per probeEvery,
// after a failure, and opens the circuit when one does not answer. In a cluster the operations on a
// failed primary's slots are a fraction of all, interleaved with successes on the others, so neither
// rule above may ever trip: without this, a primary that hangs would cost each of its operations the
// whole opTimeout, for as long as it hangs.
func (c *Client) checkPrimaries() {
	last := c.lastCheck.Load()
	if now := mono(); now-last < int64(probeEvery) || !c.lastCheck.CompareAndSwap(last, now) {
		return
	}
	client, err := c.get()
	if err != nil {
		return
	}
	go func() {
		ctx, cancel := bounded(c.life)
		defer cancel()
		if err := pingEvery(ctx, client); err != nil && c.life.Err() == nil && c.current(client) {
			c.trip("PING every primary", err)
		}
	}()
}

// Open reports whether the circuit is open (Redis is being bypassed).
func (c *Client) Open() bool { return c.open.Load() }

// Skipped is how many operations were not tried because the circuit was open.
func (c *Client) Skipped() int64 { return c.skipped.Load() }

// Failures is how many operations reached for Redis and failed.
func (c *Client) Failures() int64 { return c.failures.Load() }

// Close stops probing and releases the connections.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.stop()
		c.probeMu.Lock()
		defer c.probeMu.Unlock()
		c.open.Store(true)
		if cl := c.client.Swap(nil); cl != nil {
			(*cl).Close()
		}
	})
}
