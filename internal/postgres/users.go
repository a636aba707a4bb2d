package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/page"
)

// IdentityStore implements identity.Store.
type IdentityStore struct{ *DB }

var _ identity.Store = (*IdentityStore)(nil)

// NewIdentityStore returns a store over the pool.
func NewIdentityStore(d *DB) *IdentityStore { return &IdentityStore{d} }

func userFromRow(r db.User) identity.User {
	return identity.User{
		ID: r.PublicID, Email: r.Email, Name: r.Name, Role: identity.Role(r.Role), Status: identity.Status(r.Status),
		PasswordHash: r.PasswordHash, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func translateUser(err error) error { return translate(err, "user") }

// Writes that can fail with a unique violation (answered 409) run in a savepoint: inside a request's
// transaction (idempotency keys) the failure must not abort the transaction that stores the answer.

func (s *IdentityStore) CreateUser(ctx context.Context, u identity.NewUser) (identity.User, error) {
	var row db.User
	err := s.InTx(ctx, func(ctx context.Context) (err error) {
		row, err = s.q(ctx).CreateUser(ctx, db.CreateUserParams{
			PublicID: u.ID, Email: u.Email, Name: u.Name, PasswordHash: u.PasswordHash, Role: string(u.Role),
		})
		return err
	})
	if err != nil {
		return identity.User{}, translateUser(err)
	}
	return userFromRow(row), nil
}

func (s *IdentityStore) UserByID(ctx context.Context, id uuid.UUID) (identity.User, error) {
	row, err := s.q(ctx).GetUserByPublicID(ctx, id)
	if err != nil {
		return identity.User{}, translateUser(err)
	}
	return userFromRow(row), nil
}

func (s *IdentityStore) UserByEmail(ctx context.Context, email string) (identity.User, error) {
	row, err := s.q(ctx).GetUserByEmail(ctx, email)
	if err != nil {
		return identity.User{}, translateUser(err)
	}
	return userFromRow(row), nil
}

func (s *IdentityStore) LockUser(ctx context.Context, id uuid.UUID) (identity.User, error) {
	row, err := s.q(ctx).LockUser(ctx, id)
	if err != nil {
		return identity.User{}, translateUser(err)
	}
	return userFromRow(row), nil
}

func (s *IdentityStore) UpdateUser(ctx context.Context, u identity.User) (identity.User, error) {
	var row db.User
	err := s.InTx(ctx, func(ctx context.Context) (err error) {
		row, err = s.q(ctx).UpdateUser(ctx, db.UpdateUserParams{
			Email: u.Email, Name: u.Name, Role: string(u.Role), Status: string(u.Status),
			PasswordHash: u.PasswordHash, PublicID: u.ID,
		})
		return err
	})
	if err != nil {
		return identity.User{}, translateUser(err)
	}
	return userFromRow(row), nil
}

func (s *IdentityStore) DeleteUser(ctx context.Context, id uuid.UUID) error {
	_, err := s.q(ctx).SoftDeleteUser(ctx, id)
	return translateUser(err)
}

func (s *IdentityStore) CreateRefreshToken(ctx context.Context, userID, familyID uuid.UUID, hash []byte, expiresAt time.Time) error {
	return translate(s.q(ctx).CreateRefreshToken(ctx, db.CreateRefreshTokenParams{
		PublicID: userID, FamilyID: familyID, TokenHash: hash, ExpiresAt: expiresAt,
	}), "refresh token")
}

func (s *IdentityStore) LockRefreshToken(ctx context.Context, hash []byte) (identity.RefreshToken, error) {
	row, err := s.q(ctx).LockRefreshToken(ctx, hash)
	if err != nil {
		return identity.RefreshToken{}, translate(err, "refresh token")
	}
	return identity.RefreshToken{
		UserID: row.UserPublicID, UserDeleted: row.UserDeletedAt != nil, FamilyID: row.FamilyID,
		ExpiresAt: row.ExpiresAt, Used: row.UsedAt != nil, Revoked: row.RevokedAt != nil,
	}, nil
}

func (s *IdentityStore) MarkRefreshTokenUsed(ctx context.Context, hash []byte) error {
	return translate(s.q(ctx).MarkRefreshTokenUsed(ctx, hash), "refresh token")
}

func (s *IdentityStore) RevokeRefreshFamily(ctx context.Context, familyID uuid.UUID) error {
	return translate(s.q(ctx).RevokeRefreshTokenFamily(ctx, familyID), "refresh token")
}

func (s *IdentityStore) RevokeUserRefreshTokens(ctx context.Context, userID uuid.UUID) error {
	return translate(s.q(ctx).RevokeUserRefreshTokens(ctx, userID), "refresh token")
}

func (s *IdentityStore) LockLoginAttempts(ctx context.Context, email string) error {
	return translate(s.q(ctx).LockLoginAttempts(ctx, email), "login attempt")
}

func (s *IdentityStore) RecentAccountLoginFailures(ctx context.Context, email string, window time.Duration) (int, time.Duration, error) {
	row, err := s.q(ctx).CountRecentAccountLoginFailures(ctx, db.CountRecentAccountLoginFailuresParams{
		Email: email, WindowSeconds: int32(window / time.Second),
	})
	if err != nil {
		return 0, 0, translate(err, "login failure")
	}
	return int(row.Failures), time.Duration(row.RetryAfterSeconds) * time.Second, nil
}

func (s *IdentityStore) RecentLoginFailures(ctx context.Context, email, ip string, window time.Duration) (int, time.Duration, error) {
	row, err := s.q(ctx).CountRecentLoginFailures(ctx, db.CountRecentLoginFailuresParams{
		Email: email, ClientIp: ip, WindowSeconds: int32(window / time.Second),
	})
	if err != nil {
		return 0, 0, translate(err, "login failure")
	}
	return int(row.Failures), time.Duration(row.RetryAfterSeconds) * time.Second, nil
}

func (s *IdentityStore) RecordLoginFailure(ctx context.Context, email, ip string) error {
	return translate(s.q(ctx).RecordLoginFailure(ctx, db.RecordLoginFailureParams{Email: email, ClientIp: ip}), "login failure")
}

func (s *IdentityStore) ClearLoginFailures(ctx context.Context, email, ip string) error {
	return translate(s.q(ctx).ClearLoginFailures(ctx, db.ClearLoginFailuresParams{Email: email, ClientIp: ip}), "login failure")
}

// userSorts maps the API's sort keys to keyset columns; each has an index ending in public_id.
var userSorts = map[string]sortColumn{
	"created_at": {expr: "created_at", kind: kindTime},
	"email":      {expr: "lower(email)", kind: kindText},
	"name":       {expr: "name", kind: kindText},
}

const userColumns = "id, public_id, email, name, password_hash, role, status, version, created_at, updated_at, deleted_at"

func (s *IdentityStore) ListUsers(ctx context.Context, f identity.UserFilter, req page.Request) (page.Page[identity.User], error) {
	q := newListQuery("users", userColumns, userSorts)
	q.base("deleted_at IS NULL")
	if f.Role != "" {
		q.where("role = $?", string(f.Role))
	}
	if f.Status != "" {
		q.where("status = $?", string(f.Status))
	}
	if f.Q != "" {
		pattern := "%" + escapeLike(strings.ToLower(f.Q)) + "%"
		q.where("(lower(email) LIKE $? OR lower(name) LIKE $?)", pattern, pattern)
	}
	return runList(ctx, s.DB, q, req, scanUser, userFromRow, func(u identity.User) uuid.UUID { return u.ID })
}

func scanUser(row pgx.Row, key *any) (db.User, error) {
	var u db.User
	err := row.Scan(&u.ID, &u.PublicID, &u.Email, &u.Name, &u.PasswordHash, &u.Role, &u.Status, &u.Version,
		&u.CreatedAt, &u.UpdatedAt, &u.DeletedAt, key)
	return u, err
}
