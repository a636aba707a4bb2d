package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
)

const (
	tokenIssuer   = "storefront"
	tokenAudience = "storefront-api"
	refreshPrefix = "rt_"
)

// TokenIssuer signs and verifies access tokens. HS256 is the only accepted algorithm: "none" and any
// algorithm confusion are refused by the parser before the signature is looked at.
type TokenIssuer struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewTokenIssuer returns an issuer of access tokens valid for ttl.
func NewTokenIssuer(secret []byte, ttl time.Duration, now func() time.Time) *TokenIssuer {
	if now == nil {
		now = time.Now
	}
	return &TokenIssuer{secret: secret, ttl: ttl, now: now}
}

type accessClaims struct {
	jwt.RegisteredClaims
	Scope []string `json:"scope"`
}

// Issue signs an access token for the user with the scopes.
func (t *TokenIssuer) Issue(userID uuid.UUID, scopes []string) (string, error) {
	now := t.now()
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID.String(),
			Issuer:    tokenIssuer,
			Audience:  jwt.ClaimStrings{tokenAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        uuid.NewString(),
		},
		Scope: scopes,
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("signing access token: %w", err)
	}
	return signed, nil
}

// TTL is how long an access token lives.
func (t *TokenIssuer) TTL() time.Duration { return t.ttl }

// ErrInvalidToken is every reason an access token is refused; the reason itself is not disclosed.
var ErrInvalidToken = errors.New("invalid access token")

// Verify checks signature, algorithm, issuer, audience and expiry, and returns the principal.
func (t *TokenIssuer) Verify(token string) (access.Principal, error) {
	var claims accessClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return access.Principal{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil || claims.ID == "" {
		return access.Principal{}, ErrInvalidToken
	}
	return access.Principal{UserID: id, Scopes: claims.Scope}, nil
}

// newRefreshToken returns an opaque 256-bit token and the hash that is stored in its place.
func newRefreshToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("reading random bytes: %w", err)
	}
	token = refreshPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefreshToken(token), nil
}

func hashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
