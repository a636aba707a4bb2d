package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storefront/storefront/gen/db"
)

// Audit entries are pruned in batches, so one run never holds many row locks or a long transaction;
// a run stops after maxAuditBatches and the next one goes on.
const (
	auditBatch      = 1000
	maxAuditBatches = 100
)

// Cleanup deletes what has outlived its purpose: idempotency keys past 24 hours, refresh tokens a day
// after they expired, failed sign-ins older than a day, audit entries older than the retention
// (auditRetentionDays, recorded first in audit_policy, which the table's guard reads), and events (with
// their webhook deliveries) created before eventsBefore. It returns how many rows each removed.
func Cleanup(ctx context.Context, pool *pgxpool.Pool, auditRetentionDays int, eventsBefore time.Time) (map[string]int64, error) {
	q := db.New(pool)
	out := map[string]int64{}
	steps := []struct {
		name string
		run  func(context.Context) (int64, error)
	}{
		{"idempotency_keys", q.DeleteExpiredIdempotencyKeys},
		{"refresh_tokens", q.DeleteExpiredRefreshTokens},
		{"login_failures", q.DeleteOldLoginFailures},
		{"audit_events", func(ctx context.Context) (int64, error) { return pruneAudit(ctx, q, auditRetentionDays) }},
		{"events", func(ctx context.Context) (int64, error) { return PruneEvents(ctx, pool, eventsBefore) }},
	}
	for _, s := range steps {
		n, err := s.run(ctx)
		if err != nil {
			return out, fmt.Errorf("cleaning %s: %w", s.name, err)
		}
		out[s.name] = n
	}
	return out, nil
}

func pruneAudit(ctx context.Context, q *db.Queries, retentionDays int) (int64, error) {
	if err := q.SetAuditRetention(ctx, int32(retentionDays)); err != nil {
		return 0, err
	}
	var total int64
	for range maxAuditBatches {
		n, err := q.PruneAuditEvents(ctx, auditBatch)
		total += n
		if err != nil || n < auditBatch {
			return total, err
		}
	}
	return total, nil
}
