package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/page"
)

func apiKeyFromRow(r db.GetAPIKeyRow) identity.APIKey {
	k := identity.APIKey{
		ID: r.PublicID, OwnerID: r.OwnerPublicID, Name: r.Name, Prefix: r.Prefix, LastFour: r.LastFour, Scopes: r.Scopes,
		ExpiresAt: r.ExpiresAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, SecretHash: r.SecretHash,
	}
	if r.RateLimitPerMinute != nil {
		k.RateLimit = int(*r.RateLimitPerMinute)
	}
	return k
}

func translateAPIKey(err error) error { return translate(err, "API key") }

func (s *IdentityStore) CreateAPIKey(ctx context.Context, k identity.NewAPIKey) (identity.APIKey, error) {
	_, err := s.q(ctx).CreateAPIKey(ctx, db.CreateAPIKeyParams{
		PublicID: k.ID, OwnerPublicID: k.OwnerID, Name: k.Name, Prefix: k.Prefix, LastFour: k.LastFour,
		SecretHash: k.SecretHash, Scopes: k.Scopes, ExpiresAt: k.ExpiresAt,
	})
	if err != nil {
		return identity.APIKey{}, translateUser(err) // no row inserted: the owner is not a live user
	}
	return s.APIKey(ctx, k.ID)
}

func (s *IdentityStore) APIKey(ctx context.Context, id uuid.UUID) (identity.APIKey, error) {
	row, err := s.q(ctx).GetAPIKey(ctx, id)
	if err != nil {
		return identity.APIKey{}, translateAPIKey(err)
	}
	return apiKeyFromRow(row), nil
}

func (s *IdentityStore) LockAPIKey(ctx context.Context, id uuid.UUID) (identity.APIKey, error) {
	row, err := s.q(ctx).LockAPIKey(ctx, id)
	if err != nil {
		return identity.APIKey{}, translateAPIKey(err)
	}
	return apiKeyFromRow(db.GetAPIKeyRow(row)), nil
}

func (s *IdentityStore) UpdateAPIKey(ctx context.Context, k identity.APIKey) (identity.APIKey, error) {
	var rate *int32
	if k.RateLimit > 0 {
		r := int32(k.RateLimit)
		rate = &r
	}
	err := s.q(ctx).UpdateAPIKey(ctx, db.UpdateAPIKeyParams{PublicID: k.ID, Name: k.Name, RateLimitPerMinute: rate, RevokedAt: k.RevokedAt})
	if err != nil {
		return identity.APIKey{}, translateAPIKey(err)
	}
	return s.APIKey(ctx, k.ID)
}

func (s *IdentityStore) KeyCredential(ctx context.Context, secretHash []byte) (identity.KeyCredential, error) {
	r, err := s.q(ctx).GetAPIKeyCredential(ctx, secretHash)
	if err != nil {
		return identity.KeyCredential{}, translateAPIKey(err)
	}
	c := identity.KeyCredential{KeyID: r.PublicID, OwnerID: r.OwnerPublicID, SecretHash: r.SecretHash, Scopes: r.Scopes,
		ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt, OwnerRole: identity.Role(r.OwnerRole), OwnerStatus: identity.Status(r.OwnerStatus)}
	if r.RateLimitPerMinute != nil {
		c.RateLimit = int(*r.RateLimitPerMinute)
	}
	return c, nil
}

func (s *IdentityStore) LiveAPIKeyHashes(ctx context.Context, ownerID uuid.UUID) ([][]byte, error) {
	hashes, err := s.q(ctx).ListLiveAPIKeyHashes(ctx, ownerID)
	return hashes, translateAPIKey(err)
}

func (s *IdentityStore) TouchAPIKey(ctx context.Context, id uuid.UUID) error {
	return translateAPIKey(s.q(ctx).TouchAPIKey(ctx, id))
}

var apiKeySorts = map[string]sortColumn{"created_at": {expr: "k.created_at", kind: kindTime}}

const apiKeyColumns = "k.public_id, u.public_id, k.name, k.prefix, k.last_four, k.secret_hash, k.scopes, k.rate_limit_per_minute, " +
	"k.expires_at, k.last_used_at, k.version, k.created_at, k.updated_at, k.revoked_at"

func (s *IdentityStore) ListAPIKeys(ctx context.Context, f identity.APIKeyFilter, req page.Request) (page.Page[identity.APIKey], error) {
	q := newListQuery("api_keys k JOIN users u ON u.id = k.user_id", apiKeyColumns, apiKeySorts)
	q.idExpr = "k.public_id"
	if f.OwnerID != nil {
		// The owner's internal key, so the list walks api_keys_user_created_at_idx.
		q.where("k.user_id = (SELECT id FROM users WHERE public_id = $?)", *f.OwnerID)
	} else {
		q.base("true")
	}
	return runList(ctx, s.DB, q, req, scanAPIKey, apiKeyFromRow, func(k identity.APIKey) uuid.UUID { return k.ID })
}

func scanAPIKey(row pgx.Row, key *any) (db.GetAPIKeyRow, error) {
	var r db.GetAPIKeyRow
	err := row.Scan(&r.PublicID, &r.OwnerPublicID, &r.Name, &r.Prefix, &r.LastFour, &r.SecretHash, &r.Scopes, &r.RateLimitPerMinute,
		&r.ExpiresAt, &r.LastUsedAt, &r.Version, &r.CreatedAt, &r.UpdatedAt, &r.RevokedAt, key)
	return r, err
}
