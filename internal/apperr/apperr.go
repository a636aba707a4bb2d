// Package apperr is the service's small error vocabulary: every failure a caller should see is an
// *Error with a Kind (what class of failure, which decides the HTTP status) and a stable wire Code.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error; the HTTP layer owns the one table that maps kinds to statuses.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalid
	KindUnauthenticated
	KindForbidden
	KindNotFound
	KindConflict
	KindPrecondition
	KindUnprocessable
	KindRateLimited
	KindUnavailable
	KindPaymentRequired
	KindMethodNotAllowed
	KindTooLarge
	KindUnsupportedMedia
)

// Default wire codes per kind; a domain may pick a more specific code (EMAIL_TAKEN, ...).
var defaultCodes = map[Kind]string{
	KindInternal:         "INTERNAL",
	KindInvalid:          "VALIDATION_ERROR",
	KindUnauthenticated:  "UNAUTHENTICATED",
	KindForbidden:        "FORBIDDEN",
	KindNotFound:         "NOT_FOUND",
	KindConflict:         "CONFLICT",
	KindPrecondition:     "PRECONDITION_FAILED",
	KindUnprocessable:    "UNPROCESSABLE",
	KindRateLimited:      "RATE_LIMITED",
	KindUnavailable:      "UNAVAILABLE",
	KindPaymentRequired:  "PAYMENT_DECLINED",
	KindMethodNotAllowed: "METHOD_NOT_ALLOWED",
	KindTooLarge:         "PAYLOAD_TOO_LARGE",
	KindUnsupportedMedia: "UNSUPPORTED_MEDIA_TYPE",
}

// Detail points at one offending field or parameter.
type Detail struct {
	Field   string
	Message string
}

// Error is a failure meant for the caller. Message is safe to show; Cause is for logs only.
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	Details    []Detail
	RetryAfter time.Duration
	Cause      error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// New makes an error of the kind with its default code.
func New(kind Kind, message string) *Error {
	return &Error{Kind: kind, Code: defaultCodes[kind], Message: message}
}

// Coded makes an error of the kind with a specific wire code.
func Coded(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Invalid is a validation error with per-field details.
func Invalid(message string, details ...Detail) *Error {
	e := New(KindInvalid, message)
	e.Details = details
	return e
}

// NotFound names the missing resource in a uniform way.
func NotFound(resource string) *Error {
	return New(KindNotFound, "The "+resource+" does not exist.")
}

// Internal wraps an unexpected failure; the cause is logged, never shown.
func Internal(cause error) *Error {
	e := New(KindInternal, "An internal error occurred.")
	e.Cause = cause
	return e
}

// As finds the *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsKind reports whether err carries an *Error of the kind.
func IsKind(err error, kind Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == kind
}

// Collect turns the non-nil details into one validation error, or nil when there are none.
func Collect(details ...*Detail) error {
	var out []Detail
	for _, d := range details {
		if d != nil {
			out = append(out, *d)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return Invalid("The request is invalid.", out...)
}
