package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/testenv"
	"github.com/storefront/storefront/internal/webhooks"
)

// stubResolver answers host lookups from a table; a host with several answers gives them in turn (and
// then the last one forever), as DNS rebinding would.
type stubResolver struct {
	mu      sync.Mutex
	answers map[string][]string
	asked   map[string]int
}

func (r *stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list, ok := r.answers[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	n := r.asked[host]
	r.asked[host]++
	if n >= len(list) {
		n = len(list) - 1
	}
	return []netip.Addr{netip.MustParseAddr(list[n])}, nil
}

func (f hookFixture) createEndpoint(t *testing.T, url string) (*apiclient.CreateWebhookEndpointResponse, error) {
	t.Helper()
	return f.env.Client.CreateWebhookEndpointWithResponse(context.Background(),
		apiclient.WebhookEndpointCreate{Url: url, EventTypes: []apiclient.EventType{apiclient.EventProductCreated}}, testenv.Bearer(f.admin))
}

// In production, endpoints must be https and resolve to public addresses only, checked at creation and
// again when an attempt connects, on the address actually dialled: a name that resolved publicly at
// creation and privately later (DNS rebinding) is refused then.
func TestWebhookReceiverPolicy(t *testing.T) {
	resolver := &stubResolver{asked: map[string]int{}, answers: map[string][]string{
		"hooks.partner.example": {"93.184.215.14"},
		"metadata.example":      {"169.254.169.254"},
		"intranet.example":      {"10.1.2.3"},
		"rebind.example":        {"93.184.215.14", "10.0.0.7"},
	}}
	f := newHookFixture(t, app.Options{Webhooks: app.WebhookOptions{Resolver: resolver}}, "APP_ENV=production", "WEBHOOKS_ALLOW_PRIVATE_NETWORKS=false")

	for _, url := range []string{
		"http://127.0.0.1/hooks", "https://127.0.0.1/hooks", "https://10.0.0.1/hooks", "https://169.254.169.254/latest/meta-data",
		"https://[::1]/hooks", "https://[::ffff:127.0.0.1]/hooks", "https://0.0.0.0/hooks", "https://192.168.1.20/hooks",
		"https://100.64.0.1/hooks", "https://[fd00:ec2::254]/hooks", "https://[64:ff9b::a00:1]/hooks", "https://224.0.0.1/hooks",
		"https://metadata.example/hooks", "https://intranet.example/hooks", "https://nowhere.example/hooks",
		"http://hooks.partner.example/hooks", "https://user:pass@hooks.partner.example/hooks",
	} {
		t.Run(url, func(t *testing.T) {
			resp, err := f.createEndpoint(t, url)
			e := wantError(t, resp, resp.Body, err, http.StatusUnprocessableEntity, "UNPROCESSABLE")
			wantFields(t, e, "url")
		})
	}

	ok, err := f.createEndpoint(t, "https://hooks.partner.example/hooks")
	wantStatus(t, ok, ok.Body, err, http.StatusCreated)
	t.Run("changing the URL is checked too", func(t *testing.T) {
		resp, err := f.env.Client.UpdateWebhookEndpointWithResponse(context.Background(), ok.JSON201.Data.Id, nil,
			apiclient.WebhookEndpointPatch{Url: ptr("https://10.0.0.1/x")}, testenv.Bearer(f.admin))
		e := wantError(t, resp, resp.Body, err, http.StatusUnprocessableEntity, "UNPROCESSABLE")
		wantFields(t, e, "url")
	})
	t.Run("a name that resolves privately at connect time is refused", func(t *testing.T) {
		created, err := f.env.Client.CreateWebhookEndpointWithResponse(context.Background(), apiclient.WebhookEndpointCreate{
			Url: "https://rebind.example/hooks", EventTypes: []apiclient.EventType{apiclient.EventPostPublished}}, testenv.Bearer(f.admin))
		wantStatus(t, created, created.Body, err, http.StatusCreated) // it resolved to a public address then
		me, err := f.env.Client.GetMeWithResponse(context.Background(), testenv.Bearer(f.admin))
		wantStatus(t, me, me.Body, err, http.StatusOK)
		post, err := f.env.Client.CreatePostWithResponse(context.Background(), me.JSON200.Data.Id, nil,
			apiclient.PostCreate{Title: "Hello", Body: "World", Status: ptr(apiclient.Published)}, testenv.Bearer(f.admin))
		wantStatus(t, post, post.Body, err, http.StatusCreated)
		d := f.waitDelivery(t, created.JSON201.Data.Id, apiclient.EventPostPublished)
		if d.Status != apiclient.DeliveryFailed || len(d.Attempts) == 0 {
			t.Fatalf("delivery %+v", d)
		}
		for _, a := range d.Attempts {
			if a.StatusCode != nil || a.Error == nil || !strings.Contains(*a.Error, "10.0.0.7 is private") {
				t.Fatalf("attempt %+v was not refused at connect time", a)
			}
		}
	})
}

// Outside production, plain http is accepted, but private receivers still need
// WEBHOOKS_ALLOW_PRIVATE_NETWORKS, and the metadata address is never allowed.
func TestWebhookReceiverPolicyDevelopment(t *testing.T) {
	resolver := &stubResolver{asked: map[string]int{}, answers: map[string][]string{"hooks.partner.example": {"93.184.215.14"}}}
	strict := newHookFixture(t, app.Options{Webhooks: app.WebhookOptions{Resolver: resolver}}, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS=false")
	resp, err := strict.createEndpoint(t, "http://hooks.partner.example/hooks")
	wantStatus(t, resp, resp.Body, err, http.StatusCreated)
	resp, err = strict.createEndpoint(t, "http://127.0.0.1:9/hooks")
	wantError(t, resp, resp.Body, err, http.StatusUnprocessableEntity, "UNPROCESSABLE")

	open := newHookFixture(t, app.Options{})
	resp, err = open.createEndpoint(t, "http://127.0.0.1:9/hooks")
	wantStatus(t, resp, resp.Body, err, http.StatusCreated)
	resp, err = open.createEndpoint(t, "http://169.254.169.254/latest/meta-data")
	wantError(t, resp, resp.Body, err, http.StatusUnprocessableEntity, "UNPROCESSABLE")
}

func TestWebhookEndpoints(t *testing.T) {
	f := newHookFixture(t, app.Options{})
	ctx := context.Background()
	rcv := testenv.NewReceiver(t, nil)
	ep := f.subscribe(t, rcv.URL, apiclient.EventOrderPaid)

	t.Run("created", func(t *testing.T) {
		if !strings.HasPrefix(*ep.Secret, "whsec_") || !ep.Enabled || len(ep.EventTypes) != 1 || ep.DisabledReason != nil {
			t.Fatalf("endpoint %+v", ep)
		}
	})
	t.Run("get, without the secret, with an ETag", func(t *testing.T) {
		resp, err := f.env.Client.GetWebhookEndpointWithResponse(ctx, ep.Id, nil, testenv.Bearer(f.admin))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.JSON200.Data.Secret != nil || strings.Contains(string(resp.Body), "whsec_") {
			t.Fatalf("secret shown: %s", resp.Body)
		}
		tag := resp.HTTPResponse.Header.Get("ETag")
		again, err := f.env.Client.GetWebhookEndpointWithResponse(ctx, ep.Id, &apiclient.GetWebhookEndpointParams{IfNoneMatch: &tag}, testenv.Bearer(f.admin))
		wantStatus(t, again, again.Body, err, http.StatusNotModified)
		missing, err := f.env.Client.GetWebhookEndpointWithResponse(ctx, uuid.New(), nil, testenv.Bearer(f.admin))
		wantError(t, missing, missing.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("list", func(t *testing.T) {
		f.subscribe(t, rcv.URL+"/second", apiclient.EventOrderShipped)
		resp, err := f.env.Client.ListWebhookEndpointsWithResponse(ctx, &apiclient.ListWebhookEndpointsParams{Limit: ptr(int32(1))}, testenv.Bearer(f.admin))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if len(resp.JSON200.Data) != 1 || !resp.JSON200.Meta.HasMore || strings.Contains(string(resp.Body), "whsec_") {
			t.Fatalf("page %s", resp.Body)
		}
		next, err := f.env.Client.ListWebhookEndpointsWithResponse(ctx, &apiclient.ListWebhookEndpointsParams{Limit: ptr(int32(1)),
			Cursor: resp.JSON200.Meta.NextCursor}, testenv.Bearer(f.admin))
		wantStatus(t, next, next.Body, err, http.StatusOK)
		if len(next.JSON200.Data) != 1 || next.JSON200.Data[0].Id != ep.Id || next.JSON200.Meta.HasMore {
			t.Fatalf("second page %s", next.Body)
		}
	})
	t.Run("update", func(t *testing.T) {
		types := []apiclient.EventType{apiclient.EventOrderPaid, apiclient.EventOrderCancelled}
		resp, err := f.env.Client.UpdateWebhookEndpointWithResponse(ctx, ep.Id, &apiclient.UpdateWebhookEndpointParams{IfMatch: ptr(`"1"`)},
			apiclient.WebhookEndpointPatch{EventTypes: &types, Description: ptr("Fulfilment")}, testenv.Bearer(f.admin))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if got := resp.JSON200.Data; len(got.EventTypes) != 2 || *got.Description != "Fulfilment" || got.Url != ep.Url {
			t.Fatalf("updated %+v", got)
		}
		stale, err := f.env.Client.UpdateWebhookEndpointWithResponse(ctx, ep.Id, &apiclient.UpdateWebhookEndpointParams{IfMatch: ptr(`"1"`)},
			apiclient.WebhookEndpointPatch{Enabled: ptr(false)}, testenv.Bearer(f.admin))
		wantError(t, stale, stale.Body, err, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
	})
	t.Run("invalid", func(t *testing.T) {
		for name, body := range map[string]string{
			"no event types":     `{"url":"http://127.0.0.1/x","event_types":[]}`,
			"unknown event type": `{"url":"http://127.0.0.1/x","event_types":["order.exploded"]}`,
			"repeated type":      `{"url":"http://127.0.0.1/x","event_types":["order.paid","order.paid"]}`,
			"not a URL":          `{"url":"ftp://127.0.0.1/x","event_types":["order.paid"]}`,
			"unknown field":      `{"url":"http://127.0.0.1/x","event_types":["order.paid"],"secret":"whsec_x"}`,
			"long description":   `{"url":"http://127.0.0.1/x","event_types":["order.paid"],"description":"` + strings.Repeat("d", 501) + `"}`,
			"empty patch":        ``,
		} {
			t.Run(name, func(t *testing.T) {
				if name == "empty patch" {
					resp, err := f.env.Client.UpdateWebhookEndpointWithBodyWithResponse(ctx, ep.Id, nil, "application/json", jsonBody(`{}`), testenv.Bearer(f.admin))
					wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
					return
				}
				resp, err := f.env.Client.CreateWebhookEndpointWithBodyWithResponse(ctx, "application/json", jsonBody(body), testenv.Bearer(f.admin))
				wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
			})
		}
	})
	t.Run("only webhook managers", func(t *testing.T) {
		list, err := f.env.Client.ListWebhookEndpointsWithResponse(ctx, nil, testenv.Bearer(f.customer))
		wantError(t, list, list.Body, err, http.StatusForbidden, "FORBIDDEN")
		create, err := f.env.Client.CreateWebhookEndpointWithResponse(ctx, apiclient.WebhookEndpointCreate{Url: rcv.URL,
			EventTypes: []apiclient.EventType{apiclient.EventOrderPaid}}, testenv.Bearer(f.customer))
		wantError(t, create, create.Body, err, http.StatusForbidden, "FORBIDDEN")
		rot, err := f.env.Client.RotateWebhookEndpointSecretWithResponse(ctx, ep.Id, testenv.Bearer(f.customer))
		wantError(t, rot, rot.Body, err, http.StatusForbidden, "FORBIDDEN")
		del, err := f.env.Client.ListWebhookDeliveriesWithResponse(ctx, ep.Id, nil, testenv.Bearer(f.customer))
		wantError(t, del, del.Body, err, http.StatusForbidden, "FORBIDDEN")
		anon, err := f.env.Client.ListWebhookEndpointsWithResponse(ctx, nil)
		wantError(t, anon, anon.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("delete", func(t *testing.T) {
		resp, err := f.env.Client.DeleteWebhookEndpointWithResponse(ctx, ep.Id, nil, testenv.Bearer(f.admin))
		wantStatus(t, resp, resp.Body, err, http.StatusNoContent)
		for _, r := range []statusResponse{
			must(f.env.Client.GetWebhookEndpointWithResponse(ctx, ep.Id, nil, testenv.Bearer(f.admin))),
			must(f.env.Client.ListWebhookDeliveriesWithResponse(ctx, ep.Id, nil, testenv.Bearer(f.admin))),
			must(f.env.Client.RotateWebhookEndpointSecretWithResponse(ctx, ep.Id, testenv.Bearer(f.admin))),
			must(f.env.Client.DeleteWebhookEndpointWithResponse(ctx, ep.Id, nil, testenv.Bearer(f.admin))),
		} {
			if r.StatusCode() != http.StatusNotFound {
				t.Fatalf("after delete: %d", r.StatusCode())
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A 410 disables the endpoint at once, five days of nothing but failures (here: DisableAfter) do too,
// and a webhook_endpoint.disabled event tells other subscribers; enabling it again clears the reason.
func TestWebhookEndpointDisabled(t *testing.T) {
	f := newHookFixture(t, app.Options{Webhooks: app.WebhookOptions{Schedule: webhooks.Schedule{150 * time.Millisecond, 150 * time.Millisecond},
		DisableAfter: 250 * time.Millisecond}})
	ctx := context.Background()
	watcher := testenv.NewReceiver(t, nil)
	f.subscribe(t, watcher.URL, apiclient.EventWebhookEndpointDisabled)
	gone := testenv.NewReceiver(t, func(int, testenv.Hook) testenv.Answer { return testenv.Answer{Status: http.StatusGone} })
	failing := testenv.NewReceiver(t, func(int, testenv.Hook) testenv.Answer { return testenv.Answer{Status: http.StatusServiceUnavailable} })
	goneEp := f.subscribe(t, gone.URL, apiclient.EventProductCreated)
	failingEp := f.subscribe(t, failing.URL, apiclient.EventProductCreated)
	f.product(t, apiclient.ProductCreate{Name: "One", PriceCents: 100, Stock: 1})

	hooks := watcher.WaitFor(t, deliveryWait, "two webhook_endpoint.disabled", func(h []testenv.Hook) bool { return len(h) == 2 })
	reasons := map[uuid.UUID]string{}
	for _, h := range hooks {
		data, err := bodyOfEndpoint(t, h)
		if err != nil {
			t.Fatal(err)
		}
		reasons[data.Id] = string(*data.DisabledReason)
		if data.Enabled || data.Secret != nil {
			t.Fatalf("disabled endpoint data %+v", data)
		}
	}
	if reasons[goneEp.Id] != "gone" || reasons[failingEp.Id] != "failing" {
		t.Fatalf("reasons %v", reasons)
	}
	if n := len(gone.Hooks()); n != 1 {
		t.Fatalf("the 410 receiver got %d attempts", n)
	}
	// Disabled at the first attempt DisableAfter or more after the first failure, not before.
	fails := failing.Hooks()
	first, last := fails[0].At, fails[len(fails)-1].At
	if len(fails) < 2 || last.Sub(first) < 250*time.Millisecond || len(fails) > 2 && fails[len(fails)-2].At.Sub(first) >= 300*time.Millisecond {
		t.Fatalf("the failing receiver got attempts at %v", fails)
	}

	f.product(t, apiclient.ProductCreate{Name: "Two", PriceCents: 100, Stock: 1})
	time.Sleep(500 * time.Millisecond)
	if len(gone.Hooks()) != 1 || len(failing.Hooks()) != len(fails) {
		t.Fatal("a disabled endpoint was sent a delivery")
	}
	on, err := f.env.Client.UpdateWebhookEndpointWithResponse(ctx, goneEp.Id, nil, apiclient.WebhookEndpointPatch{Enabled: ptr(true)}, testenv.Bearer(f.admin))
	wantStatus(t, on, on.Body, err, http.StatusOK)
	if !on.JSON200.Data.Enabled || on.JSON200.Data.DisabledReason != nil {
		t.Fatalf("enabled again: %+v", on.JSON200.Data)
	}
}

func bodyOfEndpoint(t *testing.T, h testenv.Hook) (apiclient.WebhookEndpoint, error) {
	t.Helper()
	b := bodyOf(t, h)
	var p apiclient.WebhookEndpointEventPayload
	if err := json.Unmarshal(h.Body, &p); err != nil {
		return apiclient.WebhookEndpoint{}, err
	}
	if b.Type != "webhook_endpoint.disabled" {
		t.Fatalf("type %s", b.Type)
	}
	return p.Data, nil
}

// How receivers' answers are read: Retry-After holds the next attempt back, a redirect is a failure and
// is not followed, a receiver slower than the timeout fails the attempt.
func TestWebhookAnswers(t *testing.T) {
	f := newHookFixture(t, app.Options{Webhooks: app.WebhookOptions{Timeout: 300 * time.Millisecond}})

	t.Run("Retry-After", func(t *testing.T) {
		rcv := testenv.NewReceiver(t, func(n int, _ testenv.Hook) testenv.Answer {
			if n == 1 {
				return testenv.Answer{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "2"}}
			}
			return testenv.Answer{Status: http.StatusOK}
		})
		ep := f.subscribe(t, rcv.URL, apiclient.EventProductCreated)
		f.product(t, apiclient.ProductCreate{Name: "Slow down", PriceCents: 100, Stock: 1})
		hooks := rcv.WaitFor(t, deliveryWait, "the retry", func(h []testenv.Hook) bool { return len(h) == 2 })
		if gap := hooks[1].At.Sub(hooks[0].At); gap < 1900*time.Millisecond {
			t.Fatalf("retried after %s despite Retry-After: 2", gap)
		}
		f.deleteEndpoint(t, ep.Id)
	})
	t.Run("redirects are failures", func(t *testing.T) {
		target := testenv.NewReceiver(t, nil)
		rcv := testenv.NewReceiver(t, func(int, testenv.Hook) testenv.Answer {
			return testenv.Answer{Status: http.StatusFound, Header: map[string]string{"Location": target.URL}}
		})
		ep := f.subscribe(t, rcv.URL, apiclient.EventProductCreated)
		f.product(t, apiclient.ProductCreate{Name: "Moved", PriceCents: 100, Stock: 1})
		d := f.waitDelivery(t, ep.Id, apiclient.EventProductCreated)
		if d.Status != apiclient.DeliveryFailed || *d.LastStatusCode != 302 || !strings.Contains(*d.LastError, "redirects are not followed") {
			t.Fatalf("delivery %+v", d)
		}
		if len(target.Hooks()) != 0 {
			t.Fatal("the redirect was followed")
		}
		f.deleteEndpoint(t, ep.Id)
	})
	t.Run("timeout", func(t *testing.T) {
		rcv := testenv.NewReceiver(t, func(int, testenv.Hook) testenv.Answer {
			time.Sleep(time.Second)
			return testenv.Answer{Status: http.StatusOK}
		})
		ep := f.subscribe(t, rcv.URL, apiclient.EventProductCreated)
		f.product(t, apiclient.ProductCreate{Name: "Sleepy", PriceCents: 100, Stock: 1})
		d := f.waitDelivery(t, ep.Id, apiclient.EventProductCreated)
		if d.Status != apiclient.DeliveryFailed || d.Attempts[0].StatusCode != nil || !strings.Contains(*d.LastError, "Timeout") {
			t.Fatalf("delivery %+v", d)
		}
	})
}

func (f hookFixture) deleteEndpoint(t *testing.T, id uuid.UUID) {
	t.Helper()
	resp, err := f.env.Client.DeleteWebhookEndpointWithResponse(context.Background(), id, nil, testenv.Bearer(f.admin))
	wantStatus(t, resp, resp.Body, err, http.StatusNoContent)
}

// Metrics count attempts and deliveries by outcome and time attempts; the queue's depth and lag are
// read at scrape time. Each attempt has a span linked to the request that caused the event.
func TestWebhookTelemetry(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	f := newHookFixture(t, app.Options{TracerProvider: tp})
	rcv := testenv.NewReceiver(t, func(n int, _ testenv.Hook) testenv.Answer {
		if n == 1 {
			return testenv.Answer{Status: http.StatusInternalServerError}
		}
		return testenv.Answer{Status: http.StatusOK}
	})
	ep := f.subscribe(t, rcv.URL, apiclient.EventProductCreated)
	before := scrape(t, f.env)
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	resp, err := f.env.Client.CreateProductWithResponse(context.Background(), nil, apiclient.ProductCreate{Name: "Traced", PriceCents: 100, Stock: 1},
		testenv.Bearer(f.admin), testenv.Header("traceparent", "00-"+trace+"-00f067aa0ba902b7-01"))
	wantStatus(t, resp, resp.Body, err, http.StatusCreated)
	f.waitSucceeded(t, ep.Id, 1)
	var after map[string]float64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) { // counted just after the commit
		if after = scrape(t, f.env); after[`storefront_webhook_deliveries_total{outcome="succeeded"}`] > 0 || time.Now().After(deadline) {
			break
		}
	}
	moved := func(key string) float64 { return after[key] - before[key] }
	for key, want := range map[string]float64{
		`storefront_webhook_attempts_total{outcome="failed"}`:      1,
		`storefront_webhook_attempts_total{outcome="succeeded"}`:   1,
		`storefront_webhook_deliveries_total{outcome="succeeded"}`: 1,
		`storefront_webhook_attempt_duration_seconds_count`:        2,
		`storefront_webhook_queue_depth{state="due"}`:              0,
		`storefront_webhook_queue_oldest_pending_age_seconds`:      0,
	} {
		if got := moved(key); got != want {
			t.Errorf("%s moved by %v, want %v", key, got, want)
		}
	}
	if _, ok := after[`storefront_webhook_queue_depth{state="waiting"}`]; !ok {
		t.Error("no queue depth metric")
	}

	var attempts []tracetest.SpanStub
	for _, s := range exporter.GetSpans() {
		if s.Name == "webhook attempt" {
			attempts = append(attempts, s)
		}
	}
	if len(attempts) != 2 {
		t.Fatalf("%d attempt spans", len(attempts))
	}
	for _, s := range attempts {
		if len(s.Links) != 1 || s.Links[0].SpanContext.TraceID().String() != trace || s.SpanContext.TraceID().String() == trace {
			t.Fatalf("attempt span %s links %v (want a link to trace %s, in a trace of its own)", s.SpanContext.TraceID(), s.Links, trace)
		}
	}
}
