package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storefront/storefront/gen/db"
)

// Cleanup deletes what has outlived its purpose: idempotency keys past 24 hours, refresh tokens a day
// after they expired, failed sign-ins older than a day, and events (with their webhook deliveries)
// created before eventsBefore. It returns how many rows each removed.
func Cleanup(ctx context.Context, pool *pgxpool.Pool, eventsBefore time.Time) (map[string]int64, error) {
	q := db.New(pool)
	out := map[string]int64{}
	steps := []struct {
		name string
		run  func(context.Context) (int64, error)
	}{
		{"idempotency_keys", q.DeleteExpiredIdempotencyKeys},
		{"refresh_tokens", q.DeleteExpiredRefreshTokens},
		{"login_failures", q.DeleteOldLoginFailures},
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
