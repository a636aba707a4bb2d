package identity

import (
	"context"
	"crypto/subtle"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/page"
)

// Bounds of a key, equal to the spec's.
const (
	MaxKeyName     = 100
	MaxKeyScopes   = 20
	MaxKeyLifetime = 10 * 365 * 24 * time.Hour
	MaxKeyRate     = 1000000
)

// touchEvery is how often a key's last_used_at is written at most, per instance (the SQL coalesces
// across instances): using a key costs no write per request.
const touchEvery = time.Minute

var (
	errBadKey       = apperr.New(apperr.KindUnauthenticated, "The API key is invalid, expired or revoked.")
	errKeyViaKey    = apperr.New(apperr.KindForbidden, "API keys cannot manage API keys; sign in with your password.")
	errKeyNotFound  = apperr.NotFound("API key")
	errKeyRevoked   = apperr.New(apperr.KindConflict, "The API key is revoked.")
	errRateNeedsAdm = apperr.New(apperr.KindForbidden, "Setting a key's rate limit needs scope "+access.ScopeUsersAdmin+".")
)

// UseLiveKeys makes the service mint and accept sk_live_ keys (production) instead of sk_test_ ones.
func (s *Service) UseLiveKeys() { s.keyPrefix = LiveKeyPrefix }

// KeyRequest is the input of CreateAPIKey.
type KeyRequest struct {
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
}

func (s *Service) validateKeyRequest(r KeyRequest) error {
	var details []*apperr.Detail
	details = append(details, validateKeyName(r.Name))
	known := KnownScopes()
	if len(r.Scopes) > MaxKeyScopes {
		details = append(details, &apperr.Detail{Field: "scopes", Message: "must have at most 20 scopes"})
	}
	for i, sc := range r.Scopes {
		if !slices.Contains(known, sc) {
			details = append(details, &apperr.Detail{Field: "scopes[" + strconv.Itoa(i) + "]", Message: "is not a known scope"})
		} else if slices.Index(r.Scopes, sc) != i {
			details = append(details, &apperr.Detail{Field: "scopes[" + strconv.Itoa(i) + "]", Message: "is listed twice"})
		}
	}
	if r.ExpiresAt != nil {
		now := s.now()
		if !r.ExpiresAt.After(now) || r.ExpiresAt.After(now.Add(MaxKeyLifetime)) {
			details = append(details, &apperr.Detail{Field: "expires_at", Message: "must be in the future and within 10 years"})
		}
	}
	return apperr.Collect(details...)
}

func validateKeyName(name string) *apperr.Detail {
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxKeyName || strings.TrimSpace(name) == "" {
		return &apperr.Detail{Field: "name", Message: "must be 1 to 100 characters and not blank"}
	}
	return nil
}

// ungrantable is the first of scopes the caller may not put on a key: one its credential lacks (a key
// never widens the token that made it) or its owner's current role lacks.
func ungrantable(p access.Principal, role Role, scopes []string) string {
	for _, sc := range scopes {
		if !p.Has(sc) || !role.Has(sc) {
			return sc
		}
	}
	return ""
}

// CreateAPIKey mints a key for the caller with a subset of the caller's scopes, and returns it with its
// secret, which is shown this once and never stored.
func (s *Service) CreateAPIKey(ctx context.Context, p access.Principal, r KeyRequest) (APIKey, string, error) {
	if p.ViaAPIKey() {
		return APIKey{}, "", errKeyViaKey
	}
	if err := s.validateKeyRequest(r); err != nil {
		return APIKey{}, "", err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return APIKey{}, "", apperr.Internal(err)
	}
	secret, hash, err := newKeySecret(s.keyPrefix)
	if err != nil {
		return APIKey{}, "", apperr.Internal(err)
	}
	scopes := append([]string{}, r.Scopes...)
	var out APIKey
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		owner, err := s.store.UserByID(ctx, p.UserID)
		if apperr.IsNotFound(err, "user") {
			return errAccountGone
		}
		if err != nil {
			return err
		}
		if sc := ungrantable(p, owner.Role, scopes); sc != "" {
			return apperr.New(apperr.KindForbidden, "You cannot grant scope "+sc+": you do not hold it.")
		}
		out, err = s.store.CreateAPIKey(ctx, NewAPIKey{ID: id, OwnerID: p.UserID, Name: r.Name, Prefix: s.keyPrefix,
			LastFour: secret[len(secret)-4:], SecretHash: hash, Scopes: scopes, ExpiresAt: r.ExpiresAt})
		if apperr.IsNotFound(err, "user") {
			return errAccountGone
		}
		if err != nil {
			return err
		}
		ch := audit.Changes{}.Set("name", out.Name).Set("scopes", out.Scopes)
		if out.ExpiresAt != nil {
			ch.Set("expires_at", out.ExpiresAt.UTC().Format(time.RFC3339))
		}
		return s.audit.Record(ctx, audit.Event{Action: audit.APIKeyCreated, ResourceType: audit.ResourceAPIKey,
			ResourceID: out.ID, Actor: p, Changes: ch})
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return out, secret, nil
}

// keyVisible hides other users' keys from non-admins behind a 404.
func keyVisible(p access.Principal, k APIKey) error {
	if k.OwnerID != p.UserID && !p.IsAdmin() {
		return errKeyNotFound
	}
	return nil
}

// GetAPIKey returns a key the caller owns (any key, for admins).
func (s *Service) GetAPIKey(ctx context.Context, p access.Principal, id uuid.UUID) (APIKey, error) {
	k, err := s.store.APIKey(ctx, id)
	if err == nil {
		err = keyVisible(p, k)
	}
	return k, err
}

// ListAPIKeys lists the caller's keys (owner nil) or, for admins, another owner's; newest first.
func (s *Service) ListAPIKeys(ctx context.Context, p access.Principal, owner *uuid.UUID, req page.Request) (page.Page[APIKey], error) {
	if owner == nil {
		owner = &p.UserID
	}
	if *owner != p.UserID && !p.IsAdmin() {
		return page.Page[APIKey]{}, apperr.New(apperr.KindForbidden, "Listing another user's keys needs scope "+access.ScopeUsersAdmin+".")
	}
	req, err := req.Sorted("-created_at", "created_at")
	if err != nil {
		return page.Page[APIKey]{}, err
	}
	return s.store.ListAPIKeys(ctx, APIKeyFilter{OwnerID: owner}, req)
}

// KeyChanges are the fields a PATCH of a key sets; nil leaves a field as it is. RateLimit 0 returns the
// key to the default tier.
type KeyChanges struct {
	Name      *string
	RateLimit *int
}

// changeKey runs change on a locked key the caller may see, after If-Match.
func (s *Service) changeKey(ctx context.Context, p access.Principal, id uuid.UUID, ifMatch etag.Condition,
	change func(ctx context.Context, k APIKey) (APIKey, error)) (APIKey, error) {
	if p.ViaAPIKey() {
		return APIKey{}, errKeyViaKey
	}
	var out APIKey
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		k, err := s.store.LockAPIKey(ctx, id)
		if err == nil {
			err = keyVisible(p, k)
		}
		if err == nil {
			err = ifMatch.CheckWrite(k.Version, "API key")
		}
		if err != nil {
			return err
		}
		out, err = change(ctx, k)
		return err
	})
	return out, err
}

// UpdateAPIKey renames a key (its owner or an admin) or sets its rate limit (admins).
func (s *Service) UpdateAPIKey(ctx context.Context, p access.Principal, id uuid.UUID, c KeyChanges, ifMatch etag.Condition) (APIKey, error) {
	var details []*apperr.Detail
	if c.Name != nil {
		details = append(details, validateKeyName(*c.Name))
	}
	if c.RateLimit != nil && (*c.RateLimit < 0 || *c.RateLimit > MaxKeyRate) {
		details = append(details, &apperr.Detail{Field: "rate_limit_per_minute", Message: "must be 0 (the default tier) to 1000000"})
	}
	if err := apperr.Collect(details...); err != nil {
		return APIKey{}, err
	}
	if c.RateLimit != nil && !p.IsAdmin() {
		return APIKey{}, errRateNeedsAdm
	}
	return s.changeKey(ctx, p, id, ifMatch, func(ctx context.Context, k APIKey) (APIKey, error) {
		if k.RevokedAt != nil {
			return APIKey{}, errKeyRevoked
		}
		ch := audit.Changes{}
		if c.Name != nil {
			ch.Diff("name", k.Name, *c.Name)
			k.Name = *c.Name
		}
		if c.RateLimit != nil {
			ch.Diff("rate_limit_per_minute", k.RateLimit, *c.RateLimit)
			k.RateLimit = *c.RateLimit
		}
		out, err := s.store.UpdateAPIKey(ctx, k)
		if err != nil || len(ch) == 0 {
			return out, err
		}
		return out, s.audit.Record(ctx, audit.Event{Action: audit.APIKeyUpdated, ResourceType: audit.ResourceAPIKey,
			ResourceID: k.ID, Actor: p, Changes: ch})
	})
}

// RevokeAPIKey revokes a key at once, on every instance (the cached credential is invalidated with the
// write). Revoking a revoked key changes nothing.
func (s *Service) RevokeAPIKey(ctx context.Context, p access.Principal, id uuid.UUID, ifMatch etag.Condition) error {
	_, err := s.changeKey(ctx, p, id, ifMatch, func(ctx context.Context, k APIKey) (APIKey, error) {
		if k.RevokedAt != nil {
			return k, nil
		}
		now := s.now().UTC()
		k.RevokedAt = &now
		out, err := s.store.UpdateAPIKey(ctx, k)
		if err != nil {
			return out, err
		}
		return out, s.audit.Record(ctx, audit.Event{Action: audit.APIKeyRevoked, ResourceType: audit.ResourceAPIKey,
			ResourceID: k.ID, Actor: p, Changes: audit.Changes{"name": k.Name}})
	})
	return err
}

// AuthenticateAPIKey turns a secret into the principal it acts as: its owner, with the key's scopes
// that the owner's current role still grants. A malformed secret (wrong prefix, length, alphabet or
// checksum) is refused before any lookup; otherwise it costs one lookup of the credential (cached by
// the Redis store) and, at most once a minute per key, a write of last_used_at.
func (s *Service) AuthenticateAPIKey(ctx context.Context, secret string) (KeyAuth, error) {
	if !wellFormedKey(secret, s.keyPrefix) {
		return KeyAuth{}, errBadKey
	}
	hash := hashKeySecret(secret)
	c, err := s.store.KeyCredential(ctx, hash)
	if apperr.IsKind(err, apperr.KindNotFound) {
		return KeyAuth{}, errBadKey
	}
	if err != nil {
		return KeyAuth{}, err
	}
	now := s.now()
	if subtle.ConstantTimeCompare(c.SecretHash, hash) != 1 || !c.usable(now) {
		return KeyAuth{}, errBadKey
	}
	s.touch(ctx, c.KeyID, now)
	return KeyAuth{Principal: access.Principal{UserID: c.OwnerID, Scopes: c.effectiveScopes(), APIKeyID: c.KeyID}, RateLimit: c.RateLimit}, nil
}

// touch records the key's use, at most once per touchEvery on this instance. It is informational, so a
// failure does not fail the request.
func (s *Service) touch(ctx context.Context, id uuid.UUID, now time.Time) {
	if last, ok := s.touched.Load(id); ok && now.Sub(last.(time.Time)) < touchEvery {
		return
	}
	s.touched.Store(id, now)
	_ = s.store.TouchAPIKey(context.WithoutCancel(ctx), id)
}
