package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/idempotency"
)

// IdempotencyStore implements idempotency.Store.
type IdempotencyStore struct{ base }

var _ idempotency.Store = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns a store over the pool.
func NewIdempotencyStore(pool *pgxpool.Pool) *IdempotencyStore { return &IdempotencyStore{base{pool: pool}} }

var staleSeconds = int32(idempotency.StaleAfter.Seconds())

// Claim runs outside the unit of work and commits at once, so a concurrent request with the same key
// sees it in progress.
func (s *IdempotencyStore) Claim(ctx context.Context, scope, key string, fp []byte) (idempotency.Claim, error) {
	q := db.New(s.pool)
	for attempt := 0; attempt < 3; attempt++ {
		id, err := q.ClaimIdempotencyKey(ctx, db.ClaimIdempotencyKeyParams{Scope: scope, Key: key, Fingerprint: fp})
		if err == nil {
			return idempotency.Claim{ID: id}, nil
		}
		if apperr.IsKind(translate(err, "key"), apperr.KindInternal) {
			return idempotency.Claim{}, translate(err, "idempotency key")
		}
		row, err := q.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{Scope: scope, Key: key, StaleSeconds: staleSeconds})
		if apperr.IsKind(translate(err, "key"), apperr.KindNotFound) {
			continue // released or expired in between: claim again
		}
		if err != nil {
			return idempotency.Claim{}, translate(err, "idempotency key")
		}
		switch {
		case row.Expired:
			if err := q.DeleteIdempotencyKey(ctx, row.ID); err != nil {
				return idempotency.Claim{}, translate(err, "idempotency key")
			}
			continue
		case !bytes.Equal(row.Fingerprint, fp):
			return idempotency.Claim{Mismatch: true}, nil
		case row.State == "completed" && row.ResponseStatus != nil:
			r := &idempotency.Response{Status: int(*row.ResponseStatus), Body: row.ResponseBody}
			if err := json.Unmarshal(row.ResponseHeader, &r.Header); err != nil {
				return idempotency.Claim{}, apperr.Internal(fmt.Errorf("stored response header: %w", err))
			}
			return idempotency.Claim{Replay: r}, nil
		case row.Stale:
			id, err := q.TakeOverIdempotencyKey(ctx, db.TakeOverIdempotencyKeyParams{ID: row.ID, StaleSeconds: staleSeconds})
			if err == nil {
				return idempotency.Claim{ID: id}, nil
			}
			return idempotency.Claim{InProgress: true}, nil
		default:
			return idempotency.Claim{InProgress: true}, nil
		}
	}
	return idempotency.Claim{InProgress: true}, nil
}

func (s *IdempotencyStore) Begin(ctx context.Context) (context.Context, idempotency.Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, nil, apperr.Internal(fmt.Errorf("beginning transaction: %w", err))
	}
	return WithTx(ctx, tx), tx, nil
}

func (s *IdempotencyStore) Complete(ctx context.Context, id int64, r idempotency.Response) error {
	header, err := json.Marshal(r.Header)
	if err != nil {
		return apperr.Internal(err)
	}
	status := int32(r.Status)
	return translate(s.q(ctx).CompleteIdempotencyKey(ctx, db.CompleteIdempotencyKeyParams{
		ID: id, ResponseStatus: &status, ResponseHeader: header, ResponseBody: r.Body}), "idempotency key")
}

func (s *IdempotencyStore) Release(ctx context.Context, id int64) error {
	return translate(db.New(s.pool).DeleteIdempotencyKey(ctx, id), "idempotency key")
}

func (s *IdempotencyStore) DeleteExpired(ctx context.Context) (int64, error) {
	n, err := db.New(s.pool).DeleteExpiredIdempotencyKeys(ctx)
	return n, translate(err, "idempotency key")
}
