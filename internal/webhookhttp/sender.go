// Package webhookhttp makes webhook attempts over HTTP: the receiver policy checked against the
// address actually dialled (so a name that resolves to a private address by the time of the attempt,
// DNS rebinding included, is refused), no proxy and no redirects, a bound on the whole attempt, and a
// span per attempt linked to the request that caused the event.
package webhookhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/storefront/storefront/internal/webhooks"
)

// Timeout bounds an attempt: connecting, sending, and the receiver's answer.
const Timeout = 15 * time.Second

// UserAgent identifies deliveries to receivers.
const UserAgent = "Storefront-Webhooks/1.0"

// maxDrain is how much of a response body is read (and thrown away) so the connection can be reused.
const maxDrain = 64 << 10

// Options configure a Sender.
type Options struct {
	Policy   webhooks.Policy
	Resolver webhooks.Resolver // required: how hosts are looked up at connect time
	Timeout  time.Duration     // 0: Timeout
	Tracer   trace.Tracer      // nil: no spans
}

// Sender implements webhooks.Sender.
type Sender struct {
	client *http.Client
	tracer trace.Tracer
}

var _ webhooks.Sender = (*Sender)(nil)

// New returns a sender that dials only addresses the policy allows.
func New(opts Options) *Sender {
	if opts.Timeout <= 0 {
		opts.Timeout = Timeout
	}
	policy := opts.Policy
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: dialControl(policy)}
	transport := &http.Transport{
		Proxy: nil, // a proxy would dial for us, out of the policy's reach
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dial(ctx, dialer, opts.Resolver, policy, network, addr)
		},
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &Sender{tracer: opts.Tracer, client: &http.Client{Transport: transport, Timeout: opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// dialControl is the last word: whatever the resolver said, the address connected to must be allowed.
func dialControl(policy webhooks.Policy) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", webhooks.ErrBlocked, address)
		}
		return policy.Allowed(ap.Addr())
	}
}

// dial resolves the host itself and connects to the first allowed address that answers.
func dial(ctx context.Context, d *net.Dialer, r webhooks.Resolver, p webhooks.Policy, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port in %s", addr)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = r.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, fmt.Errorf("resolving %s: %w", host, err)
	}
	err = fmt.Errorf("%s has no address", host)
	for _, ip := range ips {
		if blocked := p.Allowed(ip); blocked != nil {
			err = blocked
			continue
		}
		conn, derr := d.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if derr == nil {
			return conn, nil
		}
		err = derr
	}
	return nil, err
}

// Send makes one attempt.
func (s *Sender) Send(ctx context.Context, r webhooks.Request) webhooks.Response {
	ctx, span := s.startSpan(ctx, r)
	defer span.End()
	start := time.Now()
	resp, err := s.post(ctx, r)
	out := webhooks.Response{Duration: time.Since(start), Err: err}
	if resp != nil {
		out.StatusCode = resp.StatusCode
		out.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	}
	if err != nil || out.StatusCode < 200 || out.StatusCode >= 300 {
		msg := "receiver answered " + strconv.Itoa(out.StatusCode)
		if err != nil {
			msg = err.Error()
		}
		span.SetStatus(codes.Error, msg)
	}
	return out
}

func (s *Sender) post(ctx context.Context, r webhooks.Request) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the endpoint's own; what matters is what went wrong
		}
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()
	return resp, nil
}

// startSpan starts the attempt's span, linked (not parented: the attempt runs long after) to the
// request that caused the event.
func (s *Sender) startSpan(ctx context.Context, r webhooks.Request) (context.Context, trace.Span) {
	if s.tracer == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("webhook.event_type", string(r.EventType)),
		attribute.String("webhook.id", r.Header[webhooks.HeaderID]),
		attribute.Int("webhook.attempt", r.Attempt),
		attribute.String("http.request.method", http.MethodPost),
		attribute.String("server.address", hostOf(r.URL)),
	)}
	if r.TraceParent != "" {
		origin := propagation.TraceContext{}.Extract(context.Background(),
			propagation.MapCarrier{"traceparent": r.TraceParent})
		if sc := trace.SpanContextFromContext(origin); sc.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
		}
	}
	return s.tracer.Start(ctx, "webhook attempt", opts...)
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Hostname()
	}
	return ""
}

// retryAfter reads a Retry-After value: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		if n > int64(webhooks.MaxRetryAfter/time.Second) {
			return webhooks.MaxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
