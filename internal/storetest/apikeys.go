package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/page"
)

func newKey(t *testing.T, s Stores, owner identity.User, scopes ...string) identity.APIKey {
	t.Helper()
	id := newID()
	hash := sha256.Sum256([]byte("secret-" + id.String()))
	if scopes == nil {
		scopes = []string{}
	}
	return must(s.Users.CreateAPIKey(ctx, identity.NewAPIKey{ID: id, OwnerID: owner.ID, Name: "Sync", Prefix: identity.TestKeyPrefix,
		LastFour: "abcd", SecretHash: hash[:], Scopes: scopes}))(t)
}

// credential reads a key's credential twice, so a cached implementation serves the second read (and
// the next ones) from its cache.
func credential(t *testing.T, s Stores, k identity.APIKey) (identity.KeyCredential, error) {
	t.Helper()
	_, _ = s.Users.KeyCredential(ctx, k.SecretHash)
	return s.Users.KeyCredential(ctx, k.SecretHash)
}

var apiKeyCases = []testCase{
	{"create, then read by id, by secret hash and in the owner's list", func(t *testing.T, s Stores) {
		owner := newUser(t, s, "key-owner@example.com")
		k := newKey(t, s, owner, "catalog:read")
		if k.OwnerID != owner.ID || k.Name != "Sync" || k.Version != 1 || k.RevokedAt != nil || len(k.Scopes) != 1 || k.RateLimit != 0 {
			t.Fatalf("created %+v", k)
		}
		got := must(s.Users.APIKey(ctx, k.ID))(t)
		if got.ID != k.ID || string(got.SecretHash) != string(k.SecretHash) {
			t.Fatalf("by id %+v", got)
		}
		c := must(credential(t, s, k))(t)
		if c.KeyID != k.ID || c.OwnerID != owner.ID || c.OwnerRole != identity.RoleCustomer || c.OwnerStatus != identity.StatusActive {
			t.Fatalf("credential %+v", c)
		}
		other := newUser(t, s, "other-owner@example.com")
		newKey(t, s, other)
		p := must(s.Users.ListAPIKeys(ctx, identity.APIKeyFilter{OwnerID: &owner.ID}, page.Request{Sort: "-created_at", Limit: 10}))(t)
		if len(p.Items) != 1 || p.Items[0].ID != k.ID {
			t.Fatalf("owner's list %+v", p.Items)
		}
		hashes := must(s.Users.LiveAPIKeyHashes(ctx, owner.ID))(t)
		if len(hashes) != 1 || string(hashes[0]) != string(k.SecretHash) {
			t.Fatalf("live hashes %x", hashes)
		}
	}},
	{"unknown keys and owners are not found", func(t *testing.T, s Stores) {
		_, err := s.Users.KeyCredential(ctx, make([]byte, 32))
		wantNotFound(t, err, "API key")
		_, err = s.Users.APIKey(ctx, uuid.New())
		wantNotFound(t, err, "API key")
		hash := sha256.Sum256([]byte("orphan"))
		_, err = s.Users.CreateAPIKey(ctx, identity.NewAPIKey{ID: newID(), OwnerID: uuid.New(), Name: "x", Prefix: identity.TestKeyPrefix,
			LastFour: "abcd", SecretHash: hash[:], Scopes: []string{}})
		wantNotFound(t, err, "user")
	}},
	{"a revocation is seen through the credential at once", func(t *testing.T, s Stores) {
		k := newKey(t, s, newUser(t, s, "revoke@example.com"))
		must(credential(t, s, k))(t)
		check(t, s.Tx.InTx(ctx, func(ctx context.Context) error {
			locked := must(s.Users.LockAPIKey(ctx, k.ID))(t)
			now := time.Now()
			locked.RevokedAt, locked.RateLimit = &now, 50
			_, err := s.Users.UpdateAPIKey(ctx, locked)
			return err
		}))
		if c := must(s.Users.KeyCredential(ctx, k.SecretHash))(t); c.RevokedAt == nil || c.RateLimit != 50 {
			t.Fatalf("credential after revocation %+v", c)
		}
		if got := must(s.Users.APIKey(ctx, k.ID))(t); got.RevokedAt == nil || got.Version != 2 {
			t.Fatalf("key after revocation %+v", got)
		}
		if hashes := must(s.Users.LiveAPIKeyHashes(ctx, k.OwnerID))(t); len(hashes) != 0 {
			t.Fatalf("a revoked key is live: %x", hashes)
		}
	}},
	{"a rolled-back revocation leaves the credential usable, also for later reads", func(t *testing.T, s Stores) {
		k := newKey(t, s, newUser(t, s, "keep@example.com"))
		must(credential(t, s, k))(t)
		rolledBack(t, s, func(ctx context.Context) {
			locked := must(s.Users.LockAPIKey(ctx, k.ID))(t)
			now := time.Now()
			locked.RevokedAt = &now
			must(s.Users.UpdateAPIKey(ctx, locked))(t)
		})
		if c := must(credential(t, s, k))(t); c.RevokedAt != nil {
			t.Fatalf("after rollback %+v", c)
		}
	}},
	{"the owner's role and status changes are seen through the credential at once", func(t *testing.T, s Stores) {
		owner := newUser(t, s, "promote@example.com")
		k := newKey(t, s, owner)
		must(credential(t, s, k))(t)
		check(t, s.Tx.InTx(ctx, func(ctx context.Context) error {
			u := must(s.Users.LockUser(ctx, owner.ID))(t)
			u.Role, u.Status = identity.RoleAdmin, identity.StatusSuspended
			_, err := s.Users.UpdateUser(ctx, u)
			return err
		}))
		if c := must(s.Users.KeyCredential(ctx, k.SecretHash))(t); c.OwnerRole != identity.RoleAdmin || c.OwnerStatus != identity.StatusSuspended {
			t.Fatalf("credential after the owner's change %+v", c)
		}
	}},
	{"a deleted owner's keys are gone", func(t *testing.T, s Stores) {
		owner := newUser(t, s, "deleted-owner@example.com")
		k := newKey(t, s, owner)
		must(credential(t, s, k))(t)
		check(t, s.Users.DeleteUser(ctx, owner.ID))
		_, err := s.Users.KeyCredential(ctx, k.SecretHash)
		wantNotFound(t, err, "API key")
	}},
	{"last use is written at most once a minute", func(t *testing.T, s Stores) {
		k := newKey(t, s, newUser(t, s, "touch@example.com"))
		check(t, s.Users.TouchAPIKey(ctx, k.ID))
		first := must(s.Users.APIKey(ctx, k.ID))(t).LastUsedAt
		check(t, s.Users.TouchAPIKey(ctx, k.ID))
		second := must(s.Users.APIKey(ctx, k.ID))(t)
		if first == nil || second.LastUsedAt == nil || !second.LastUsedAt.Equal(*first) || second.Version != 1 {
			t.Fatalf("last used %v then %v (version %d)", first, second.LastUsedAt, second.Version)
		}
	}},
}
