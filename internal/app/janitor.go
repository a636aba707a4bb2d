package app

import (
	"context"
	"time"

	"github.com/storefront/storefront/internal/postgres"
)

// Cleanup removes expired idempotency keys, refresh tokens and failed sign-ins, audit entries past their
// retention (AUDIT_RETENTION_DAYS) and events past theirs (EVENTS_RETENTION_DAYS), once.
func (a *App) Cleanup(ctx context.Context) (map[string]int64, error) {
	return postgres.Cleanup(ctx, a.Pool, a.Config.AuditRetentionDays, time.Now().Add(-a.Config.EventsRetention))
}

// RunJanitor cleans up every interval until ctx ends. Several instances may run it: each delete is
// idempotent.
func (a *App) RunJanitor(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		removed, err := a.Cleanup(ctx)
		if err != nil && ctx.Err() == nil {
			a.Logger.Warn("cleanup failed", "error", err)
		} else if err == nil {
			a.Logger.Debug("cleanup done", "removed", removed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
