package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/events"
)

// The Standard Webhooks reference test vector (the specification's libraries all check it).
func TestSignMatchesStandardWebhooks(t *testing.T) {
	key, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign([][]byte{key}, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	other, _ := NewSecret()
	two := Sign([][]byte{key, other}, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if parts := strings.Split(two, " "); len(parts) != 2 || parts[0] != got {
		t.Fatalf("two keys: %s", two)
	}
}

func TestSecrets(t *testing.T) {
	k, err := NewSecret()
	if err != nil || len(k) < 24 {
		t.Fatalf("key of %d bytes: %v", len(k), err)
	}
	s := FormatSecret(k)
	back, err := ParseSecret(s)
	if !strings.HasPrefix(s, "whsec_") || err != nil || string(back) != string(k) {
		t.Fatalf("%s round trip: %v", s, err)
	}
	if _, err := ParseSecret("sk_nope"); err == nil {
		t.Fatal("accepted a secret without whsec_")
	}
	now := time.Now()
	later := now.Add(time.Hour)
	e := Endpoint{Secret: []byte("new"), PreviousSecret: []byte("old"), PreviousSecretExpiresAt: &later}
	if got := e.signingKeys(now); len(got) != 2 {
		t.Fatalf("during the overlap: %d keys", len(got))
	}
	if got := e.signingKeys(later); len(got) != 1 || string(got[0]) != "new" {
		t.Fatalf("after the overlap: %q", got)
	}
}

func TestPolicyAllowed(t *testing.T) {
	strict, dev := Policy{RequireHTTPS: true}, Policy{AllowPrivate: true}
	for _, c := range []struct {
		ip          string
		strict, dev bool
	}{
		{"93.184.215.14", true, true},
		{"2606:2800:220:1::", true, true},
		{"127.0.0.1", false, true},
		{"::1", false, true},
		{"10.0.0.1", false, true},
		{"172.16.5.4", false, true},
		{"192.168.1.1", false, true},
		{"fd00::1", false, true},
		{"::ffff:10.0.0.1", false, true},
		{"64:ff9b::a00:1", false, true}, // NAT64 of 10.0.0.1
		{"100.64.0.1", false, false},
		{"169.254.169.254", false, false},
		{"169.254.1.1", false, false},
		{"fe80::1", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"255.255.255.255", false, false},
		{"198.18.0.1", false, false},
	} {
		ip := netip.MustParseAddr(c.ip)
		if got := strict.Allowed(ip) == nil; got != c.strict {
			t.Errorf("%s strict: allowed=%v, want %v (%v)", c.ip, got, c.strict, strict.Allowed(ip))
		}
		if got := dev.Allowed(ip) == nil; got != c.dev {
			t.Errorf("%s with private networks allowed: allowed=%v, want %v", c.ip, got, c.dev)
		}
		if err := strict.Allowed(ip); err != nil && !errors.Is(err, ErrBlocked) {
			t.Errorf("%s: %v is not ErrBlocked", c.ip, err)
		}
	}
}

type fixedResolver map[string][]string

func (r fixedResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range r[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

func TestPolicyCheckURL(t *testing.T) {
	r := fixedResolver{"ok.example": {"93.184.215.14"}, "mixed.example": {"93.184.215.14", "10.0.0.1"}}
	p := Policy{RequireHTTPS: true}
	for url, ok := range map[string]bool{
		"https://ok.example/hooks":             true,
		"https://ok.example:8443/h?x=1":        true,
		"http://ok.example/hooks":              false,
		"https://mixed.example/hooks":          false, // one private address is enough to refuse
		"https://unknown.example/hooks":        false,
		"https://10.0.0.1/hooks":               false,
		"ftp://ok.example/hooks":               false,
		"https://u:p@ok.example/hooks":         false,
		"https://ok.example/hooks#frag":        false,
		"/relative":                            false,
		"https://" + strings.Repeat("a", 2050): false,
	} {
		if err := p.CheckURL(context.Background(), r, url); (err == nil) != ok {
			t.Errorf("%s: %v, want ok=%v", url, err, ok)
		}
	}
	if err := (Policy{}).CheckURL(context.Background(), r, "http://ok.example/hooks"); err != nil {
		t.Errorf("http outside production: %v", err)
	}
}

func TestScheduleAndOutcomes(t *testing.T) {
	if span := DefaultSchedule.Span(); span < 24*time.Hour || len(DefaultSchedule)+1 != 10 {
		t.Fatalf("default schedule: %d attempts over %s", len(DefaultSchedule)+1, span)
	}
	for n := 1; n <= len(DefaultSchedule); n++ {
		d, ok := DefaultSchedule.next(n, 0)
		base := DefaultSchedule[n-1]
		if !ok || d < base*9/10 || d > base*11/10 {
			t.Fatalf("after attempt %d: %s (base %s)", n, d, base)
		}
	}
	if _, ok := DefaultSchedule.next(len(DefaultSchedule)+1, 0); ok {
		t.Fatal("an attempt after the last")
	}
	if d, _ := DefaultSchedule.next(1, time.Hour); d != time.Hour {
		t.Fatalf("Retry-After longer than the step: %s", d)
	}
	if d, _ := DefaultSchedule.next(1, 1000*time.Hour); d != MaxRetryAfter {
		t.Fatalf("Retry-After is capped: %s", d)
	}
	for _, c := range []struct {
		r    Response
		want Outcome
	}{
		{Response{StatusCode: 200}, OutcomeSucceeded},
		{Response{StatusCode: 204}, OutcomeSucceeded},
		{Response{StatusCode: 301}, OutcomeFailed},
		{Response{StatusCode: 404}, OutcomeFailed},
		{Response{StatusCode: 410}, OutcomeGone},
		{Response{StatusCode: 503}, OutcomeFailed},
		{Response{Err: errors.New("refused")}, OutcomeFailed},
	} {
		if got := c.r.outcome(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.r, got, c.want)
		}
	}
	if !honoursRetryAfter(http.StatusTooManyRequests) || !honoursRetryAfter(http.StatusServiceUnavailable) || honoursRetryAfter(500) {
		t.Fatal("Retry-After is read on 429 and 503 only")
	}
	long := attemptError(Response{Err: errors.New(strings.Repeat("é", 400))})
	if len(*long) > maxErrorLen || !strings.HasPrefix(*long, "é") {
		t.Fatalf("error not cut on a rune: %d bytes", len(*long))
	}
}

func TestBody(t *testing.T) {
	e := events.Event{ID: uuid.New(), Type: events.ProductUpdated, Data: json.RawMessage(`{"id":"x","price_cents":1300}`),
		ChangedFields: []string{"price_cents"}, CreatedAt: time.Date(2026, 11, 20, 10, 1, 0, 123456000, time.UTC)}
	b, err := Body(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"product.updated","timestamp":"2026-11-20T10:01:00.123456Z","data":{"id":"x","price_cents":1300},"changed_fields":["price_cents"]}`
	if string(b) != want {
		t.Fatalf("body %s", b)
	}
	e.ChangedFields = nil
	if b, _ := Body(e); strings.Contains(string(b), "changed_fields") {
		t.Fatalf("body %s", b)
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("d", 501)
	for name, c := range map[string]struct {
		f      Fields
		fields []string
	}{
		"ok":           {Fields{EventTypes: []events.Type{events.OrderPaid}}, nil},
		"none":         {Fields{}, []string{"event_types"}},
		"unknown":      {Fields{EventTypes: []events.Type{"order.exploded"}}, []string{"event_types[0]"}},
		"twice":        {Fields{EventTypes: []events.Type{events.OrderPaid, events.OrderPaid}}, []string{"event_types[1]"}},
		"long details": {Fields{EventTypes: []events.Type{events.OrderPaid}, Description: &long}, []string{"description"}},
	} {
		err := validate(c.f)
		if c.fields == nil {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindInvalid || len(e.Details) != len(c.fields) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for i, f := range c.fields {
			if e.Details[i].Field != f {
				t.Errorf("%s: details %+v, want %v", name, e.Details, c.fields)
			}
		}
	}
}
