package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/page"
)

func newUser(t *testing.T, s Stores, email string) identity.User {
	t.Helper()
	return must(s.Users.CreateUser(ctx, identity.NewUser{ID: newID(), Email: email, Name: "Ada",
		PasswordHash: "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA", Role: identity.RoleCustomer}))(t)
}

var userCases = []testCase{
	{"create, then read by id and by email in any case", func(t *testing.T, s Stores) {
		u := newUser(t, s, "Read.Me@example.com")
		if u.Role != identity.RoleCustomer || u.Status != identity.StatusActive || u.Version != 1 {
			t.Fatalf("created %+v", u)
		}
		got := must(s.Users.UserByID(ctx, u.ID))(t)
		if got.Email != u.Email || got.Name != "Ada" || got.Version != 1 {
			t.Fatalf("by id %+v", got)
		}
		byEmail := must(s.Users.UserByEmail(ctx, "read.me@example.com"))(t)
		if byEmail.ID != u.ID || byEmail.PasswordHash == "" {
			t.Fatalf("by email %+v", byEmail)
		}
	}},
	{"a second live account with the same email in another case is a duplicate", func(t *testing.T, s Stores) {
		newUser(t, s, "twice@example.com")
		_, err := s.Users.CreateUser(ctx, identity.NewUser{ID: newID(), Email: "TWICE@example.com", Name: "B", PasswordHash: "x", Role: identity.RoleCustomer})
		wantDuplicate(t, err, "user", "email")
	}},
	{"an unknown user is not found", func(t *testing.T, s Stores) {
		_, err := s.Users.UserByID(ctx, uuid.New())
		wantNotFound(t, err, "user")
		_, err = s.Users.UserByEmail(ctx, "nobody@example.com")
		wantNotFound(t, err, "user")
		_, err = s.Users.LockUser(ctx, uuid.New())
		wantNotFound(t, err, "user")
		wantNotFound(t, s.Users.DeleteUser(ctx, uuid.New()), "user")
	}},
	{"an update is read back at once and bumps the version", func(t *testing.T, s Stores) {
		u := newUser(t, s, "update@example.com")
		must(s.Users.UserByID(ctx, u.ID))(t) // a cached implementation now holds it
		u.Name, u.Role, u.Status = "Ada King", identity.RoleEditor, identity.StatusSuspended
		out := must(s.Users.UpdateUser(ctx, u))(t)
		got := must(s.Users.UserByID(ctx, u.ID))(t)
		if out.Version != 2 || got.Version != 2 || got.Name != "Ada King" || got.Role != identity.RoleEditor || got.Status != identity.StatusSuspended {
			t.Fatalf("update %+v, read %+v", out, got)
		}
	}},
	{"a rolled-back update leaves the user as it was, also for later reads", func(t *testing.T, s Stores) {
		u := newUser(t, s, "rollback@example.com")
		must(s.Users.UserByID(ctx, u.ID))(t)
		rolledBack(t, s, func(ctx context.Context) {
			locked := must(s.Users.LockUser(ctx, u.ID))(t)
			locked.Name = "Changed"
			must(s.Users.UpdateUser(ctx, locked))(t)
			if in := must(s.Users.UserByID(ctx, u.ID))(t); in.Name != "Changed" {
				t.Fatalf("inside the transaction the change is not visible: %+v", in)
			}
		})
		if got := must(s.Users.UserByID(ctx, u.ID))(t); got.Name != "Ada" || got.Version != 1 {
			t.Fatalf("after rollback %+v", got)
		}
	}},
	{"a deleted user is gone, and its email is free again", func(t *testing.T, s Stores) {
		u := newUser(t, s, "gone@example.com")
		must(s.Users.UserByID(ctx, u.ID))(t)
		check(t, s.Users.DeleteUser(ctx, u.ID))
		_, err := s.Users.UserByID(ctx, u.ID)
		wantNotFound(t, err, "user")
		newUser(t, s, "gone@example.com")
	}},
	{"lists filter, and pages cover every user once", func(t *testing.T, s Stores) {
		prefix := "pager-" + strings.ToLower(newID().String()[:8])
		for i := range 5 {
			newUser(t, s, prefix+"-"+string(rune('a'+i))+"@example.com")
		}
		seen := map[uuid.UUID]bool{}
		req := page.Request{Sort: "email", Limit: 2}
		for pages := 0; ; pages++ {
			p := must(s.Users.ListUsers(ctx, identity.UserFilter{Q: prefix}, req))(t)
			for _, u := range p.Items {
				if seen[u.ID] || !strings.HasPrefix(u.Email, prefix) {
					t.Fatalf("page %d: %s repeated or unfiltered", pages, u.Email)
				}
				seen[u.ID] = true
			}
			if !p.HasMore {
				break
			}
			req.Cursor = p.NextCursor
		}
		if len(seen) != 5 {
			t.Fatalf("saw %d users, want 5", len(seen))
		}
	}},
	{"refresh tokens rotate and revoke by family", func(t *testing.T, s Stores) {
		u := newUser(t, s, "tokens@example.com")
		family := uuid.New()
		a, b := []byte("hash-a-"+family.String()), []byte("hash-b-"+family.String())
		check(t, s.Users.CreateRefreshToken(ctx, u.ID, family, a, time.Now().Add(time.Hour)))
		check(t, s.Users.CreateRefreshToken(ctx, u.ID, family, b, time.Now().Add(time.Hour)))
		check(t, s.Users.MarkRefreshTokenUsed(ctx, a))
		rt := must(s.Users.LockRefreshToken(ctx, a))(t)
		if !rt.Used || rt.Revoked || rt.UserID != u.ID || rt.FamilyID != family {
			t.Fatalf("used token %+v", rt)
		}
		check(t, s.Users.RevokeRefreshFamily(ctx, family))
		if rt := must(s.Users.LockRefreshToken(ctx, b))(t); !rt.Revoked {
			t.Fatalf("family not revoked: %+v", rt)
		}
		_, err := s.Users.LockRefreshToken(ctx, []byte("unknown"))
		wantNotFound(t, err, "refresh token")
	}},
	{"failed sign-ins are counted per email and address and cleared", func(t *testing.T, s Stores) {
		email, ip := "throttle-"+newID().String()+"@example.com", "192.0.2.7"
		for range 3 {
			check(t, s.Users.RecordLoginFailure(ctx, email, ip))
		}
		check(t, s.Users.RecordLoginFailure(ctx, email, "192.0.2.8"))
		n, wait := must2(s.Users.RecentLoginFailures(ctx, email, ip, time.Minute))(t)
		if n != 3 || wait <= 0 || wait > time.Minute {
			t.Fatalf("failures %d, retry after %v", n, wait)
		}
		check(t, s.Users.ClearLoginFailures(ctx, email, ip))
		if n, _ := must2(s.Users.RecentLoginFailures(ctx, email, ip, time.Minute))(t); n != 0 {
			t.Fatalf("after clearing: %d", n)
		}
	}},
}

func must2(n int, d time.Duration, err error) func(*testing.T) (int, time.Duration) {
	return func(t *testing.T) (int, time.Duration) {
		t.Helper()
		check(t, err)
		return n, d
	}
}
