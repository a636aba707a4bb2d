package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/testenv"
	"github.com/storefront/storefront/internal/webhooks"
)

// fastSchedule keeps retries within a test's patience.
var fastSchedule = webhooks.Schedule{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}

const deliveryWait = 20 * time.Second

type hookFixture struct {
	orderFixture
}

// newHookFixture runs the service with webhook workers, loopback receivers allowed and a fast retry
// schedule (unless opts say otherwise).
func newHookFixture(t *testing.T, opts app.Options, extraEnv ...string) hookFixture {
	t.Helper()
	opts.RunWorkers = true
	if opts.Webhooks.Schedule == nil {
		opts.Webhooks.Schedule = fastSchedule
	}
	env := testenv.StartWith(t, opts, append([]string{"WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true"}, extraEnv...)...)
	_, admin := env.Admin("hooks-admin@example.com")
	_, customer := env.Customer("hooks-buyer@example.com")
	return hookFixture{orderFixture{catalogFixture{env, admin}, customer}}
}

// subscribe creates an endpoint for url and returns it with its secret.
func (f hookFixture) subscribe(t *testing.T, url string, types ...apiclient.EventType) apiclient.WebhookEndpoint {
	t.Helper()
	resp, err := f.env.Client.CreateWebhookEndpointWithResponse(context.Background(),
		apiclient.WebhookEndpointCreate{Url: url, EventTypes: types}, testenv.Bearer(f.admin))
	wantStatus(t, resp, resp.Body, err, http.StatusCreated)
	if resp.JSON201.Data.Secret == nil {
		t.Fatal("created endpoint has no secret")
	}
	return resp.JSON201.Data
}

func (f hookFixture) deliveries(t *testing.T, endpoint uuid.UUID) []apiclient.WebhookDelivery {
	t.Helper()
	resp, err := f.env.Client.ListWebhookDeliveriesWithResponse(context.Background(), endpoint, nil, testenv.Bearer(f.admin))
	wantStatus(t, resp, resp.Body, err, http.StatusOK)
	return resp.JSON200.Data
}

// waitDelivery waits until the endpoint's delivery of eventType is no longer pending.
func (f hookFixture) waitDelivery(t *testing.T, endpoint uuid.UUID, eventType apiclient.EventType) apiclient.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(deliveryWait)
	for time.Now().Before(deadline) {
		for _, d := range f.deliveries(t, endpoint) {
			if d.EventType == eventType && d.Status != apiclient.DeliveryPending {
				return d
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no finished %s delivery to %s within %s", eventType, endpoint, deliveryWait)
	return apiclient.WebhookDelivery{}
}

// waitSucceeded waits until n of the endpoint's deliveries succeeded.
func (f hookFixture) waitSucceeded(t *testing.T, endpoint uuid.UUID, n int) []apiclient.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(deliveryWait)
	for {
		list := f.deliveries(t, endpoint)
		done := 0
		for _, d := range list {
			if d.Status == apiclient.DeliverySucceeded {
				done++
			}
		}
		if done >= n {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries succeeded within %s", done, n, deliveryWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signedBy verifies a delivery the way a receiver would, with this test's own HMAC code (not the
// service's): some v1 entry of webhook-signature must be base64(HMAC-SHA256(key, id.timestamp.body)),
// key being the base64-decoded secret after "whsec_".
func signedBy(t *testing.T, secret string, h testenv.Hook) bool {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) < 24 {
		t.Fatalf("secret %q is not whsec_ and base64 of at least 24 bytes", secret)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.ID + "." + h.Timestamp + "."))
	mac.Write(h.Body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Signature) {
		version, b64, ok := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && version == "v1" && err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func fresh(t *testing.T, h testenv.Hook) {
	t.Helper()
	ts, err := strconv.ParseInt(h.Timestamp, 10, 64)
	if err != nil {
		t.Fatalf("webhook-timestamp %q", h.Timestamp)
	}
	if d := time.Since(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		t.Fatalf("webhook-timestamp %s is %s off", h.Timestamp, d)
	}
}

type hookBody struct {
	Type          string          `json:"type"`
	Timestamp     time.Time       `json:"timestamp"`
	Data          json.RawMessage `json:"data"`
	ChangedFields []string        `json:"changed_fields"`
}

func bodyOf(t *testing.T, h testenv.Hook) hookBody {
	t.Helper()
	var b hookBody
	if err := json.Unmarshal(h.Body, &b); err != nil {
		t.Fatalf("webhook body %s: %v", h.Body, err)
	}
	if err := testenv.CheckWebhook(b.Type, h); err != nil {
		t.Fatalf("webhook %s does not match the spec: %v\n%s", b.Type, err, h.Body)
	}
	return b
}

// sameJSON compares two JSON documents by value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func dataOf(t *testing.T, body []byte) json.RawMessage {
	t.Helper()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	return env.Data
}

// Placing and paying an order delivers order.created and order.paid to the endpoint subscribed to them,
// signed (checked with the test's own HMAC), fresh, shaped as the spec's webhooks section says, with
// data equal to what GET served at that moment; a type it did not subscribe to is not delivered.
func TestWebhookDeliveryEndToEnd(t *testing.T) {
	f := newHookFixture(t, app.Options{})
	ctx := context.Background()
	rcv := testenv.NewReceiver(t, nil)
	ep := f.subscribe(t, rcv.URL+"/hooks", apiclient.EventOrderCreated, apiclient.EventOrderPaid)
	// A second receiver hears of shipments, so the test knows when order.shipped was delivered anywhere.
	witness := testenv.NewReceiver(t, nil)
	f.subscribe(t, witness.URL, apiclient.EventOrderShipped)

	tea := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 10})
	placed := f.place(t, f.customer, apiclient.OrderItemCreate{ProductId: tea.Id, Quantity: 2})
	wantStatus(t, placed, placed.Body, nil, http.StatusCreated)
	order := placed.JSON201.Data
	pending, err := f.env.Client.GetOrderWithResponse(ctx, order.Id, testenv.Bearer(f.customer))
	wantStatus(t, pending, pending.Body, err, http.StatusOK)
	paid, err := f.env.Client.PayOrderWithResponse(ctx, order.Id, payKey(), apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, testenv.Bearer(f.customer))
	wantStatus(t, paid, paid.Body, err, http.StatusOK)

	hooks := rcv.WaitFor(t, deliveryWait, "order.created and order.paid", func(h []testenv.Hook) bool { return len(h) >= 2 })
	byType := map[string]testenv.Hook{}
	for _, h := range hooks {
		if !signedBy(t, *ep.Secret, h) {
			t.Fatalf("signature %q does not verify", h.Signature)
		}
		fresh(t, h)
		b := bodyOf(t, h)
		byType[b.Type] = h
		if h.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("Content-Type %q", h.Header.Get("Content-Type"))
		}
	}
	created, okC := byType["order.created"]
	paidHook, okP := byType["order.paid"]
	if !okC || !okP || len(hooks) != 2 {
		t.Fatalf("deliveries %v", byType)
	}
	if !sameJSON(t, bodyOf(t, created).Data, dataOf(t, pending.Body)) {
		t.Fatalf("order.created data %s\nis not GET's %s", bodyOf(t, created).Data, dataOf(t, pending.Body))
	}
	if !sameJSON(t, bodyOf(t, paidHook).Data, dataOf(t, paid.Body)) {
		t.Fatalf("order.paid data %s\nis not the paid order %s", bodyOf(t, paidHook).Data, dataOf(t, paid.Body))
	}

	// webhook-id is the event's id, and the event log has both.
	evs, err := f.env.Client.ListEventsWithResponse(ctx, &apiclient.ListEventsParams{ResourceId: &order.Id}, testenv.Bearer(f.admin))
	wantStatus(t, evs, evs.Body, err, http.StatusOK)
	ids := map[string]string{}
	for _, e := range evs.JSON200.Data {
		ids[string(e.Type)] = e.Id.String()
	}
	if ids["order.created"] != created.ID || ids["order.paid"] != paidHook.ID {
		t.Fatalf("webhook-ids %s %s, events %v", created.ID, paidHook.ID, ids)
	}

	// Not subscribed: order.shipped reaches the witness, never this endpoint.
	ship, err := f.env.Client.ShipOrderWithResponse(ctx, order.Id, nil, apiclient.ShipmentCreate{Carrier: "DHL", TrackingNumber: "JD1"}, testenv.Bearer(f.admin))
	wantStatus(t, ship, ship.Body, err, http.StatusOK)
	witness.WaitFor(t, deliveryWait, "order.shipped", func(h []testenv.Hook) bool { return len(h) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := len(rcv.Hooks()); n != 2 {
		t.Fatalf("the endpoint got %d deliveries, want 2 (order.shipped is not subscribed)", n)
	}
	list := f.deliveries(t, ep.Id)
	if len(list) != 2 {
		t.Fatalf("deliveries %+v", list)
	}
	for _, d := range list {
		if d.Status != apiclient.DeliverySucceeded || d.AttemptCount != 1 || len(d.Attempts) != 1 || *d.LastStatusCode != 204 {
			t.Fatalf("delivery %+v", d)
		}
	}
}

// A receiver that fails twice and then succeeds gets three attempts and one success, all visible in
// the deliveries list.
func TestWebhookRetries(t *testing.T) {
	f := newHookFixture(t, app.Options{})
	rcv := testenv.NewReceiver(t, func(n int, _ testenv.Hook) testenv.Answer {
		if n <= 2 {
			return testenv.Answer{Status: http.StatusInternalServerError}
		}
		return testenv.Answer{Status: http.StatusOK}
	})
	ep := f.subscribe(t, rcv.URL, apiclient.EventProductCreated)
	f.product(t, apiclient.ProductCreate{Name: "Kettle", PriceCents: 4000, Stock: 1})

	d := f.waitDelivery(t, ep.Id, apiclient.EventProductCreated)
	hooks := rcv.Hooks()
	if len(hooks) != 3 || hooks[0].ID != hooks[2].ID {
		t.Fatalf("%d requests (ids %v)", len(hooks), hooks)
	}
	if d.Status != apiclient.DeliverySucceeded || d.AttemptCount != 3 || len(d.Attempts) != 3 || d.NextAttemptAt != nil {
		t.Fatalf("delivery %+v", d)
	}
	want := []struct {
		code    int32
		outcome apiclient.WebhookAttemptOutcome
	}{{200, apiclient.AttemptSucceeded}, {500, apiclient.AttemptFailed}, {500, apiclient.AttemptFailed}}
	for i, a := range d.Attempts { // newest first
		if a.Number != int32(3-i) || *a.StatusCode != want[i].code || a.Outcome != want[i].outcome {
			t.Fatalf("attempt %d: %+v", i, a)
		}
		if a.Outcome == apiclient.AttemptFailed && (a.Error == nil || !strings.Contains(*a.Error, "500")) {
			t.Fatalf("failed attempt without its error: %+v", a)
		}
	}
	if *d.LastStatusCode != 200 || d.LastError != nil || d.LastDurationMs == nil {
		t.Fatalf("last attempt %+v", d)
	}
}

// After the last scheduled attempt fails the delivery is failed; a manual retry sends it again, once,
// however often it is asked for while that attempt is due or under way.
func TestWebhookFailureAndManualRetry(t *testing.T) {
	f := newHookFixture(t, app.Options{Webhooks: app.WebhookOptions{Schedule: webhooks.Schedule{20 * time.Millisecond}}})
	ctx := context.Background()
	var healthy atomic.Bool
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before the receiver closes
	rcv := testenv.NewReceiver(t, func(n int, _ testenv.Hook) testenv.Answer {
		if !healthy.Load() {
			return testenv.Answer{Status: http.StatusBadGateway}
		}
		<-release // hold the retried attempt while the test asks again
		return testenv.Answer{Status: http.StatusNoContent}
	})
	ep := f.subscribe(t, rcv.URL, apiclient.EventProductCreated)
	f.product(t, apiclient.ProductCreate{Name: "Tin", PriceCents: 900, Stock: 3})
	d := f.waitDelivery(t, ep.Id, apiclient.EventProductCreated)
	if d.Status != apiclient.DeliveryFailed || d.AttemptCount != 2 || d.NextAttemptAt != nil || len(rcv.Hooks()) != 2 {
		t.Fatalf("delivery %+v after %d requests", d, len(rcv.Hooks()))
	}

	healthy.Store(true)
	retry := func() apiclient.WebhookDelivery {
		resp, err := f.env.Client.RetryWebhookDeliveryWithResponse(ctx, ep.Id, d.Id, nil, testenv.Bearer(f.admin))
		wantStatus(t, resp, resp.Body, err, http.StatusAccepted)
		return resp.JSON202.Data
	}
	if got := retry(); got.Status != apiclient.DeliveryPending || got.NextAttemptAt == nil {
		t.Fatalf("retried delivery %+v", got)
	}
	rcv.WaitFor(t, deliveryWait, "the retried attempt", func(h []testenv.Hook) bool { return len(h) == 3 })
	retry() // the attempt is under way: nothing new
	retry()
	releaseOnce.Do(func() { close(release) })
	d = f.waitDelivery(t, ep.Id, apiclient.EventProductCreated)
	time.Sleep(300 * time.Millisecond)
	if hooks := rcv.Hooks(); len(hooks) != 3 || d.Status != apiclient.DeliverySucceeded || d.AttemptCount != 3 {
		t.Fatalf("%d requests, delivery %+v", len(hooks), d)
	}

	t.Run("not found", func(t *testing.T) {
		resp, err := f.env.Client.RetryWebhookDeliveryWithResponse(ctx, ep.Id, uuid.New(), nil, testenv.Bearer(f.admin))
		wantError(t, resp, resp.Body, err, http.StatusNotFound, "NOT_FOUND")
		resp, err = f.env.Client.RetryWebhookDeliveryWithResponse(ctx, uuid.New(), d.Id, nil, testenv.Bearer(f.admin))
		wantError(t, resp, resp.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("disabled endpoint", func(t *testing.T) {
		off, err := f.env.Client.UpdateWebhookEndpointWithResponse(ctx, ep.Id, nil, apiclient.WebhookEndpointPatch{Enabled: ptr(false)}, testenv.Bearer(f.admin))
		wantStatus(t, off, off.Body, err, http.StatusOK)
		resp, err := f.env.Client.RetryWebhookDeliveryWithResponse(ctx, ep.Id, d.Id, nil, testenv.Bearer(f.admin))
		wantError(t, resp, resp.Body, err, http.StatusConflict, "CONFLICT")
	})
}

// During a rotation's overlap every delivery carries a signature with each secret; after it, only the
// new secret signs.
func TestWebhookSecretRotation(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	f := newHookFixture(t, app.Options{Webhooks: app.WebhookOptions{Now: clock}})
	ctx := context.Background()
	rcv := testenv.NewReceiver(t, nil)
	ep := f.subscribe(t, rcv.URL, apiclient.EventProductCreated)
	old := *ep.Secret

	rot, err := f.env.Client.RotateWebhookEndpointSecretWithResponse(ctx, ep.Id, testenv.Bearer(f.admin))
	wantStatus(t, rot, rot.Body, err, http.StatusOK)
	rotated := rot.JSON200.Data
	if rotated.Secret == nil || *rotated.Secret == old || rotated.PreviousSecretExpiresAt == nil ||
		rotated.PreviousSecretExpiresAt.Sub(time.Now()) < 23*time.Hour {
		t.Fatalf("rotation %+v", rotated)
	}
	got, err := f.env.Client.GetWebhookEndpointWithResponse(ctx, ep.Id, nil, testenv.Bearer(f.admin))
	wantStatus(t, got, got.Body, err, http.StatusOK)
	if got.JSON200.Data.Secret != nil {
		t.Fatal("GET shows the secret")
	}

	f.product(t, apiclient.ProductCreate{Name: "During overlap", PriceCents: 100, Stock: 1})
	h := rcv.WaitFor(t, deliveryWait, "a delivery during the overlap", func(h []testenv.Hook) bool { return len(h) == 1 })[0]
	if len(strings.Fields(h.Signature)) != 2 || !signedBy(t, old, h) || !signedBy(t, *rotated.Secret, h) {
		t.Fatalf("during the overlap both secrets must verify: %q", h.Signature)
	}

	offset.Store(int64(25 * time.Hour))
	f.product(t, apiclient.ProductCreate{Name: "After overlap", PriceCents: 100, Stock: 1})
	h = rcv.WaitFor(t, deliveryWait, "a delivery after the overlap", func(h []testenv.Hook) bool { return len(h) == 2 })[1]
	if len(strings.Fields(h.Signature)) != 1 || signedBy(t, old, h) || !signedBy(t, *rotated.Secret, h) {
		t.Fatalf("after the overlap only the new secret may verify: %q", h.Signature)
	}
}
