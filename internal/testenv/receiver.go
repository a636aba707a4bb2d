package testenv

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/storefront/storefront/gen/api"
)

// Hook is one request a Receiver got.
type Hook struct {
	ID, Timestamp, Signature string
	Header                   http.Header
	Body                     []byte
	At                       time.Time
}

// Answer is what a Receiver replies: a status and extra headers (Retry-After, Location...).
type Answer struct {
	Status int
	Header map[string]string
}

// Receiver is a real HTTP webhook receiver for tests. It records every request and answers each with
// what respond says for the n-th request (1-based); nil respond answers 204.
type Receiver struct {
	*httptest.Server
	mu      sync.Mutex
	hooks   []Hook
	respond func(n int, h Hook) Answer
	changed chan struct{}
}

// NewReceiver starts a receiver on the loopback interface; it stops with the test.
func NewReceiver(t testing.TB, respond func(n int, h Hook) Answer) *Receiver {
	r := &Receiver{respond: respond, changed: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	h := Hook{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), Header: req.Header.Clone(), Body: body, At: time.Now()}
	r.mu.Lock()
	r.hooks = append(r.hooks, h)
	n := len(r.hooks)
	r.mu.Unlock()
	a := Answer{Status: http.StatusNoContent}
	if r.respond != nil {
		a = r.respond(n, h)
	}
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.Status)
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Hooks is every request received so far.
func (r *Receiver) Hooks() []Hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Hook(nil), r.hooks...)
}

// WaitFor waits until done holds for the requests received, or fails the test after timeout.
func (r *Receiver) WaitFor(t testing.TB, timeout time.Duration, what string, done func([]Hook) bool) []Hook {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if hooks := r.Hooks(); done(hooks) {
			return hooks
		}
		select {
		case <-deadline.C:
			t.Fatalf("waited %s for %s; received %d requests", timeout, what, len(r.Hooks()))
		case <-r.changed:
		case <-tick.C:
		}
	}
}

// CheckWebhook validates a delivery's body and headers against the spec's webhooks section entry for
// its event type, as the response checker does for API responses.
func CheckWebhook(eventType string, h Hook) error {
	doc, err := api.GetSwagger()
	if err != nil {
		return err
	}
	item, ok := doc.Webhooks[eventType]
	if !ok || item.Post == nil {
		return fmt.Errorf("the spec documents no webhook %q", eventType)
	}
	op := item.Post
	for _, p := range op.Parameters {
		v := h.Header.Get(p.Value.Name)
		if v == "" && p.Value.Required {
			return fmt.Errorf("header %s missing", p.Value.Name)
		}
		if err := p.Value.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			return fmt.Errorf("header %s: %w", p.Value.Name, err)
		}
	}
	if ct := h.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	v, err := decodeJSON(h.Body)
	if err != nil {
		return err
	}
	return op.RequestBody.Value.Content["application/json"].Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}
