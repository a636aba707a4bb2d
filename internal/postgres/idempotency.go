package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/idempotency"
)

// IdempotencyStore implements idempotency.Store.
type IdempotencyStore struct{ *DB }

var _ idempotency.Store = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns a store over the pool.
func NewIdempotencyStore(d *DB) *IdempotencyStore { return &IdempotencyStore{d} }

func (s *IdempotencyStore) Claim(ctx context.Context, scope, key string, fp []byte) (idempotency.Claim, error) {
	q := s.q(ctx)
	locked, err := q.LockIdempotencyKey(ctx, db.LockIdempotencyKeyParams{Scope: scope, Key: key})
	if err != nil {
		return idempotency.Claim{}, translate(err, "idempotency key")
	}
	if !locked {
		return idempotency.Claim{InProgress: true}, nil
	}
	row, err := q.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{Scope: scope, Key: key})
	switch {
	case apperr.IsKind(translate(err, "key"), apperr.KindNotFound):
		return idempotency.Claim{}, nil
	case err != nil:
		return idempotency.Claim{}, translate(err, "idempotency key")
	case row.Expired:
		return idempotency.Claim{}, translate(q.DeleteIdempotencyKey(ctx, row.ID), "idempotency key")
	case !bytes.Equal(row.Fingerprint, fp):
		return idempotency.Claim{Mismatch: true}, nil
	}
	r := &idempotency.Response{Status: int(row.ResponseStatus), Body: row.ResponseBody}
	if err := json.Unmarshal(row.ResponseHeader, &r.Header); err != nil {
		return idempotency.Claim{}, apperr.Internal(fmt.Errorf("stored response header: %w", err))
	}
	return idempotency.Claim{Replay: r}, nil
}

func (s *IdempotencyStore) Complete(ctx context.Context, scope, key string, fp []byte, r idempotency.Response) error {
	header, err := json.Marshal(r.Header)
	if err != nil {
		return apperr.Internal(err)
	}
	return translate(s.q(ctx).InsertIdempotencyKey(ctx, db.InsertIdempotencyKeyParams{Scope: scope, Key: key,
		Fingerprint: fp, ResponseStatus: int32(r.Status), ResponseHeader: header, ResponseBody: r.Body}), "idempotency key")
}

func (s *IdempotencyStore) DeleteExpired(ctx context.Context) (int64, error) {
	n, err := s.q(ctx).DeleteExpiredIdempotencyKeys(ctx)
	return n, translate(err, "idempotency key")
}
