package identity

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
)

func TestPasswordHasher(t *testing.T) {
	h, err := NewPasswordHasher(DefaultArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	phc, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("not a PHC argon2id string with the default cost: %s", phc)
	}
	other, _ := h.Hash("correct horse battery")
	if other == phc {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	tests := []struct {
		name, password, phc string
		ok, wantErr         bool
	}{
		{"right", "correct horse battery", phc, true, false},
		{"wrong", "correct horse battery!", phc, false, false},
		{"not PHC", "x", "plaintext", false, true},
		{"other algorithm", "x", "$2a$10$abcdefghijklmnopqrstuv", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify(tt.password, tt.phc)
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Fatalf("Verify = %v, %v", ok, err)
			}
		})
	}
	t.Run("hashes made with other costs still verify", func(t *testing.T) {
		cheap, _ := NewPasswordHasher(Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1})
		old, _ := cheap.Hash("pw-from-before")
		if ok, err := h.Verify("pw-from-before", old); !ok || err != nil {
			t.Fatalf("Verify = %v, %v", ok, err)
		}
	})
}

func TestAccessTokens(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	issuer := NewTokenIssuer([]byte(strings.Repeat("k", 32)), 15*time.Minute, clock)
	id := uuid.Must(uuid.NewV7())
	token, err := issuer.Issue(id, RoleEditor.Scopes())
	if err != nil {
		t.Fatal(err)
	}
	p, err := issuer.Verify(token)
	if err != nil || p.UserID != id || !p.Has(access.ScopePostsPublish) || p.Has(access.ScopeUsersAdmin) {
		t.Fatalf("Verify = %+v, %v", p, err)
	}
	t.Run("expired", func(t *testing.T) {
		later := NewTokenIssuer([]byte(strings.Repeat("k", 32)), 15*time.Minute, func() time.Time { return now.Add(16 * time.Minute) })
		if _, err := later.Verify(token); err == nil {
			t.Fatal("expired token accepted")
		}
	})
	t.Run("other secret", func(t *testing.T) {
		other := NewTokenIssuer([]byte(strings.Repeat("x", 32)), 15*time.Minute, clock)
		if _, err := other.Verify(token); err == nil {
			t.Fatal("token of another secret accepted")
		}
	})
	t.Run("tampered payload", func(t *testing.T) {
		parts := strings.Split(token, ".")
		parts[1] = parts[1][:len(parts[1])-2] + "AA"
		if _, err := issuer.Verify(strings.Join(parts, ".")); err == nil {
			t.Fatal("tampered token accepted")
		}
	})
}

func TestRoles(t *testing.T) {
	for _, r := range []Role{RoleCustomer, RoleEditor, RoleAdmin} {
		if !r.Valid() || len(r.Scopes()) == 0 {
			t.Fatalf("role %s", r)
		}
	}
	if Role("root").Valid() {
		t.Fatal("unknown role valid")
	}
	if RoleCustomer.Has(access.ScopePostsPublish) || !RoleEditor.Has(access.ScopePostsPublish) || !RoleAdmin.Has(access.ScopeCatalogWrite) {
		t.Fatal("role scopes are off")
	}
	// Scopes returns a copy: callers cannot widen a role.
	s := RoleCustomer.Scopes()
	s[0] = access.ScopeUsersAdmin
	if RoleCustomer.Has(access.ScopeUsersAdmin) {
		t.Fatal("Scopes leaked the role's slice")
	}
}

func TestRefreshTokenFormat(t *testing.T) {
	a, ha, err := newRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := newRefreshToken()
	if a == b || !strings.HasPrefix(a, "rt_") || len(a) != 46 || len(ha) != 32 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if string(hashRefreshToken(a)) != string(ha) {
		t.Fatal("hash not deterministic")
	}
}
