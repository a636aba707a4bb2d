// Package webhooks delivers events to partners' endpoints, signed per Standard Webhooks v1: the
// endpoints and their secrets, the fan-out of each event to the endpoints subscribed to its type (in
// the event's unit of work), the retry schedule, and the receiver policy that keeps deliveries off
// private networks. A job queue runs the attempts; an HTTP sender makes them.
package webhooks

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/events"
)

// Why an endpoint was disabled by the service (nil when its owner disabled it, or it is enabled).
const (
	DisabledGone    = "gone"    // the receiver answered 410 Gone
	DisabledFailing = "failing" // every attempt failed for DisableAfter
)

// Endpoint is a receiver of events.
type Endpoint struct {
	ID             uuid.UUID
	URL            string
	Description    *string
	EventTypes     []events.Type
	Enabled        bool
	DisabledReason *string
	// Secret signs every delivery; during a rotation PreviousSecret signs too, until it expires.
	Secret                  []byte
	PreviousSecret          []byte
	PreviousSecretExpiresAt *time.Time
	FailingSince            *time.Time
	Version                 int64
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

// signingKeys are the keys that sign a delivery at t: the secret, and the previous one while its
// overlap lasts.
func (e Endpoint) signingKeys(t time.Time) [][]byte {
	keys := [][]byte{e.Secret}
	if e.PreviousSecret != nil && e.PreviousSecretExpiresAt != nil && t.Before(*e.PreviousSecretExpiresAt) {
		keys = append(keys, e.PreviousSecret)
	}
	return keys
}

// subscribes reports whether the endpoint takes events of type t.
func (e Endpoint) subscribes(t events.Type) bool { return slices.Contains(e.EventTypes, t) }

// Fields are what a new endpoint is made of.
type Fields struct {
	URL         string
	Description *string
	EventTypes  []events.Type
	Enabled     bool
}

// Patch is a partial change; nil fields stay as they are.
type Patch struct {
	URL         *string
	Description *string
	EventTypes  *[]events.Type
	Enabled     *bool
}

// Bounds, equal to the spec's.
const MaxDescription = 500

func validate(f Fields) error {
	var d []apperr.Detail
	if f.Description != nil && utf8.RuneCountInString(*f.Description) > MaxDescription {
		d = append(d, apperr.Detail{Field: "description", Message: "must be at most 500 characters"})
	}
	if len(f.EventTypes) < 1 || len(f.EventTypes) > len(events.Types) {
		d = append(d, apperr.Detail{Field: "event_types", Message: "must name 1 to " + strconv.Itoa(len(events.Types)) + " event types"})
	}
	seen := map[events.Type]bool{}
	for i, t := range f.EventTypes {
		field := "event_types[" + strconv.Itoa(i) + "]"
		switch {
		case !t.Valid():
			d = append(d, apperr.Detail{Field: field, Message: "is not an event type"})
		case seen[t]:
			d = append(d, apperr.Detail{Field: field, Message: "is listed twice"})
		}
		seen[t] = true
	}
	if len(d) > 0 {
		return apperr.Invalid(d...)
	}
	return nil
}

// refusedURL is the 422 of a URL the receiver policy refuses.
func refusedURL(err error) error {
	msg := err.Error()
	e := apperr.New(apperr.KindUnprocessable, "The endpoint URL is not allowed: "+msg+".")
	e.Details = []apperr.Detail{{Field: "url", Message: strings.TrimSuffix(msg, ".")}}
	e.Cause = err
	return e
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool {
	return s == DeliveryPending || s == DeliverySucceeded || s == DeliveryFailed
}

// Outcome is what one attempt came to.
type Outcome string

const (
	OutcomeSucceeded Outcome = "succeeded" // 2xx
	OutcomeFailed    Outcome = "failed"    // anything else: another status, a timeout, a refused connection
	OutcomeGone      Outcome = "gone"      // 410: the endpoint is disabled
)

// Attempt is one try of a delivery.
type Attempt struct {
	Number     int
	Outcome    Outcome
	StatusCode *int
	Duration   time.Duration
	Error      *string
	At         time.Time
}

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID             uuid.UUID
	EndpointID     uuid.UUID
	EventID        uuid.UUID
	EventType      events.Type
	Status         DeliveryStatus
	Attempts       int
	NextAttemptAt  *time.Time
	LastAttemptAt  *time.Time
	LastStatusCode *int
	LastDuration   *time.Duration
	LastError      *string
	// History is the latest attempts, newest first (at most MaxHistory).
	History   []Attempt
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MaxHistory bounds the attempts listed with a delivery.
const MaxHistory = 50

// DeliveryFilter narrows a delivery list.
type DeliveryFilter struct {
	EndpointID uuid.UUID
	Status     DeliveryStatus
}
