package webhooks

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/uow"
)

// Task is what one attempt needs: the delivery, its endpoint and its event.
type Task struct {
	Delivery        Delivery
	ClaimedUntil    *time.Time // an attempt under way holds the delivery until then
	Endpoint        Endpoint
	EndpointDeleted bool
	Event           events.Event
}

// Store keeps endpoints and deliveries.
type Store interface {
	CreateEndpoint(ctx context.Context, e Endpoint) (Endpoint, error)
	Endpoint(ctx context.Context, id uuid.UUID) (Endpoint, error)
	LockEndpoint(ctx context.Context, id uuid.UUID) (Endpoint, error)
	// UpdateEndpoint writes every field of e and bumps its version.
	UpdateEndpoint(ctx context.Context, e Endpoint) (Endpoint, error)
	DeleteEndpoint(ctx context.Context, id uuid.UUID) error
	ListEndpoints(ctx context.Context, req page.Request) (page.Page[Endpoint], error)
	// SetFailing sets the endpoint's failing_since to since when it has none, or clears it (since nil).
	SetFailing(ctx context.Context, endpointID uuid.UUID, since *time.Time) error

	// CreateDeliveries adds a pending delivery of e to every enabled endpoint subscribed to its type and
	// returns their ids.
	CreateDeliveries(ctx context.Context, e events.Event) ([]uuid.UUID, error)
	Task(ctx context.Context, deliveryID uuid.UUID) (Task, error)
	// ClaimDelivery takes a pending delivery due at now for one attempt, until until, unless an attempt
	// under way holds it; it returns the attempts made so far.
	ClaimDelivery(ctx context.Context, deliveryID uuid.UUID, now, until time.Time) (attempts int, claimed bool, err error)
	// LockDelivery reads one of the endpoint's deliveries under a row lock.
	LockDelivery(ctx context.Context, endpointID, deliveryID uuid.UUID) (Delivery, error)
	// RecordAttempt stores an attempt and where it leaves the delivery, and releases the claim.
	RecordAttempt(ctx context.Context, deliveryID uuid.UUID, a Attempt, status DeliveryStatus, next *time.Time) error
	// CloseDelivery fails a delivery without an attempt (its endpoint is gone or disabled).
	CloseDelivery(ctx context.Context, deliveryID uuid.UUID, reason string) error
	// Requeue makes a delivery pending with its next attempt at at.
	Requeue(ctx context.Context, endpointID, deliveryID uuid.UUID, at time.Time) (Delivery, error)
	ListDeliveries(ctx context.Context, f DeliveryFilter, req page.Request) (page.Page[Delivery], error)
}

// Queue wakes workers: durable jobs, enqueued in the caller's unit of work, that call Deliver until the
// delivery is done. A job is only a wake-up; the delivery row decides whether an attempt is due.
type Queue interface {
	// Enqueue queues a job per delivery, due now.
	Enqueue(ctx context.Context, deliveryIDs []uuid.UUID) error
}

// Request is one attempt as the sender makes it.
type Request struct {
	URL         string
	Header      map[string]string
	Body        []byte
	TraceParent string // of the request that caused the event, to link the attempt's span to it
	EventType   events.Type
	Attempt     int
}

// Sender makes attempts: POST the body with the headers, within the attempt timeout, connecting only
// where the Policy allows, following no redirect.
type Sender interface {
	Send(ctx context.Context, r Request) Response
}

// Config tunes the service; zero values take the defaults.
type Config struct {
	Policy   Policy
	Resolver Resolver // required: how endpoint hosts are looked up when they are created or changed
	Schedule Schedule // nil: DefaultSchedule
	// RotationOverlap is how long a rotated secret keeps signing (default 24 hours).
	RotationOverlap time.Duration
	// DisableAfter disables an endpoint whose every attempt failed for this long (default 5 days).
	DisableAfter time.Duration
	Now          func() time.Time
}

// Defaults.
const (
	DefaultRotationOverlap = 24 * time.Hour
	DefaultDisableAfter    = 5 * 24 * time.Hour
)

// Service holds the webhook rules.
type Service struct {
	store     Store
	tx        uow.Runner
	queue     Queue
	sender    Sender
	publisher events.Publisher
	cfg       Config
	observe   func(o Outcome, final DeliveryStatus, d time.Duration)
}

// NewService wires the rules to storage, the unit of work, the queue and the sender; endpoints that
// the service disables are published through publisher.
func NewService(store Store, tx uow.Runner, queue Queue, sender Sender, publisher events.Publisher, cfg Config) *Service {
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.RotationOverlap <= 0 {
		cfg.RotationOverlap = DefaultRotationOverlap
	}
	if cfg.DisableAfter <= 0 {
		cfg.DisableAfter = DefaultDisableAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: store, tx: tx, queue: queue, sender: sender, publisher: publisher, cfg: cfg}
}

// ObserveAttempts calls fn after every recorded attempt with its outcome, where it left the delivery and
// how long the receiver took (for metrics).
func (s *Service) ObserveAttempts(fn func(o Outcome, final DeliveryStatus, d time.Duration)) {
	s.observe = fn
}

// Schedule is the retry schedule in force.
func (s *Service) Schedule() Schedule { return s.cfg.Schedule }

func requireManager(p access.Principal) error {
	if !p.Has(access.ScopeWebhooksManage) {
		return apperr.NeedsScope(access.ScopeWebhooksManage)
	}
	return nil
}

// CreateEndpoint adds an endpoint with a new signing secret (in the result; shown to its owner once).
func (s *Service) CreateEndpoint(ctx context.Context, p access.Principal, f Fields) (Endpoint, error) {
	if err := requireManager(p); err != nil {
		return Endpoint{}, err
	}
	if err := validate(f); err != nil {
		return Endpoint{}, err
	}
	if err := s.cfg.Policy.CheckURL(ctx, s.cfg.Resolver, f.URL); err != nil {
		return Endpoint{}, refusedURL(err)
	}
	key, err := NewSecret()
	if err != nil {
		return Endpoint{}, apperr.Internal(err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Endpoint{}, apperr.Internal(err)
	}
	return s.store.CreateEndpoint(ctx, Endpoint{ID: id, URL: f.URL, Description: f.Description, EventTypes: f.EventTypes,
		Enabled: f.Enabled, Secret: key})
}

// Endpoint returns one endpoint.
func (s *Service) Endpoint(ctx context.Context, p access.Principal, id uuid.UUID) (Endpoint, error) {
	if err := requireManager(p); err != nil {
		return Endpoint{}, err
	}
	return s.store.Endpoint(ctx, id)
}

// ListEndpoints returns a page of endpoints, newest first unless asked otherwise.
func (s *Service) ListEndpoints(ctx context.Context, p access.Principal, req page.Request) (page.Page[Endpoint], error) {
	if err := requireManager(p); err != nil {
		return page.Page[Endpoint]{}, err
	}
	req, err := req.Sorted("-created_at", "created_at")
	if err != nil {
		return page.Page[Endpoint]{}, err
	}
	return s.store.ListEndpoints(ctx, req)
}

// UpdateEndpoint applies a partial change under a row lock. Enabling an endpoint the service disabled
// clears why, and starts its five days of grace again.
func (s *Service) UpdateEndpoint(ctx context.Context, p access.Principal, id uuid.UUID, c Patch, ifMatch etag.Condition) (Endpoint, error) {
	if err := requireManager(p); err != nil {
		return Endpoint{}, err
	}
	if c.URL != nil { // resolve before taking the row lock
		if err := s.cfg.Policy.CheckURL(ctx, s.cfg.Resolver, *c.URL); err != nil {
			return Endpoint{}, refusedURL(err)
		}
	}
	var out Endpoint
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		e, err := s.lockEndpoint(ctx, id, ifMatch)
		if err != nil {
			return err
		}
		if c.URL != nil {
			e.URL = *c.URL
		}
		if c.Description != nil {
			e.Description = c.Description
		}
		if c.EventTypes != nil {
			e.EventTypes = *c.EventTypes
		}
		if c.Enabled != nil && *c.Enabled != e.Enabled {
			e.Enabled, e.DisabledReason, e.FailingSince = *c.Enabled, nil, nil
		}
		if err := validate(Fields{URL: e.URL, Description: e.Description, EventTypes: e.EventTypes}); err != nil {
			return err
		}
		out, err = s.store.UpdateEndpoint(ctx, e)
		return err
	})
	return out, err
}

func (s *Service) lockEndpoint(ctx context.Context, id uuid.UUID, ifMatch etag.Condition) (Endpoint, error) {
	e, err := s.store.LockEndpoint(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	return e, ifMatch.CheckWrite(e.Version, "webhook endpoint")
}

// DeleteEndpoint deletes an endpoint; its pending deliveries fail without another attempt.
func (s *Service) DeleteEndpoint(ctx context.Context, p access.Principal, id uuid.UUID, ifMatch etag.Condition) error {
	if err := requireManager(p); err != nil {
		return err
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.lockEndpoint(ctx, id, ifMatch); err != nil {
			return err
		}
		return s.store.DeleteEndpoint(ctx, id)
	})
}

// RotateSecret gives the endpoint a new signing secret (in the result; shown once). The previous one
// keeps signing alongside it for the overlap window, so the receiver can switch without losing a
// delivery; rotating again within the window retires the oldest key at once.
func (s *Service) RotateSecret(ctx context.Context, p access.Principal, id uuid.UUID) (Endpoint, error) {
	if err := requireManager(p); err != nil {
		return Endpoint{}, err
	}
	key, err := NewSecret()
	if err != nil {
		return Endpoint{}, apperr.Internal(err)
	}
	var out Endpoint
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		e, err := s.store.LockEndpoint(ctx, id)
		if err != nil {
			return err
		}
		until := s.cfg.Now().Add(s.cfg.RotationOverlap).UTC()
		e.PreviousSecret, e.PreviousSecretExpiresAt, e.Secret = e.Secret, &until, key
		out, err = s.store.UpdateEndpoint(ctx, e)
		return err
	})
	return out, err
}

// Deliveries lists an endpoint's deliveries with their latest attempts, newest first unless asked otherwise.
func (s *Service) Deliveries(ctx context.Context, p access.Principal, endpointID uuid.UUID, status DeliveryStatus, req page.Request) (page.Page[Delivery], error) {
	if err := requireManager(p); err != nil {
		return page.Page[Delivery]{}, err
	}
	if status != "" && !status.Valid() {
		return page.Page[Delivery]{}, apperr.InvalidField("status", "must be pending, succeeded or failed")
	}
	req, err := req.Sorted("-created_at", "created_at")
	if err != nil {
		return page.Page[Delivery]{}, err
	}
	if _, err := s.store.Endpoint(ctx, endpointID); err != nil {
		return page.Page[Delivery]{}, err
	}
	return s.store.ListDeliveries(ctx, DeliveryFilter{EndpointID: endpointID, Status: status}, req)
}

var errEndpointDisabled = apperr.New(apperr.KindConflict, "The webhook endpoint is disabled; enable it before retrying its deliveries.")

// RetryDelivery makes the delivery's next attempt happen now, whatever its status (a succeeded one is
// sent again). It is idempotent: while an attempt is due or under way, asking again changes nothing. A
// failed delivery retried gets one attempt; a pending one goes on with its schedule if that fails.
func (s *Service) RetryDelivery(ctx context.Context, p access.Principal, endpointID, deliveryID uuid.UUID) (Delivery, error) {
	if err := requireManager(p); err != nil {
		return Delivery{}, err
	}
	var out Delivery
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		e, err := s.store.Endpoint(ctx, endpointID)
		if err != nil {
			return err
		}
		d, err := s.store.LockDelivery(ctx, endpointID, deliveryID)
		if err != nil {
			return err
		}
		if !e.Enabled {
			return errEndpointDisabled
		}
		if d.Status == DeliveryPending && d.NextAttemptAt != nil && !d.NextAttemptAt.After(s.cfg.Now()) {
			out = d // due already, or being attempted
			return nil
		}
		if out, err = s.store.Requeue(ctx, endpointID, deliveryID, s.cfg.Now()); err != nil {
			return err
		}
		return s.queue.Enqueue(ctx, []uuid.UUID{deliveryID})
	})
	return out, err
}
