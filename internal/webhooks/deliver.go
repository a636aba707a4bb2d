package webhooks

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/events"
)

var _ events.Subscriber = (*Service)(nil)

// Subscribed fans an event out, in its unit of work: a delivery per enabled endpoint subscribed to its
// type, and a queued first attempt for each. The deliveries commit with the event or not at all.
func (s *Service) Subscribed(ctx context.Context, e events.Event) error {
	ids, err := s.store.CreateDeliveries(ctx, e)
	if err != nil || len(ids) == 0 {
		return err
	}
	return s.queue.Enqueue(ctx, ids)
}

// ClaimTTL is how long an attempt holds its delivery: the sender's timeout and the bookkeeping, with
// room to spare. A worker that dies mid-attempt holds it no longer than this.
const ClaimTTL = time.Minute

// Deliver is what a job does when it wakes: make the delivery's attempt if one is due, and say how long
// until the job should look again (0: never, the delivery is done). Jobs are only wake-ups and there may
// be several for one delivery (a manual retry adds one); the claim lets one attempt run at a time. An
// error means the attempt could not be recorded; the queue retries the job (delivery is at least once:
// the receiver may then see the same webhook-id twice).
func (s *Service) Deliver(ctx context.Context, deliveryID uuid.UUID) (time.Duration, error) {
	t, err := s.store.Task(ctx, deliveryID)
	if apperr.IsNotFound(err, "delivery") {
		return 0, nil // pruned with its event
	}
	if err != nil {
		return 0, err
	}
	if t.Delivery.Status != DeliveryPending {
		return 0, nil
	}
	now := s.cfg.Now()
	if next := t.Delivery.NextAttemptAt; next != nil && next.After(now) {
		return next.Sub(now), nil
	}
	switch {
	case t.EndpointDeleted:
		return 0, s.store.CloseDelivery(ctx, deliveryID, "the endpoint was deleted")
	case !t.Endpoint.Enabled:
		return 0, s.store.CloseDelivery(ctx, deliveryID, "the endpoint is disabled")
	}
	attempts, claimed, err := s.store.ClaimDelivery(ctx, deliveryID, now, now.Add(ClaimTTL))
	if err != nil {
		return 0, err
	}
	if !claimed { // an attempt under way holds it: look again when its claim runs out
		wait := time.Second
		if t.ClaimedUntil != nil && t.ClaimedUntil.After(now) {
			wait = t.ClaimedUntil.Sub(now)
		}
		return wait, nil
	}
	body, err := Body(t.Event)
	if err != nil {
		return 0, apperr.Internal(err)
	}
	id := t.Event.ID.String()
	attempt := attempts + 1
	resp := s.sender.Send(ctx, Request{URL: t.Endpoint.URL, Body: body, TraceParent: t.Event.TraceParent,
		EventType: t.Event.Type, Attempt: attempt, Header: map[string]string{
			HeaderID:        id,
			HeaderTimestamp: strconv.FormatInt(now.Unix(), 10),
			HeaderSignature: Sign(t.Endpoint.signingKeys(now), id, now, body),
		}})
	return s.record(ctx, t, attempt, now, resp)
}

// record stores the attempt, schedules the next one or closes the delivery, and keeps the endpoint's
// health: a success clears its failing streak; a 410, or five days of nothing but failures, disables it.
func (s *Service) record(ctx context.Context, t Task, n int, at time.Time, resp Response) (time.Duration, error) {
	a := Attempt{Number: n, Outcome: resp.outcome(), Duration: resp.Duration, Error: attemptError(resp), At: at}
	if resp.StatusCode > 0 {
		a.StatusCode = &resp.StatusCode
	}
	status, wait := DeliveryFailed, time.Duration(0)
	var next *time.Time
	switch a.Outcome {
	case OutcomeSucceeded:
		status = DeliverySucceeded
	case OutcomeFailed:
		retryAfter := time.Duration(0)
		if honoursRetryAfter(resp.StatusCode) {
			retryAfter = resp.RetryAfter
		}
		if d, ok := s.cfg.Schedule.next(n, retryAfter); ok {
			status, wait = DeliveryPending, max(d, time.Millisecond) // 0 would read as "none due"
			due := s.cfg.Now().Add(d)
			next = &due
		}
	}
	endpoint := t.Endpoint
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.RecordAttempt(ctx, t.Delivery.ID, a, status, next); err != nil {
			return err
		}
		switch {
		case a.Outcome == OutcomeSucceeded && endpoint.FailingSince != nil:
			return s.store.SetFailing(ctx, endpoint.ID, nil)
		case a.Outcome == OutcomeGone:
			return s.disable(ctx, endpoint.ID, DisabledGone)
		case a.Outcome == OutcomeFailed && endpoint.FailingSince == nil:
			return s.store.SetFailing(ctx, endpoint.ID, &at)
		case a.Outcome == OutcomeFailed && at.Sub(*endpoint.FailingSince) >= s.cfg.DisableAfter:
			return s.disable(ctx, endpoint.ID, DisabledFailing)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if s.observe != nil {
		s.observe(a.Outcome, status, resp.Duration)
	}
	return wait, nil
}

// disable turns an endpoint off for reason and publishes webhook_endpoint.disabled, once.
func (s *Service) disable(ctx context.Context, id uuid.UUID, reason string) error {
	e, err := s.store.LockEndpoint(ctx, id)
	if apperr.IsNotFound(err, "webhook endpoint") {
		return nil // deleted meanwhile
	}
	if err != nil || !e.Enabled {
		return err
	}
	e.Enabled, e.DisabledReason = false, &reason
	if e, err = s.store.UpdateEndpoint(ctx, e); err != nil {
		return err
	}
	return s.publisher.Publish(ctx, events.Change{Type: events.WebhookEndpointDisabled, ResourceID: e.ID, Resource: e})
}

const maxErrorLen = 500

// attemptError says why an attempt failed, briefly.
func attemptError(r Response) *string {
	var msg string
	switch {
	case r.Err != nil:
		msg = r.Err.Error()
	case r.StatusCode >= 300 && r.StatusCode < 400:
		msg = fmt.Sprintf("the receiver answered %d; redirects are not followed", r.StatusCode)
	case r.StatusCode < 200 || r.StatusCode >= 300:
		msg = fmt.Sprintf("the receiver answered %d", r.StatusCode)
	default:
		return nil
	}
	if len(msg) > maxErrorLen {
		cut := maxErrorLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	return &msg
}
