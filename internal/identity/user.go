// Package identity owns users, roles and scopes, passwords, and the access/refresh token model.
package identity

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
)

// Role is what a user is; it decides the scopes their tokens carry.
type Role string

const (
	RoleCustomer Role = "customer"
	RoleEditor   Role = "editor"
	RoleAdmin    Role = "admin"
)

// Status of an account; suspended accounts cannot sign in.
type Status string

const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
)

var roleScopes = map[Role][]string{
	RoleCustomer: {access.ScopeOrdersWrite, access.ScopePostsWrite, access.ScopeCommentsWrite},
	RoleEditor:   {access.ScopeOrdersWrite, access.ScopePostsWrite, access.ScopeCommentsWrite, access.ScopePostsPublish, access.ScopePostsModerate},
	RoleAdmin: {access.ScopeOrdersWrite, access.ScopePostsWrite, access.ScopeCommentsWrite, access.ScopePostsPublish, access.ScopePostsModerate,
		access.ScopeUsersAdmin, access.ScopeCatalogWrite, access.ScopeOrdersManage, access.ScopeEventsRead, access.ScopeWebhooksManage},
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := roleScopes[r]; return ok }

// Scopes returns a copy of the role's scopes.
func (r Role) Scopes() []string { return append([]string(nil), roleScopes[r]...) }

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == StatusActive || s == StatusSuspended }

// User is an account that is not deleted.
type User struct {
	ID           uuid.UUID
	Email        string
	Name         string
	Role         Role
	Status       Status
	PasswordHash string
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Password length bounds, in characters.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

func validateEmail(field, email string) *apperr.Detail {
	if len(email) < 3 || len(email) > 254 {
		return &apperr.Detail{Field: field, Message: "must be 3 to 254 characters"}
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || !strings.Contains(email, "@") {
		return &apperr.Detail{Field: field, Message: "must be an email address"}
	}
	return nil
}

func validateName(field, name string) *apperr.Detail {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > 100 || strings.TrimSpace(name) == "" {
		return &apperr.Detail{Field: field, Message: "must be 1 to 100 characters and not blank"}
	}
	return nil
}

func validatePassword(field, password string) *apperr.Detail {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLen || n > MaxPasswordLen {
		return &apperr.Detail{Field: field, Message: "must be 8 to 128 characters"}
	}
	return nil
}

// emailTaken answers a write that would give a second live account the same email.
func emailTaken(err error) error {
	if apperr.IsDuplicate(err, "user", "email") {
		e := apperr.Coded(apperr.KindConflict, apperr.CodeEmailTaken, "The email is already registered.")
		e.Details = []apperr.Detail{{Field: "email", Message: "is already registered"}}
		e.Cause = err
		return e
	}
	return err
}

// normalizeEmail is the form emails are compared in.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Has reports whether the role grants the scope.
func (r Role) Has(scope string) bool {
	for _, s := range roleScopes[r] {
		if s == scope {
			return true
		}
	}
	return false
}
