package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"hash/crc32"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
)

// API key secrets follow GitHub's token format: a prefix that says what the string is, then 256 random
// bits and a checksum, all in base62 (no character a URL, a shell or a double click splits on):
//
//	sk_live_ | 43 random base62 characters | 6 base62 characters of CRC32
//
// The prefix is sk_live_ for keys minted by a production service and sk_test_ otherwise; a service
// accepts only its own. The CRC32 covers everything before it, so a mistyped or truncated key is refused
// without a lookup, and secret scanners can tell a real key from a look-alike offline. Only the SHA-256
// of the secret is stored: with 256 random bits a fast hash is right (there is nothing to brute-force).
const (
	LiveKeyPrefix = "sk_live_"
	TestKeyPrefix = "sk_test_"

	keyRandomLen   = 43 // 43 × log2(62) ≈ 256.03 bits
	keyChecksumLen = 6  // 62^6 > 2^32
	// KeySecretLen is the length of every secret.
	KeySecretLen = len(LiveKeyPrefix) + keyRandomLen + keyChecksumLen
	// AnyKeyPrefix is how every secret starts, whatever the environment: what tells a key from a JWT.
	AnyKeyPrefix = "sk_"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newKeySecret returns a fresh secret with the prefix, and the hash stored in its place.
func newKeySecret(prefix string) (secret string, hash []byte, err error) {
	b := make([]byte, 0, KeySecretLen)
	b = append(b, prefix...)
	buf := make([]byte, 64)
	for len(b) < len(prefix)+keyRandomLen {
		if _, err := rand.Read(buf); err != nil {
			return "", nil, fmt.Errorf("reading random bytes: %w", err)
		}
		for _, x := range buf {
			// 248 = 4 × 62: rejecting the rest keeps every character equally likely.
			if x < 248 && len(b) < len(prefix)+keyRandomLen {
				b = append(b, base62[x%62])
			}
		}
	}
	b = appendChecksum(b, crc32.ChecksumIEEE(b))
	secret = string(b)
	return secret, hashKeySecret(secret), nil
}

// appendChecksum appends sum in keyChecksumLen base62 digits, most significant first.
func appendChecksum(b []byte, sum uint32) []byte {
	var digits [keyChecksumLen]byte
	for i := keyChecksumLen - 1; i >= 0; i-- {
		digits[i] = base62[sum%62]
		sum /= 62
	}
	return append(b, digits[:]...)
}

// wellFormedKey reports whether secret is a key of this prefix with a correct checksum: what can be
// known without a lookup.
func wellFormedKey(secret, prefix string) bool {
	if len(secret) != KeySecretLen || !strings.HasPrefix(secret, prefix) {
		return false
	}
	for i := len(prefix); i < len(secret); i++ {
		if strings.IndexByte(base62, secret[i]) < 0 {
			return false
		}
	}
	body := secret[:len(secret)-keyChecksumLen]
	want := appendChecksum(nil, crc32.ChecksumIEEE([]byte(body)))
	return secret[len(body):] == string(want)
}

func hashKeySecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// APIKey is a partner credential as its owner and admins see it; the secret is never stored.
type APIKey struct {
	ID       uuid.UUID
	OwnerID  uuid.UUID
	Name     string
	Prefix   string // sk_live_ or sk_test_
	LastFour string // the secret's last four characters, to recognise it
	Scopes   []string
	// RateLimit is the key's own requests per minute, set by an admin; 0 for the default API key tier.
	RateLimit  int
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// SecretHash names the key's cached credential, for invalidation; it never leaves the service.
	SecretHash []byte
}

// NewAPIKey is a key about to be stored.
type NewAPIKey struct {
	ID, OwnerID      uuid.UUID
	Name             string
	Prefix, LastFour string
	SecretHash       []byte
	Scopes           []string
	ExpiresAt        *time.Time
}

// APIKeyFilter narrows a key list; a nil OwnerID lists every owner's keys.
type APIKeyFilter struct {
	OwnerID *uuid.UUID
}

// KeyCredential is what authenticating with a key needs, read in one lookup: the key, and its owner's
// current role and status (so a demotion or suspension applies to the key's next request). Caches of it
// are invalidated when the key or its owner changes.
type KeyCredential struct {
	KeyID       uuid.UUID
	OwnerID     uuid.UUID
	SecretHash  []byte
	Scopes      []string
	RateLimit   int
	ExpiresAt   *time.Time
	RevokedAt   *time.Time
	OwnerRole   Role
	OwnerStatus Status
}

// KeyAuth is an authenticated API key: the principal it acts as and its rate-limit tier.
type KeyAuth struct {
	Principal access.Principal
	// RateLimit is the key's own requests per minute; 0 for the default API key tier.
	RateLimit int
}

// usable reports whether the credential authenticates at now.
func (c KeyCredential) usable(now time.Time) bool {
	return c.RevokedAt == nil && (c.ExpiresAt == nil || now.Before(*c.ExpiresAt)) && c.OwnerStatus == StatusActive
}

// effectiveScopes are the key's scopes its owner still holds.
func (c KeyCredential) effectiveScopes() []string {
	out := make([]string, 0, len(c.Scopes))
	for _, s := range c.Scopes {
		if c.OwnerRole.Has(s) {
			out = append(out, s)
		}
	}
	return out
}
