package app

import (
	"context"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storefront/storefront/internal/postgres"
	"github.com/storefront/storefront/internal/redis"
)

// scale applies the settings for running past one database: the isolation level of every
// transaction and the read replicas (whose write marks live in Redis when there is one).
func (a *App) scale(ctx context.Context, o postgres.PoolOptions) error {
	cfg := a.Config
	if err := a.DB.SetIsolation(cfg.DatabaseIsolation); err != nil {
		return err
	}
	a.Metrics.CounterFunc("db_tx_retries_total", "Transactions run again after a serialization failure or a deadlock.", nil,
		func() float64 { return float64(a.DB.Retries.Load()) })
	if len(cfg.DatabaseReplicaURLs) == 0 {
		return nil
	}
	var marks postgres.WriteMarks
	if a.Redis != nil {
		marks = redis.NewWriteMarks(a.Redis)
	} else {
		a.Logger.Info("read replicas without Redis: signed-in callers read the primary (their write positions cannot be shared)")
	}
	r, err := postgres.NewReplicas(ctx, a.Pool, cfg.DatabaseReplicaURLs, cfg.DatabaseReplicaMaxLag, marks, a.Logger, o)
	if err != nil {
		return err
	}
	a.DB.SetReplicas(r)
	for target, n := range map[string]func() int64{"replica": r.ReplicaReads.Load, "primary": r.PrimaryReads.Load} {
		a.Metrics.CounterFunc("db_reads_total", "Reads that may lag (catalog and content reads of GET requests), by the server that answered.",
			prometheus.Labels{"target": target}, func() float64 { return float64(n()) })
	}
	a.Metrics.CounterFunc("db_replica_fallbacks_total", "Replica reads that failed and were answered by the primary.", nil,
		func() float64 { return float64(r.Fallbacks.Load()) })
	for i, st := range r.States() {
		labels := prometheus.Labels{"replica": st.Name}
		a.Metrics.LabeledGaugeFunc("db_replica_usable", "1 while the replica answers within DATABASE_REPLICA_MAX_LAG, else 0.", labels, func() float64 {
			if r.States()[i].Usable {
				return 1
			}
			return 0
		})
		a.Metrics.LabeledGaugeFunc("db_replica_lag_seconds", "How far the replica is behind the primary (at least this much once past the bound; -1: it does not answer).", labels,
			func() float64 {
				if lag := r.States()[i].Lag; lag >= 0 {
					return lag.Seconds()
				}
				return -1
			})
	}
	return nil
}

// Migrate applies pending migrations, on DATABASE_DIRECT_URL when it differs from DATABASE_URL: a
// transaction-mode pooler must not stand between goose and the database (a migration's statements
// and goose's version bookkeeping need one session).
func (a *App) Migrate(ctx context.Context) error {
	if strings.TrimSpace(a.Config.DatabaseDirectURL) == "" || a.Config.DatabaseDirectURL == a.Config.DatabaseURL {
		return postgres.Migrate(ctx, a.Pool, a.Logger)
	}
	pool, err := postgres.ConnectWith(ctx, a.Config.DatabaseDirectURL, postgres.PoolOptions{MaxConns: 2})
	if err != nil {
		return err
	}
	defer pool.Close()
	return postgres.Migrate(ctx, pool, a.Logger)
}
