package identity

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/uow"
)

// Tokens is what a sign-in or refresh hands out.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

// Service holds the identity rules.
type Service struct {
	store      Store
	tx         uow.Runner
	throttle   LoginThrottle
	hasher     *PasswordHasher
	tokens     *TokenIssuer
	refreshTTL time.Duration
	now        func() time.Time
	audit      audit.Recorder
	keyPrefix  string   // of the API keys this service mints and accepts
	touched    sync.Map // API key id → when this instance last wrote its last_used_at
}

// NewService wires the rules to their store, the unit of work it takes part in, a hasher and a token issuer.
func NewService(store Store, tx uow.Runner, hasher *PasswordHasher, tokens *TokenIssuer, refreshTTL time.Duration) *Service {
	return &Service{store: store, tx: tx, throttle: StoreThrottle{Store: store, Tx: tx}, hasher: hasher, tokens: tokens,
		refreshTTL: refreshTTL, now: time.Now, audit: audit.Discard, keyPrefix: TestKeyPrefix}
}

// RecordTo sets the audit log the service records sign-ins, credential, role and status changes in.
func (s *Service) RecordTo(r audit.Recorder) { s.audit = r }

// Tokens exposes the issuer, for the authentication middleware.
func (s *Service) Tokens() *TokenIssuer { return s.tokens }

var errBadCredentials = apperr.New(apperr.KindUnauthenticated, "The email or password is incorrect.")
var errBadRefresh = apperr.New(apperr.KindUnauthenticated, "The refresh token is invalid, expired or revoked.")

// Registration is the input of Register.
type Registration struct {
	Email, Password, Name string
	Role                  Role
}

// Register creates an account. Role defaults to customer; only trusted callers (the CLI) pass another.
func (s *Service) Register(ctx context.Context, r Registration) (User, error) {
	if r.Role == "" {
		r.Role = RoleCustomer
	}
	if err := apperr.Collect(validateEmail("email", r.Email), validatePassword("password", r.Password), validateName("name", r.Name)); err != nil {
		return User{}, err
	}
	if !r.Role.Valid() {
		return User{}, apperr.InvalidField("role", "unknown role")
	}
	hash, err := s.hasher.Hash(r.Password)
	if err != nil {
		return User{}, apperr.Internal(err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return User{}, apperr.Internal(err)
	}
	u, err := s.store.CreateUser(ctx, NewUser{ID: id, Email: r.Email, Name: r.Name, PasswordHash: hash, Role: r.Role})
	return u, emailTaken(err)
}

// Login checks credentials, with a throttle on failures per email and client address.
func (s *Service) Login(ctx context.Context, email, password, clientIP string) (Tokens, error) {
	key := normalizeEmail(email)
	allowed, retryAfter, err := s.throttle.Attempt(ctx, key, clientIP)
	if err != nil {
		return Tokens{}, err
	}
	if !allowed {
		e := apperr.New(apperr.KindRateLimited, "Too many failed sign-in attempts; try again later.")
		e.RetryAfter = retryAfter
		return Tokens{}, e
	}
	u, err := s.store.UserByEmail(ctx, key)
	switch {
	case apperr.IsKind(err, apperr.KindNotFound):
		s.hasher.Waste(password)
		return Tokens{}, s.loginFailed(ctx, key, uuid.Nil, "unknown_email")
	case err != nil:
		return Tokens{}, err
	}
	ok, err := s.hasher.Verify(password, u.PasswordHash)
	if err != nil {
		return Tokens{}, apperr.Internal(fmt.Errorf("verifying password of user %s: %w", u.ID, err))
	}
	if !ok {
		return Tokens{}, s.loginFailed(ctx, key, u.ID, "wrong_password") // the attempt is already counted
	}
	if u.Status != StatusActive {
		// Same answer as a wrong password: a suspended account must not confirm its password.
		return Tokens{}, s.loginFailed(ctx, key, u.ID, "account_suspended")
	}
	if err := s.throttle.Succeeded(ctx, key, clientIP); err != nil {
		return Tokens{}, err
	}
	var out Tokens
	err = s.tx.InTx(ctx, func(ctx context.Context) (err error) {
		if out, err = s.issue(ctx, u, uuid.New()); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: audit.LoginSucceeded, ResourceType: audit.ResourceUser, ResourceID: u.ID,
			Actor: access.Principal{UserID: u.ID}, Changes: audit.Changes{"email": key}})
	})
	return out, err
}

// loginFailed records a refused sign-in (in a unit of its own: nothing else is written) and returns the
// answer, which is the same whatever the reason.
func (s *Service) loginFailed(ctx context.Context, email string, user uuid.UUID, reason string) error {
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		return s.audit.Record(ctx, audit.Event{Action: audit.LoginFailed, ResourceType: audit.ResourceUser, ResourceID: user,
			Changes: audit.Changes{"email": email, "reason": reason}})
	})
	if err != nil {
		return err
	}
	return errBadCredentials
}

// familyRevoked records the revocation of a refresh-token family.
func (s *Service) familyRevoked(ctx context.Context, actor access.Principal, user, family uuid.UUID, reason string) error {
	return s.audit.Record(ctx, audit.Event{Action: audit.TokenFamilyRevoked, ResourceType: audit.ResourceUser, ResourceID: user,
		Actor: actor, Changes: audit.Changes{"family_id": family.String(), "reason": reason}})
}

func (s *Service) issue(ctx context.Context, u User, family uuid.UUID) (Tokens, error) {
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return Tokens{}, apperr.Internal(err)
	}
	if err := s.store.CreateRefreshToken(ctx, u.ID, family, hash, s.now().Add(s.refreshTTL)); err != nil {
		return Tokens{}, err
	}
	access, err := s.tokens.Issue(u.ID, u.Role.Scopes())
	if err != nil {
		return Tokens{}, apperr.Internal(err)
	}
	return Tokens{AccessToken: access, RefreshToken: refresh, ExpiresIn: s.tokens.TTL()}, nil
}

// Refresh rotates a refresh token. Presenting a used token revokes its whole family.
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	var out Tokens
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		rt, err := s.store.LockRefreshToken(ctx, hashRefreshToken(token))
		if err != nil {
			return err
		}
		switch {
		case rt.Revoked || s.now().After(rt.ExpiresAt):
			return errBadRefresh
		case rt.Used || rt.UserDeleted:
			// Reuse of a rotated token (or a token of a deleted user): commit the revocation, then refuse.
			if err := s.store.RevokeRefreshFamily(ctx, rt.FamilyID); err != nil {
				return err
			}
			reason := "reuse"
			if rt.UserDeleted {
				reason = "account_deleted"
			}
			return s.familyRevoked(ctx, access.Principal{}, rt.UserID, rt.FamilyID, reason)
		}
		u, err := s.store.UserByID(ctx, rt.UserID)
		if err != nil {
			return err
		}
		if u.Status != StatusActive {
			if err := s.store.RevokeRefreshFamily(ctx, rt.FamilyID); err != nil {
				return err
			}
			return s.familyRevoked(ctx, access.Principal{}, rt.UserID, rt.FamilyID, "account_suspended")
		}
		if err := s.store.MarkRefreshTokenUsed(ctx, hashRefreshToken(token)); err != nil {
			return err
		}
		out, err = s.issue(ctx, u, rt.FamilyID)
		return err
	})
	if apperr.IsKind(err, apperr.KindNotFound) {
		return Tokens{}, errBadRefresh
	}
	if err != nil {
		return Tokens{}, err
	}
	if out.AccessToken == "" {
		return Tokens{}, errBadRefresh
	}
	return out, nil
}

// Logout revokes the token's family. Unknown tokens are ignored so the call is idempotent.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		rt, err := s.store.LockRefreshToken(ctx, hashRefreshToken(token))
		if apperr.IsKind(err, apperr.KindNotFound) {
			return nil
		}
		if err != nil || rt.Revoked {
			return err
		}
		if err := s.store.RevokeRefreshFamily(ctx, rt.FamilyID); err != nil {
			return err
		}
		return s.familyRevoked(ctx, access.Principal{UserID: rt.UserID}, rt.UserID, rt.FamilyID, "logout")
	})
}

// errAccountGone refuses a token whose account was deleted or suspended since it was issued.
var errAccountGone = apperr.New(apperr.KindUnauthenticated, "The account of this token is deleted or suspended.")

// Active checks, on every authenticated request, that the caller's account still exists and is active:
// a suspended or deleted account is refused at once, whatever its tokens' expiry. The read goes through
// the store's cache where there is one (coherent across instances), so it costs a lookup in memory.
func (s *Service) Active(ctx context.Context, userID uuid.UUID) error {
	u, err := s.store.UserByID(ctx, userID)
	switch {
	case apperr.IsNotFound(err, "user"):
		return errAccountGone
	case err != nil:
		return err
	case u.Status != StatusActive:
		return errAccountGone
	}
	return nil
}

// Me returns the caller's own account; a deleted account no longer authenticates.
func (s *Service) Me(ctx context.Context, p access.Principal) (User, error) {
	u, err := s.store.UserByID(ctx, p.UserID)
	if apperr.IsKind(err, apperr.KindNotFound) {
		return User{}, apperr.New(apperr.KindUnauthenticated, "The account of this token no longer exists.")
	}
	return u, err
}

// visible hides other users' accounts from non-admins behind a 404.
func visible(p access.Principal, id uuid.UUID) error {
	if p.UserID != id && !p.IsAdmin() {
		return apperr.NotFound("user")
	}
	return nil
}

// Get returns a user the caller may see.
func (s *Service) Get(ctx context.Context, p access.Principal, id uuid.UUID) (User, error) {
	if err := visible(p, id); err != nil {
		return User{}, err
	}
	return s.store.UserByID(ctx, id)
}

// List returns a page of users; admin only.
func (s *Service) List(ctx context.Context, p access.Principal, f UserFilter, req page.Request) (page.Page[User], error) {
	if !p.IsAdmin() {
		return page.Page[User]{}, apperr.NeedsScope(access.ScopeUsersAdmin)
	}
	req, err := req.Sorted("-created_at", "created_at", "email", "name")
	if err != nil {
		return page.Page[User]{}, err
	}
	return s.store.ListUsers(ctx, f, req)
}

// Changes are the fields a PUT or PATCH sets; nil leaves a field as it is.
type Changes struct {
	Email, Name, Password, CurrentPassword *string
	Role                                   *Role
	Status                                 *Status
}

// Update applies changes under a row lock, so concurrent partial updates never lose each other,
// and refuses the write when ifMatch names another version.
func (s *Service) Update(ctx context.Context, p access.Principal, id uuid.UUID, c Changes, ifMatch etag.Condition) (User, error) {
	if err := visible(p, id); err != nil {
		return User{}, err
	}
	if err := s.checkChanges(p, c); err != nil {
		return User{}, err
	}
	passwordChanged := false
	var out User
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		u, err := s.store.LockUser(ctx, id)
		if err == nil {
			err = ifMatch.CheckWrite(u.Version, "user")
		}
		if err != nil {
			return err
		}
		if c.Password != nil {
			if err := s.authorizePasswordChange(p, u, c.CurrentPassword); err != nil {
				return err
			}
			if u.PasswordHash, err = s.hasher.Hash(*c.Password); err != nil {
				return apperr.Internal(err)
			}
			passwordChanged = true
		}
		before := u
		apply(&u, c)
		if out, err = s.store.UpdateUser(ctx, u); err != nil {
			return emailTaken(err)
		}
		if passwordChanged {
			if err := s.store.RevokeUserRefreshTokens(ctx, id); err != nil {
				return err
			}
		}
		return s.recordUserChanges(ctx, p, before, out, passwordChanged)
	})
	return out, err
}

// recordUserChanges records the changes of a user the audit log follows: role, status and password.
func (s *Service) recordUserChanges(ctx context.Context, p access.Principal, before, after User, passwordChanged bool) error {
	var events []audit.Event
	if before.Role != after.Role {
		events = append(events, audit.Event{Action: audit.UserRoleChanged, Changes: audit.Changes{}.Diff("role", before.Role, after.Role)})
	}
	if before.Status != after.Status {
		events = append(events, audit.Event{Action: audit.UserStatusChanged, Changes: audit.Changes{}.Diff("status", before.Status, after.Status)})
	}
	if passwordChanged {
		events = append(events, audit.Event{Action: audit.UserPasswordChanged, Changes: audit.Changes{"refresh_tokens_revoked": true}})
	}
	for _, e := range events {
		e.ResourceType, e.ResourceID, e.Actor = audit.ResourceUser, after.ID, p
		if err := s.audit.Record(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) checkChanges(p access.Principal, c Changes) error {
	var details []*apperr.Detail
	if c.Email != nil {
		details = append(details, validateEmail("email", *c.Email))
	}
	if c.Name != nil {
		details = append(details, validateName("name", *c.Name))
	}
	if c.Password != nil {
		details = append(details, validatePassword("password", *c.Password))
	}
	if c.Role != nil && !c.Role.Valid() {
		details = append(details, &apperr.Detail{Field: "role", Message: "unknown role"})
	}
	if c.Status != nil && !c.Status.Valid() {
		details = append(details, &apperr.Detail{Field: "status", Message: "unknown status"})
	}
	if err := apperr.Collect(details...); err != nil {
		return err
	}
	if (c.Role != nil || c.Status != nil) && !p.IsAdmin() {
		return apperr.New(apperr.KindForbidden, "Changing role or status needs scope "+access.ScopeUsersAdmin+".")
	}
	return nil
}

// authorizePasswordChange: users prove the current password; admins may reset other users' passwords.
func (s *Service) authorizePasswordChange(p access.Principal, u User, current *string) error {
	if p.IsAdmin() && p.UserID != u.ID {
		return nil
	}
	if current == nil {
		return apperr.InvalidField("current_password", "is required to change the password")
	}
	ok, err := s.hasher.Verify(*current, u.PasswordHash)
	if err != nil {
		return apperr.Internal(err)
	}
	if !ok {
		return apperr.InvalidField("current_password", "is incorrect")
	}
	return nil
}

func apply(u *User, c Changes) {
	if c.Email != nil {
		u.Email = *c.Email
	}
	if c.Name != nil {
		u.Name = *c.Name
	}
	if c.Role != nil {
		u.Role = *c.Role
	}
	if c.Status != nil {
		u.Status = *c.Status
	}
}

// Delete soft-deletes a user and revokes their refresh tokens.
func (s *Service) Delete(ctx context.Context, p access.Principal, id uuid.UUID, ifMatch etag.Condition) error {
	if err := visible(p, id); err != nil {
		return err
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		u, err := s.store.LockUser(ctx, id)
		if err == nil {
			err = ifMatch.CheckWrite(u.Version, "user")
		}
		if err != nil {
			return err
		}
		if err := s.store.DeleteUser(ctx, id); err != nil {
			return err
		}
		if err := s.store.RevokeUserRefreshTokens(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Event{Action: audit.UserDeleted, ResourceType: audit.ResourceUser, ResourceID: id,
			Actor: p, Changes: audit.Changes{"email": u.Email}})
	})
}

// EnsureUser creates the account, or, when the email exists, sets its role and password; for the CLI and seed.
func (s *Service) EnsureUser(ctx context.Context, r Registration) (User, error) {
	existing, err := s.store.UserByEmail(ctx, normalizeEmail(r.Email))
	if apperr.IsKind(err, apperr.KindNotFound) {
		return s.Register(ctx, r)
	}
	if err != nil {
		return User{}, err
	}
	if err := apperr.Collect(validatePassword("password", r.Password)); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(r.Password)
	if err != nil {
		return User{}, apperr.Internal(err)
	}
	existing.PasswordHash = hash
	existing.Role = r.Role
	existing.Status = StatusActive
	u, err := s.store.UpdateUser(ctx, existing)
	return u, emailTaken(err)
}
