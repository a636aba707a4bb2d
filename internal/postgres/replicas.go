package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/uow"
)

// WriteMarks keep, for every instance to see, where each caller's last write is in the primary's WAL
// (internal/redis implements them). A mark older than the replicas' lag bound says nothing any
// usable replica has not replayed, so marks expire after it.
type WriteMarks interface {
	// Mark records that caller's writes reach lsn (a later, lower lsn does not lower it).
	Mark(ctx context.Context, caller string, lsn uint64, ttl time.Duration) error
	// Marked is caller's mark, 0 when none is kept.
	Marked(ctx context.Context, caller string) (uint64, error)
}

// Replicas routes the reads that may lag (see uow.Reader) to streaming replicas that have replayed far
// enough, and every other read to the primary:
//   - a replica is usable while it answers and lags the primary by at most maxLag, as a monitor
//     measures every checkEvery by comparing its replay position with the primary's recent positions;
//   - a signed-in caller's reads go to a replica only once it has replayed past that caller's last
//     write (the primary's WAL position after the commit, kept in WriteMarks), else to the primary;
//     without WriteMarks (no Redis) signed-in callers always read the primary;
//   - a read a replica fails to answer (it went away since the last check) is run on the primary.
type Replicas struct {
	primary *pgxpool.Pool
	nodes   []*replica
	maxLag  time.Duration
	marks   WriteMarks
	logger  *slog.Logger
	next    atomic.Uint64

	mu      sync.Mutex
	samples []lsnSample // the primary's recent WAL positions, oldest first
	local   map[string]localMark

	// Reads counts the reads that might have gone to a replica, by where they went; Fallbacks the
	// replica reads that failed and were answered by the primary.
	ReplicaReads, PrimaryReads, Fallbacks atomic.Int64

	stop context.CancelFunc
	done chan struct{}
}

type replica struct {
	name     string
	pool     *pgxpool.Pool
	usable   atomic.Bool
	replayed atomic.Uint64 // LSN replayed, as last checked
	lag      atomic.Int64  // nanoseconds behind the primary, as last checked; -1 unreachable
}

type lsnSample struct {
	at  time.Time
	lsn uint64
}

type localMark struct {
	lsn     uint64
	expires time.Time
}

// checkEvery is how often the monitor measures the replicas.
const checkEvery = 250 * time.Millisecond

// ReplicaState is one replica as the monitor last saw it.
type ReplicaState struct {
	Name   string
	Usable bool
	// Lag behind the primary; negative when the replica did not answer.
	Lag time.Duration
}

// NewReplicas connects to the replicas (lazily: a replica down at start is skipped until it answers)
// and starts the monitor. Close stops it and closes the replica pools.
func NewReplicas(ctx context.Context, primary *pgxpool.Pool, urls []string, maxLag time.Duration, marks WriteMarks,
	logger *slog.Logger, o PoolOptions) (*Replicas, error) {
	r := &Replicas{primary: primary, maxLag: maxLag, marks: marks, logger: logger, local: map[string]localMark{}, done: make(chan struct{})}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = time.Second
	}
	for i, u := range urls {
		pool, err := openPool(ctx, u, o)
		if err != nil {
			r.closePools()
			return nil, fmt.Errorf("DATABASE_REPLICA_URLS entry %d: %w", i+1, err)
		}
		n := &replica{name: strconv.Itoa(i + 1), pool: pool}
		n.lag.Store(-1)
		r.nodes = append(r.nodes, n)
	}
	life, stop := context.WithCancel(context.Background())
	r.stop = stop
	r.check(ctx)
	go r.monitor(life)
	return r, nil
}

// Close stops the monitor and closes the replica pools.
func (r *Replicas) Close() {
	r.stop()
	<-r.done
	r.closePools()
}

func (r *Replicas) closePools() {
	for _, n := range r.nodes {
		n.pool.Close()
	}
}

// States are the replicas as last checked.
func (r *Replicas) States() []ReplicaState {
	out := make([]ReplicaState, len(r.nodes))
	for i, n := range r.nodes {
		out[i] = ReplicaState{Name: n.name, Usable: n.usable.Load(), Lag: time.Duration(n.lag.Load())}
	}
	return out
}

// Healthy reports whether every replica is usable.
func (r *Replicas) Healthy() bool {
	for _, n := range r.nodes {
		if !n.usable.Load() {
			return false
		}
	}
	return true
}

func (r *Replicas) monitor(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.check(ctx)
		}
	}
}

// check samples the primary's WAL position, then each replica's replay position. A replica that has
// replayed past the position the primary had at time t holds every write committed before t, so its
// lag is at most now - t for the latest such sample.
func (r *Replicas) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	now := time.Now()
	if lsn, err := walPosition(ctx, r.primary, "SELECT pg_current_wal_lsn()::text"); err == nil {
		r.sample(now, lsn)
	}
	for _, n := range r.nodes {
		replayed, err := walPosition(ctx, n.pool, "SELECT coalesce(pg_last_wal_replay_lsn()::text, '')")
		if err != nil {
			r.setState(n, false, -1, err, "the replica does not answer")
			continue
		}
		n.replayed.Store(replayed)
		lag, known := r.lagOf(replayed, now)
		r.setState(n, known && lag <= r.maxLag, lag, nil, "the replica lags past DATABASE_REPLICA_MAX_LAG")
	}
}

func (r *Replicas) setState(n *replica, usable bool, lag time.Duration, err error, why string) {
	n.lag.Store(int64(lag))
	if was := n.usable.Swap(usable); was != usable {
		if usable {
			r.logger.Info("read replica usable again", "replica", n.name, "lag", lag.String())
		} else {
			r.logger.Warn("read replica skipped: its reads go to the primary", "replica", n.name, "reason", why, "error", err, "lag", lag.String())
		}
	}
}

// sample records the primary's position at now, keeping one sample per distinct position and none
// older than the lag bound needs.
func (r *Replicas) sample(now time.Time, lsn uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.samples); n > 0 && r.samples[n-1].lsn == lsn {
		r.samples[n-1].at = now
	} else {
		r.samples = append(r.samples, lsnSample{at: now, lsn: lsn})
	}
	keep := now.Add(-r.maxLag - 2*checkEvery)
	i := 0
	for i < len(r.samples)-1 && (r.samples[i].at.Before(keep) || len(r.samples)-i > 4096) {
		i++
	}
	r.samples = r.samples[i:]
}

// lagOf is how far behind a replica that replayed up to lsn is at most; known is false when no
// sample is old enough to tell (it lags more than the samples cover).
func (r *Replicas) lagOf(lsn uint64, now time.Time) (lag time.Duration, known bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.samples) - 1; i >= 0; i-- {
		if r.samples[i].lsn <= lsn {
			return max(now.Sub(r.samples[i].at), 0), true
		}
	}
	if len(r.samples) > 0 {
		return now.Sub(r.samples[0].at), false
	}
	return 0, false
}

// walPosition runs a query returning a pg_lsn as text ("16/B374D848"); empty is an error.
func walPosition(ctx context.Context, pool *pgxpool.Pool, sql string) (uint64, error) {
	var s string
	if err := pool.QueryRow(ctx, sql).Scan(&s); err != nil {
		return 0, err
	}
	if s == "" {
		return 0, fmt.Errorf("not a replica: pg_last_wal_replay_lsn() is null (the server is not in recovery)")
	}
	return parseLSN(s)
}

func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unreadable WAL position %q", s)
	}
	return h<<32 | l, nil
}

// markTTL is how long a caller's mark matters: past the lag bound every usable replica has it.
func (r *Replicas) markTTL() time.Duration { return r.maxLag + 4*checkEvery }

// wrote records the primary's WAL position after caller's commit.
func (r *Replicas) wrote(ctx context.Context, caller string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	lsn, err := walPosition(ctx, r.primary, "SELECT pg_current_wal_lsn()::text")
	if err != nil {
		lsn = ^uint64(0) // unknown: no replica qualifies until the mark expires
	}
	ttl := r.markTTL()
	r.mu.Lock()
	if len(r.local) > 10000 {
		now := time.Now()
		for k, m := range r.local {
			if now.After(m.expires) {
				delete(r.local, k)
			}
		}
		if len(r.local) > 10000 {
			clear(r.local)
		}
	}
	if m := r.local[caller]; m.lsn < lsn || time.Now().After(m.expires) {
		r.local[caller] = localMark{lsn: lsn, expires: time.Now().Add(ttl)}
	}
	r.mu.Unlock()
	if r.marks != nil {
		if err := r.marks.Mark(ctx, caller, lsn, ttl); err != nil {
			r.logger.WarnContext(ctx, "could not share a write position: other instances read this caller's data from the primary only while Redis answers",
				"error", err)
		}
	}
}

// need is the position a replica must have replayed to serve caller; ok is false when it cannot be
// known (signed in, and no shared marks to read).
func (r *Replicas) need(ctx context.Context, caller string) (uint64, bool) {
	if caller == "" {
		return 0, true
	}
	if r.marks == nil {
		return 0, false
	}
	r.mu.Lock()
	m := r.local[caller]
	r.mu.Unlock()
	local := m.lsn
	if time.Now().After(m.expires) {
		local = 0
	}
	shared, err := r.marks.Marked(ctx, caller)
	if err != nil {
		return 0, false
	}
	return max(local, shared), true
}

// pick is where a read that may lag goes.
func (r *Replicas) pick(ctx context.Context, rd *uow.Reader) db.DBTX {
	need, err := rd.Position(func() (uint64, error) {
		n, ok := r.need(ctx, rd.Caller)
		if !ok {
			return 0, errNoMarks
		}
		return n, nil
	})
	if err == nil {
		start := r.next.Add(1)
		for i := range r.nodes {
			n := r.nodes[(int(start)+i)%len(r.nodes)]
			if n.usable.Load() && n.replayed.Load() >= need {
				r.ReplicaReads.Add(1)
				return &replicaConn{r: r, n: n}
			}
		}
	}
	r.PrimaryReads.Add(1)
	return r.primary
}

var errNoMarks = errors.New("write positions cannot be read")

// replicaConn runs reads on a replica, and on the primary when the replica fails to answer (it went
// away since the last check, or cancelled the query for a conflict with recovery); once the replica
// failed, the request's later reads through it go to the primary directly.
type replicaConn struct {
	r    *Replicas
	n    *replica
	gone atomic.Bool
}

// on is where the next query goes.
func (c *replicaConn) on() *pgxpool.Pool {
	if c.gone.Load() {
		return c.r.primary
	}
	return c.n.pool
}

func (c *replicaConn) failed(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var pe *pgconn.PgError
	if !unavailable(err) && !(errors.As(err, &pe) && pe.Code == serializationFailure) {
		return false
	}
	c.gone.Store(true)
	c.r.Fallbacks.Add(1)
	c.r.setState(c.n, false, -1, err, "a read failed on the replica")
	return true
}

func (c *replicaConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	pool := c.on()
	tag, err := pool.Exec(ctx, sql, args...)
	if pool != c.r.primary && c.failed(ctx, err) {
		return c.r.primary.Exec(ctx, sql, args...)
	}
	return tag, err
}

func (c *replicaConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	pool := c.on()
	rows, err := pool.Query(ctx, sql, args...)
	if pool == c.r.primary {
		return rows, err
	}
	if c.failed(ctx, err) {
		return c.r.primary.Query(ctx, sql, args...)
	}
	if err != nil {
		return rows, err
	}
	return &fallbackRows{Rows: rows, retry: func() (pgx.Rows, error) { return c.r.primary.Query(ctx, sql, args...) }, c: c, ctx: ctx}, nil
}

func (c *replicaConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return fallbackRow{c: c, ctx: ctx, sql: sql, args: args}
}

// fallbackRows switches to the primary when the replica's answer fails before its first row.
type fallbackRows struct {
	pgx.Rows
	retry   func() (pgx.Rows, error)
	c       *replicaConn
	ctx     context.Context
	started bool
	err     error
}

func (f *fallbackRows) Next() bool {
	if f.err != nil {
		return false
	}
	if f.Rows.Next() {
		f.started = true
		return true
	}
	if !f.started && f.c.failed(f.ctx, f.Rows.Err()) {
		f.started = true
		f.Rows.Close()
		rows, err := f.retry()
		if err != nil {
			f.err = err
			return false
		}
		f.Rows = rows
		return rows.Next()
	}
	return false
}

func (f *fallbackRows) Err() error {
	if f.err != nil {
		return f.err
	}
	return f.Rows.Err()
}

type fallbackRow struct {
	c    *replicaConn
	ctx  context.Context
	sql  string
	args []any
}

func (r fallbackRow) Scan(dest ...any) error {
	pool := r.c.on()
	err := pool.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...)
	if pool != r.c.r.primary && r.c.failed(r.ctx, err) {
		return r.c.r.primary.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...)
	}
	return err
}
