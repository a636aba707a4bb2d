// Package apperr is the service's small error vocabulary: every failure a caller should see is an
// *Error with a Kind (what class of failure, which decides the HTTP status) and a stable wire Code.
// Every wire code is declared here, once; the set equals the spec's ErrorBody.code enum (a test in
// internal/httpapi checks both ways).
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

// Code is a stable, machine-readable wire code.
type Code string

// The wire codes. A domain picks a specific one where a client must tell failures of one kind apart.
const (
	CodeValidation             Code = "VALIDATION_ERROR"
	CodeMalformedJSON          Code = "MALFORMED_JSON"
	CodeUnauthenticated        Code = "UNAUTHENTICATED"
	CodePaymentDeclined        Code = "PAYMENT_DECLINED"
	CodeForbidden              Code = "FORBIDDEN"
	CodeNotFound               Code = "NOT_FOUND"
	CodeMethodNotAllowed       Code = "METHOD_NOT_ALLOWED"
	CodeConflict               Code = "CONFLICT"
	CodeEmailTaken             Code = "EMAIL_TAKEN"
	CodeInvalidStateTransition Code = "INVALID_STATE_TRANSITION"
	CodeRequestInProgress      Code = "REQUEST_IN_PROGRESS"
	CodePreconditionFailed     Code = "PRECONDITION_FAILED"
	CodePayloadTooLarge        Code = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType   Code = "UNSUPPORTED_MEDIA_TYPE"
	CodeUnprocessable          Code = "UNPROCESSABLE"
	CodeInsufficientStock      Code = "INSUFFICIENT_STOCK"
	CodeOrderMinimumNotMet     Code = "ORDER_MINIMUM_NOT_MET"
	CodeOrderMaximumExceeded   Code = "ORDER_MAXIMUM_EXCEEDED"
	CodeIdempotencyKeyReused   Code = "IDEMPOTENCY_KEY_REUSED"
	CodeRateLimited            Code = "RATE_LIMITED"
	CodeInternal               Code = "INTERNAL"
	CodeUnavailable            Code = "UNAVAILABLE"
)

// Codes lists every wire code.
var Codes = []Code{
	CodeValidation, CodeMalformedJSON, CodeUnauthenticated, CodePaymentDeclined, CodeForbidden, CodeNotFound,
	CodeMethodNotAllowed, CodeConflict, CodeEmailTaken, CodeInvalidStateTransition, CodeRequestInProgress,
	CodePreconditionFailed, CodePayloadTooLarge, CodeUnsupportedMediaType, CodeUnprocessable,
	CodeInsufficientStock, CodeOrderMinimumNotMet, CodeOrderMaximumExceeded, CodeIdempotencyKeyReused, CodeRateLimited, CodeInternal,
	CodeUnavailable,
}

// defaultCodes is each kind's code when no more specific one applies.
var defaultCodes = map[Kind]Code{
	KindInternal:         CodeInternal,
	KindInvalid:          CodeValidation,
	KindUnauthenticated:  CodeUnauthenticated,
	KindForbidden:        CodeForbidden,
	KindNotFound:         CodeNotFound,
	KindConflict:         CodeConflict,
	KindPrecondition:     CodePreconditionFailed,
	KindUnprocessable:    CodeUnprocessable,
	KindRateLimited:      CodeRateLimited,
	KindUnavailable:      CodeUnavailable,
	KindPaymentRequired:  CodePaymentDeclined,
	KindMethodNotAllowed: CodeMethodNotAllowed,
	KindTooLarge:         CodePayloadTooLarge,
	KindUnsupportedMedia: CodeUnsupportedMediaType,
}

// Messages used in more than one place.
const (
	MsgInvalid  = "The request is invalid."
	MsgInternal = "An internal error occurred."
)

// Detail points at one offending field or parameter.
type Detail struct {
	Field   string
	Message string
}

// Error is a failure meant for the caller. Message is safe to show; Cause is for logs only.
type Error struct {
	Kind    Kind
	Code    Code
	Message string
	Details []Detail
	// Resource names what a KindNotFound error did not find ("product"), so a domain can tell a missing
	// reference from a missing target.
	Resource   string
	RetryAfter time.Duration
	// Transient marks a failure that running the same work again may not meet (see Concurrent).
	Transient bool
	Cause     error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// New makes an error of the kind with its default code.
func New(kind Kind, message string) *Error {
	return &Error{Kind: kind, Code: defaultCodes[kind], Message: message}
}

// Coded makes an error of the kind with a specific wire code.
func Coded(kind Kind, code Code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Invalid is a validation error with one detail per offending field.
func Invalid(details ...Detail) *Error {
	e := New(KindInvalid, MsgInvalid)
	e.Details = details
	return e
}

// InvalidField is a validation error about one field.
func InvalidField(field, message string) *Error {
	return Invalid(Detail{Field: field, Message: message})
}

// NotFound names the missing resource in a uniform way.
func NotFound(resource string) *Error {
	e := New(KindNotFound, "The "+resource+" does not exist.")
	e.Resource = resource
	return e
}

// Duplicate is a write that would give resource a second row with the same field value (a unique
// violation). Domains turn it into their own answer (EMAIL_TAKEN, say).
func Duplicate(resource, field string) *Error {
	e := New(KindConflict, "The "+resource+" conflicts with an existing one.")
	e.Resource = resource
	e.Details = []Detail{{Field: field, Message: "is already taken"}}
	return e
}

// IsDuplicate reports whether err is a Duplicate of resource on field.
func IsDuplicate(err error, resource, field string) bool {
	e, ok := As(err)
	return ok && e.Kind == KindConflict && e.Resource == resource && len(e.Details) == 1 && e.Details[0].Field == field
}

// Concurrent is a transaction that lost to a concurrent one (a serialization failure or a deadlock):
// running it again may succeed. The unit of work runs it again itself; one that still loses is
// answered 503 with Retry-After (every operation documents 503; not every one documents 409, and the
// caller did nothing wrong).
func Concurrent(cause error) *Error {
	e := New(KindUnavailable, "The request conflicted with concurrent ones and could not complete; retry it.")
	e.Cause, e.Transient, e.RetryAfter = cause, true, time.Second
	return e
}

// IsTransient reports whether err is a failure that running the same work again may not meet.
func IsTransient(err error) bool {
	e, ok := As(err)
	return ok && e.Transient
}

// IsNotFound reports whether err says that resource does not exist.
func IsNotFound(err error, resource string) bool {
	e, ok := As(err)
	return ok && e.Kind == KindNotFound && e.Resource == resource
}

// Stale is the 412 of a conditional write whose If-Match names a version the resource no longer has.
func Stale(resource string) *Error {
	return New(KindPrecondition, "The "+resource+" has changed since the ETag in If-Match; fetch it again.")
}

// InvalidTransition is the 409 of a state change the resource's current state does not allow.
func InvalidTransition(message string) *Error {
	return Coded(KindConflict, CodeInvalidStateTransition, message)
}

// NeedsScope is the 403 of a caller who lacks a scope.
func NeedsScope(scope string) *Error {
	return New(KindForbidden, "This operation needs scope "+scope+".")
}

// Internal wraps an unexpected failure; the cause is logged, never shown.
func Internal(cause error) *Error {
	e := New(KindInternal, MsgInternal)
	e.Cause = cause
	return e
}

// Unavailable is a dependency outage (the database cannot be reached, say): the request may succeed
// if retried after retryAfter.
func Unavailable(cause error, retryAfter time.Duration) *Error {
	e := New(KindUnavailable, "The service is temporarily unavailable; retry after the time in Retry-After.")
	e.Cause, e.RetryAfter = cause, retryAfter
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
	return Invalid(out...)
}
