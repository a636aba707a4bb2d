package identity

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
)

func TestKeySecretFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		secret, hash, err := newKeySecret(LiveKeyPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if len(secret) != KeySecretLen || KeySecretLen != 57 || !strings.HasPrefix(secret, "sk_live_") || len(hash) != 32 {
			t.Fatalf("secret %q (%d), hash of %d bytes", secret, len(secret), len(hash))
		}
		if !wellFormedKey(secret, LiveKeyPrefix) || wellFormedKey(secret, TestKeyPrefix) {
			t.Fatalf("%q: well-formedness is off", secret)
		}
		if seen[secret] {
			t.Fatal("a secret repeated")
		}
		seen[secret] = true
	}
	secret, _, _ := newKeySecret(TestKeyPrefix)
	// Every single-character change, every truncation and every extension is refused offline.
	for i := len(TestKeyPrefix); i < len(secret); i++ {
		for _, c := range []byte("0aZz") {
			if c == secret[i] {
				continue
			}
			typo := secret[:i] + string(c) + secret[i+1:]
			if wellFormedKey(typo, TestKeyPrefix) {
				t.Errorf("typo at %d (%q) accepted", i, typo)
			}
		}
	}
	for _, bad := range []string{"", secret[:len(secret)-1], secret + "0", strings.Replace(secret, "sk_test_", "sk_live_", 1),
		secret[:20] + "-" + secret[21:], strings.ToUpper(secret)} {
		if wellFormedKey(bad, TestKeyPrefix) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// failingStore fails the test on any call: what must be decided without storage.
type failingStore struct {
	Store
	t *testing.T
}

func (f failingStore) KeyCredential(context.Context, []byte) (KeyCredential, error) {
	f.t.Fatal("the store was asked for a credential")
	return KeyCredential{}, nil
}

// A mistyped key is refused before any lookup: the store would fail the test.
func TestMistypedKeyNeedsNoLookup(t *testing.T) {
	s := NewService(failingStore{t: t}, nil, nil, nil, 0)
	secret, _, _ := newKeySecret(TestKeyPrefix)
	last := secret[len(secret)-1]
	typo := secret[:len(secret)-1] + string(map[bool]byte{true: 'b', false: 'a'}[last == 'a'])
	for _, bad := range []string{typo, secret[:40], "sk_test_" + strings.Repeat("A", 49), "sk_live_" + secret[8:]} {
		_, err := s.AuthenticateAPIKey(context.Background(), bad)
		if !apperr.IsKind(err, apperr.KindUnauthenticated) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

type credentialStore struct {
	Store
	c KeyCredential
}

func (s credentialStore) KeyCredential(_ context.Context, hash []byte) (KeyCredential, error) {
	if string(hash) != string(s.c.SecretHash) {
		return KeyCredential{}, apperr.NotFound("API key")
	}
	return s.c, nil
}

func (credentialStore) TouchAPIKey(context.Context, uuid.UUID) error { return nil }

func TestAuthenticateAPIKey(t *testing.T) {
	secret, hash, _ := newKeySecret(TestKeyPrefix)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	base := KeyCredential{KeyID: uuid.New(), OwnerID: uuid.New(), SecretHash: hash, OwnerRole: RoleAdmin, OwnerStatus: StatusActive,
		Scopes: []string{access.ScopeCatalogWrite, access.ScopeOrdersManage}, RateLimit: 42}
	tests := []struct {
		name   string
		change func(*KeyCredential)
		scopes []string // nil: refused
	}{
		{"ok", func(*KeyCredential) {}, []string{access.ScopeCatalogWrite, access.ScopeOrdersManage}},
		{"not yet expired", func(c *KeyCredential) { c.ExpiresAt = &future }, []string{access.ScopeCatalogWrite, access.ScopeOrdersManage}},
		{"owner demoted: scopes narrowed to the role", func(c *KeyCredential) { c.OwnerRole = RoleCustomer }, []string{}},
		{"expired", func(c *KeyCredential) { c.ExpiresAt = &past }, nil},
		{"revoked", func(c *KeyCredential) { c.RevokedAt = &past }, nil},
		{"owner suspended", func(c *KeyCredential) { c.OwnerStatus = StatusSuspended }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.change(&c)
			s := NewService(credentialStore{c: c}, nil, nil, nil, 0)
			s.now = func() time.Time { return now }
			got, err := s.AuthenticateAPIKey(context.Background(), secret)
			if tt.scopes == nil {
				if !apperr.IsKind(err, apperr.KindUnauthenticated) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := got.Principal
			if p.UserID != c.OwnerID || p.APIKeyID != c.KeyID || !p.ViaAPIKey() || got.RateLimit != 42 || strings.Join(p.Scopes, ",") != strings.Join(tt.scopes, ",") {
				t.Fatalf("got %+v", got)
			}
		})
	}
	t.Run("a well-formed unknown key", func(t *testing.T) {
		other, _, _ := newKeySecret(TestKeyPrefix)
		s := NewService(credentialStore{c: base}, nil, nil, nil, 0)
		if _, err := s.AuthenticateAPIKey(context.Background(), other); !apperr.IsKind(err, apperr.KindUnauthenticated) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestUngrantable(t *testing.T) {
	admin := access.Principal{Scopes: RoleAdmin.Scopes()}
	customer := access.Principal{Scopes: RoleCustomer.Scopes()}
	key := access.Principal{Scopes: []string{access.ScopeCatalogRead}, APIKeyID: uuid.New()}
	tests := []struct {
		name   string
		p      access.Principal
		role   Role
		scopes []string
		want   string
	}{
		{"admin grants catalog:write", admin, RoleAdmin, []string{access.ScopeCatalogWrite}, ""},
		{"customer asks catalog:write", customer, RoleCustomer, []string{access.ScopeOrdersWrite, access.ScopeCatalogWrite}, access.ScopeCatalogWrite},
		{"token still says admin, role says customer", admin, RoleCustomer, []string{access.ScopeUsersAdmin}, access.ScopeUsersAdmin},
		{"a key never widens itself", key, RoleAdmin, []string{access.ScopeCatalogWrite}, access.ScopeCatalogWrite},
		{"no scopes", customer, RoleCustomer, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ungrantable(tt.p, tt.role, tt.scopes); got != tt.want {
				t.Fatalf("ungrantable = %q, want %q", got, tt.want)
			}
		})
	}
}
