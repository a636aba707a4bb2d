// Package queue runs webhook delivery attempts as River jobs (github.com/riverqueue/river) in
// PostgreSQL. A job is inserted in the caller's unit of work, with River's transactional insert on the
// very pgx.Tx of the change, so it exists exactly when the change committed. Workers take jobs with
// FOR UPDATE SKIP LOCKED, and River's leader election lets one instance at a time run the maintenance
// (making retries due, rescuing the jobs of a worker that died, deleting finished jobs): any number of
// instances may run workers on one database.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/uow"
	"github.com/storefront/storefront/internal/webhooks"
)

// Name is the queue the delivery jobs run in.
const Name = "webhooks"

// Timing. An attempt takes at most the sender's 15 seconds plus its bookkeeping; a job running for
// longer than RescueAfter belongs to a worker that died (killed, its machine lost) and is run again.
const (
	JobTimeout  = time.Minute
	RescueAfter = 2 * time.Minute
	// StopTimeout is how long Stop lets attempts under way finish before cancelling them.
	StopTimeout = 20 * time.Second
)

// DeliveryArgs is a delivery job: attempt the delivery when due.
type DeliveryArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
}

// Kind names the job type in river_job.
func (DeliveryArgs) Kind() string { return "webhook_delivery" }

// InsertOpts puts deliveries in their queue. Jobs are not unique: a job only wakes a worker, and the
// delivery's claim (package webhooks) keeps a second job for the same delivery from attempting it twice.
func (DeliveryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Name} }

// Deliverer makes one attempt of a delivery and says how long until the next (0: none).
type Deliverer interface {
	Deliver(ctx context.Context, deliveryID uuid.UUID) (time.Duration, error)
}

// DelivererFunc adapts a function to Deliverer.
type DelivererFunc func(ctx context.Context, deliveryID uuid.UUID) (time.Duration, error)

func (f DelivererFunc) Deliver(ctx context.Context, id uuid.UUID) (time.Duration, error) {
	return f(ctx, id)
}

// Options configure the queue.
type Options struct {
	// DatabaseURL is where River's own small pool connects (its listener holds a connection for good,
	// so it stays off the pool that serves requests). Only workers need it. It must be a session
	// connection (DATABASE_DIRECT_URL): LISTEN/NOTIFY and leader election do not survive a
	// transaction-mode pooler. Enqueueing goes through the caller's transaction, pooled or not.
	DatabaseURL string
	// Workers is how many attempts run at once in this process; 0 only enqueues.
	Workers int
	Logger  *slog.Logger
	// Stats is the pool the queue-depth metrics read river_job with.
	Stats *pgxpool.Pool
}

// Queue enqueues delivery jobs and, with workers, runs them.
type Queue struct {
	client  *river.Client[pgx.Tx]
	pool    *pgxpool.Pool // River's own; nil without workers
	stats   *pgxpool.Pool
	workers int
}

var _ webhooks.Queue = (*Queue)(nil)

// riverPoolConns: River's listener, its fetch and completion loops, and the leader's maintenance.
const riverPoolConns = 4

// New builds the queue. Call Start to run the workers.
func New(ctx context.Context, opts Options, d Deliverer) (*Queue, error) {
	q := &Queue{stats: opts.Stats, workers: opts.Workers}
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliveryWorker{d: d})
	cfg := &river.Config{
		Workers:              workers,
		JobTimeout:           JobTimeout,
		RescueStuckJobsAfter: RescueAfter,
		Logger:               slog.New(atLeastInfo{opts.Logger.Handler()}),
	}
	var driver *riverpgxv5.Driver
	if opts.Workers > 0 {
		pc, err := pgxpool.ParseConfig(opts.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("parsing DATABASE_DIRECT_URL for the job queue: %w", err)
		}
		pc.MaxConns = riverPoolConns
		if q.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
			return nil, fmt.Errorf("opening the job queue's pool: %w", err)
		}
		cfg.Queues = map[string]river.QueueConfig{Name: {MaxWorkers: opts.Workers}}
		driver = riverpgxv5.New(q.pool)
	} else {
		driver = riverpgxv5.New(nil) // inserts go through the caller's transaction only
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		q.Close()
		return nil, fmt.Errorf("creating the job queue: %w", err)
	}
	q.client = client
	return q, nil
}

// Start runs the workers until Stop; without workers it does nothing.
func (q *Queue) Start(ctx context.Context) error {
	if q.workers == 0 {
		return nil
	}
	return q.client.Start(ctx)
}

// Stop lets the attempts under way finish (up to StopTimeout), then cancels them; their jobs run again
// after RescueAfter, in whichever instance is up.
func (q *Queue) Stop() {
	if q.workers == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
	defer cancel()
	if err := q.client.Stop(ctx); err != nil {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = q.client.StopAndCancel(cctx)
		ccancel()
	}
}

// Close releases River's pool; call after Stop.
func (q *Queue) Close() {
	if q.pool != nil {
		q.pool.Close()
	}
}

var errNoUnit = errors.New("queue: enqueue outside a unit of work: the job would not share the change's transaction")

func txFrom(ctx context.Context) (pgx.Tx, error) {
	if u := uow.Current(ctx); u != nil {
		if tx, ok := u.Tx.(pgx.Tx); ok {
			return tx, nil
		}
	}
	return nil, apperr.Internal(errNoUnit)
}

// Enqueue inserts a job per delivery in the unit of work of ctx, with River's INSERT-based insert: one
// round trip for a handful of jobs, where the COPY-based one (InsertManyFastTx) takes more and added
// about two points more to an order with two endpoints (BenchmarkOrderWebhooks, three runs each). River's
// insert notification, sent when the transaction commits, wakes the workers of every instance.
func (q *Queue) Enqueue(ctx context.Context, deliveryIDs []uuid.UUID) error {
	tx, err := txFrom(ctx)
	if err != nil {
		return err
	}
	params := make([]river.InsertManyParams, len(deliveryIDs))
	for i, id := range deliveryIDs {
		params[i] = river.InsertManyParams{Args: DeliveryArgs{DeliveryID: id}}
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return apperr.Internal(fmt.Errorf("enqueueing deliveries: %w", err))
	}
	return nil
}

type deliveryWorker struct {
	river.WorkerDefaults[DeliveryArgs]
	d Deliverer
}

// Work makes the attempt that is due, if any. While the delivery is pending the job snoozes until it is
// due again (a snooze does not use up River's attempts); an error (the database, say) is retried by River.
func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	wait, err := w.d.Deliver(ctx, job.Args.DeliveryID)
	if err != nil {
		return err
	}
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	return nil
}

func (w *deliveryWorker) Timeout(*river.Job[DeliveryArgs]) time.Duration { return JobTimeout }

// Stats is the delivery queue's state, for metrics.
type Stats struct {
	Due     int64         // attempts due, waiting for a worker
	Waiting int64         // attempts scheduled for later (retries)
	Running int64         // attempts under way
	Lag     time.Duration // how long the oldest due attempt has waited
}

// Stats reads the queue's state from river_job.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	var lag float64
	err := q.stats.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE state = 'available' AND scheduled_at <= now()),
		       count(*) FILTER (WHERE state IN ('scheduled', 'retryable') OR (state = 'available' AND scheduled_at > now())),
		       count(*) FILTER (WHERE state = 'running'),
		       coalesce(extract(epoch FROM now() - min(scheduled_at) FILTER (WHERE state = 'available' AND scheduled_at <= now())), 0)::float8
		FROM river_job
		WHERE queue = $1 AND state IN ('available', 'scheduled', 'retryable', 'running')`, Name).
		Scan(&s.Due, &s.Waiting, &s.Running, &lag)
	s.Lag = time.Duration(lag * float64(time.Second))
	return s, err
}

// atLeastInfo keeps River's debug chatter (every fetch and snooze) out of debug logs.
type atLeastInfo struct{ slog.Handler }

func (h atLeastInfo) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo && h.Handler.Enabled(ctx, l)
}
func (h atLeastInfo) WithAttrs(a []slog.Attr) slog.Handler {
	return atLeastInfo{h.Handler.WithAttrs(a)}
}
func (h atLeastInfo) WithGroup(n string) slog.Handler { return atLeastInfo{h.Handler.WithGroup(n)} }
