package webhookhttp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/storefront/storefront/internal/webhooks"
)

type resolver map[string]string

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, errors.New("no such host")
}

func TestSend(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	s := New(Options{Policy: webhooks.Policy{AllowPrivate: true}, Resolver: resolver{}})
	resp := s.Send(context.Background(), webhooks.Request{URL: srv.URL + "/h", Body: []byte(`{}`),
		Header: map[string]string{webhooks.HeaderID: "id1", webhooks.HeaderTimestamp: "1", webhooks.HeaderSignature: "v1,x"}})
	if resp.Err != nil || resp.StatusCode != 503 || resp.RetryAfter != 7*time.Second {
		t.Fatalf("response %+v", resp)
	}
	if got.Method != http.MethodPost || got.Header.Get("Content-Type") != "application/json" || got.Header.Get("webhook-id") != "id1" ||
		got.Header.Get("User-Agent") != UserAgent {
		t.Fatalf("request %s %v", got.Method, got.Header)
	}

	t.Run("the policy is applied to the dialled address", func(t *testing.T) {
		strict := New(Options{Policy: webhooks.Policy{}, Resolver: resolver{"public.example": "127.0.0.1"}})
		for _, url := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "public.example", 1)} {
			resp := strict.Send(context.Background(), webhooks.Request{URL: url})
			if !errors.Is(resp.Err, webhooks.ErrBlocked) || resp.StatusCode != 0 {
				t.Fatalf("%s: %+v", url, resp)
			}
		}
	})
	t.Run("the dialer's last check", func(t *testing.T) {
		// dial refuses before connecting; Control refuses whatever reaches it all the same.
		control := dialControl(webhooks.Policy{})
		if err := control("tcp4", "10.0.0.1:443", nil); !errors.Is(err, webhooks.ErrBlocked) {
			t.Fatalf("Control let 10.0.0.1 through: %v", err)
		}
		if err := control("tcp4", "93.184.215.14:443", nil); err != nil {
			t.Fatalf("Control refused a public address: %v", err)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		"-5":                            0,
		"99999999":                      webhooks.MaxRetryAfter,
		"Thu, 01 Jan 2026 00:01:00 GMT": time.Minute,
		"Wed, 31 Dec 2025 00:00:00 GMT": 0,
		"soon":                          0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("%q: %s, want %s", v, got, want)
		}
	}
}
