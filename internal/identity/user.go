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
		access.ScopeUsersAdmin, access.ScopeCatalogRead, access.ScopeCatalogWrite, access.ScopeOrdersManage, access.ScopeEventsRead,
		access.ScopeWebhooksManage},
}

// KnownScopes are every scope a role grants (the admin role grants them all).
func KnownScopes() []string { return RoleAdmin.Scopes() }

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

// Length bounds, in characters (bytes for emails), shared with the spec.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
	MaxNameLen     = 100
	MaxEmailLen    = 254
)

// bidiControl reports the characters that reorder text as it is displayed ("\u202eadmin" shows as
// "nimda"), so one identifier can pass for another.
func bidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// invisible reports characters that display as nothing, so two emails that look alike differ.
func invisible(r rune) bool {
	return (r >= 0x200B && r <= 0x200D) || (r >= 0x2060 && r <= 0x2064) || r == 0xFEFF || r == 0x00AD || r == 0x180E
}

func validateEmail(field, email string) *apperr.Detail {
	if len(email) < 3 || len(email) > MaxEmailLen {
		return &apperr.Detail{Field: field, Message: "must be 3 to 254 characters"}
	}
	if strings.IndexFunc(email, func(r rune) bool { return bidiControl(r) || invisible(r) }) >= 0 {
		return &apperr.Detail{Field: field, Message: "must not contain bidirectional controls or invisible characters"}
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || !strings.Contains(email, "@") {
		return &apperr.Detail{Field: field, Message: "must be an email address"}
	}
	return nil
}

func validateName(field, name string) *apperr.Detail {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > MaxNameLen || strings.TrimSpace(name) == "" {
		return &apperr.Detail{Field: field, Message: "must be 1 to 100 characters and not blank"}
	}
	if strings.IndexFunc(name, bidiControl) >= 0 {
		return &apperr.Detail{Field: field, Message: "must not contain bidirectional controls"}
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
