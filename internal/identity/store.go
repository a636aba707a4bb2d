package identity

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/page"
)

// NewUser is a user about to be stored.
type NewUser struct {
	ID           uuid.UUID
	Email        string
	Name         string
	PasswordHash string
	Role         Role
}

// UserFilter narrows a user list; zero fields do not filter.
type UserFilter struct {
	Role   Role
	Status Status
	Q      string
}

// RefreshToken is a stored refresh token, as seen while rotating it.
type RefreshToken struct {
	UserID      uuid.UUID
	UserDeleted bool
	FamilyID    uuid.UUID
	ExpiresAt   time.Time
	Used        bool
	Revoked     bool
}

// Store is what the identity rules need from storage. Implementations translate storage errors into
// apperr errors: a missing row is KindNotFound, a taken email is EMAIL_TAKEN.
type Store interface {
	CreateUser(ctx context.Context, u NewUser) (User, error)
	UserByID(ctx context.Context, id uuid.UUID) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	// LockUser reads a user and holds a row lock until the transaction ends.
	LockUser(ctx context.Context, id uuid.UUID) (User, error)
	// UpdateUser writes every editable field of u (matched by u.ID).
	UpdateUser(ctx context.Context, u User) (User, error)
	DeleteUser(ctx context.Context, id uuid.UUID) error
	ListUsers(ctx context.Context, f UserFilter, req page.Request) (page.Page[User], error)

	CreateRefreshToken(ctx context.Context, userID, familyID uuid.UUID, hash []byte, expiresAt time.Time) error
	// LockRefreshToken finds a token by hash and locks it; KindNotFound when unknown.
	LockRefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	MarkRefreshTokenUsed(ctx context.Context, hash []byte) error
	RevokeRefreshFamily(ctx context.Context, familyID uuid.UUID) error
	RevokeUserRefreshTokens(ctx context.Context, userID uuid.UUID) error

	// LockLoginAttempts serialises attempts for one account (email), from every address, until the
	// transaction ends.
	LockLoginAttempts(ctx context.Context, email string) error
	// RecentLoginFailures counts failures for email+ip inside the window, and how long until the oldest expires.
	RecentLoginFailures(ctx context.Context, email, ip string, window time.Duration) (int, time.Duration, error)
	// RecentAccountLoginFailures counts failures for email from every address inside the window, and
	// how long until the oldest expires.
	RecentAccountLoginFailures(ctx context.Context, email string, window time.Duration) (int, time.Duration, error)
	RecordLoginFailure(ctx context.Context, email, ip string) error
	ClearLoginFailures(ctx context.Context, email, ip string) error

	// CreateAPIKey stores a key of a live owner (KindNotFound "user" otherwise).
	CreateAPIKey(ctx context.Context, k NewAPIKey) (APIKey, error)
	// APIKey reads a key, revoked ones included.
	APIKey(ctx context.Context, id uuid.UUID) (APIKey, error)
	// LockAPIKey reads a key and holds a row lock until the transaction ends.
	LockAPIKey(ctx context.Context, id uuid.UUID) (APIKey, error)
	// UpdateAPIKey writes k's name, rate limit and revocation (matched by k.ID, whose SecretHash it keeps).
	UpdateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	ListAPIKeys(ctx context.Context, f APIKeyFilter, req page.Request) (page.Page[APIKey], error)
	// KeyCredential finds a key by the hash of its secret, with its owner's current role and status;
	// KindNotFound when unknown or when the owner is deleted.
	KeyCredential(ctx context.Context, secretHash []byte) (KeyCredential, error)
	// LiveAPIKeyHashes are the secret hashes of a user's keys that are not revoked.
	LiveAPIKeyHashes(ctx context.Context, ownerID uuid.UUID) ([][]byte, error)
	// TouchAPIKey sets last_used_at to now, unless it was set less than a minute ago.
	TouchAPIKey(ctx context.Context, id uuid.UUID) error
}
