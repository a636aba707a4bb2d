package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/testenv"
)

// TestMalformedRequestsToEveryOperation is issue 10's spec-driven negative test. For every operation of
// openapi/openapi.yaml it derives malformed requests from the operation's own schema
// (negative_mutations_test.go, negative_params_test.go) and sends them, anonymously and signed in as a customer and as an admin where the operation has
// security, over raw HTTP to one full stack with real resources behind the path ids. Every answer must be
// a status the spec documents for the operation, in the Error shape when it is an error, with no Go
// internals in any message, never a 5xx, and the answer the mutation calls for (mostly 400
// VALIDATION_ERROR naming the field or parameter). Failures are reported one by one (capped) and then
// grouped by operation and mutation kind.
func TestMalformedRequestsToEveryOperation(t *testing.T) {
	started := time.Now()
	// Only errors in the service log, which the test prints when it fails: the 5xx causes, not every request.
	env := testenv.Start(t, "LOG_LEVEL=error", "WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true")
	fx := newNegFixture(t, env)
	rng := rand.New(rand.NewPCG(10, 10))
	var plans []*opPlan
	generated := 0
	for _, op := range loadSpecOps(t) {
		p := &opPlan{op: op, cases: paramCases(op)}
		if op.body != nil {
			example := fx.example(op)
			p.baseBody = encode(example)
			p.cases = append(p.cases, bodyCases(op, example)...)
		}
		p.cases = append(p.cases, cursorCases(op, fx.genuineCursors(op), rng)...)
		generated += len(p.cases)
		plans = append(plans, p)
	}
	if t.Failed() {
		t.FailNow()
	}

	transport := &http.Transport{MaxIdleConnsPerHost: negWorkers}
	t.Cleanup(transport.CloseIdleConnections)
	r := &negRunner{fx: fx, checker: testenv.NewBuiltinResponseChecker(t, env.URL), addr: strings.TrimPrefix(env.URL, "http://"),
		client: &http.Client{Timeout: 30 * time.Second, Transport: transport}, rep: newNegReport()}
	work := make(chan *opPlan)
	var wg sync.WaitGroup
	for range negWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				r.run(p)
			}
		}()
	}
	// The biggest plans first, so the workers finish together.
	slices.SortStableFunc(plans, func(a, b *opPlan) int { return len(b.cases) - len(a.cases) })
	for _, p := range plans {
		work <- p
	}
	close(work)
	wg.Wait()

	t.Logf("negative test: %d operations, %d cases generated, %d requests sent (%d failing), %d more to make resources and find cursors, in %s",
		len(plans), generated, r.sent.Load(), len(r.rep.failures), fx.requests.Load(), time.Since(started).Round(time.Millisecond))
	r.rep.print(t)
}

const negWorkers = 8

type opPlan struct {
	op       *specOp
	cases    []negCase
	baseBody []byte
}

type negRunner struct {
	fx      *negFixture
	checker *testenv.ResponseChecker
	client  *http.Client
	addr    string
	sent    atomic.Int64
	rep     *negReport
}

// callers are who sends each case: anonymous only where the operation is public, else all three.
func (r *negRunner) callers(op *specOp) []negCaller {
	if len(op.security) == 0 {
		return []negCaller{r.fx.anonymous}
	}
	return []negCaller{r.fx.anonymous, r.fx.customer, r.fx.adm}
}

// run sends an operation's cases in order; an operation that uses its target up gets a fresh one after
// every success, so later cases still reach a handler that finds what it looks for.
func (r *negRunner) run(p *opPlan) {
	targets := maps.Clone(r.fx.ids)
	fresh := r.fx.fresh[p.op.id]
	renew := func() {
		if fresh == nil {
			return
		}
		if ids := fresh(); !slices.Contains(slices.Collect(maps.Values(ids)), "") {
			maps.Copy(targets, ids)
		}
	}
	renew()
	for _, c := range p.cases {
		for _, who := range r.callers(p.op) {
			res := r.send(p, c, who, targets)
			problems, code := judge(c, who, res)
			r.rep.add(c, who, res, problems, code)
			if res.status/100 == 2 {
				renew()
			}
		}
	}
}

// negResult is what came back.
type negResult struct {
	status  int
	body    []byte
	err     error // no answer at all
	specErr error // the answer does not match the spec
}

// send builds the case's request on the operation's valid base request and sends it: over net/http, or
// byte for byte on a raw connection when net/http would refuse to send it (control characters in a
// header) or would hide how it goes (bodies over the limit, chunked bodies).
func (r *negRunner) send(p *opPlan, c negCase, who negCaller, targets map[string]string) negResult {
	r.sent.Add(1)
	target := fillPath(c.op.path, targets, c.req.pathParams)
	if c.req.query != "" {
		target += "?" + c.req.query
	}
	var headers [][2]string
	set := func(name, value string) {
		headers = slices.DeleteFunc(headers, func(h [2]string) bool { return strings.EqualFold(h[0], name) })
		headers = append(headers, [2]string{name, value})
	}
	if who.token != "" {
		set("Authorization", "Bearer "+who.token)
	}
	for _, prm := range c.op.params {
		if prm.In == "header" && prm.Required && !strings.EqualFold(prm.Name, c.req.omitHeader) {
			set(prm.Name, uuid.NewString())
		}
	}
	var body []byte
	hasBody := c.req.hasBody || c.op.body != nil
	if c.req.hasBody {
		body = c.req.body
	} else if c.op.body != nil {
		body = p.baseBody
	}
	if bytes.Contains(body, []byte(unique)) {
		body = bytes.ReplaceAll(body, []byte(unique), []byte(fmt.Sprintf("%08d", r.fx.seq.Add(1))))
	}
	if ct := "application/json"; hasBody {
		if c.req.contentType != nil {
			ct = *c.req.contentType
		}
		if ct != "" {
			set("Content-Type", ct)
		}
	}
	for _, h := range c.req.headers {
		set(h[0], h[1])
	}
	probe, err := http.NewRequest(c.op.method, "http://"+r.addr+target, nil)
	if err != nil {
		return negResult{err: err}
	}
	for _, h := range headers {
		probe.Header.Set(h[0], h[1])
	}
	var resp *http.Response
	var respBody []byte
	if c.req.chunked || len(body) > 1<<20 || slices.ContainsFunc(headers, func(h [2]string) bool { return hasCTL(h[1]) }) {
		resp, respBody, err = sendRaw(r.addr, c.op.method, target, headers, body, hasBody, c.req.chunked)
	} else {
		resp, respBody, err = r.sendStd(probe, body, hasBody)
	}
	if err != nil {
		return negResult{err: err}
	}
	return negResult{status: resp.StatusCode, body: respBody, specErr: r.checker.Check(probe, resp, respBody)}
}

func (r *negRunner) sendStd(probe *http.Request, body []byte, hasBody bool) (*http.Response, []byte, error) {
	req := probe.Clone(probe.Context())
	if hasBody {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if len(body) == 0 {
			req.Body = http.NoBody
		}
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// sendRaw writes the request as given and reads the answer while it writes: the server may answer (413)
// before it has read the body.
func sendRaw(addr, method, target string, headers [][2]string, body []byte, hasBody, chunked bool) (*http.Response, []byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, addr)
	for _, h := range headers {
		fmt.Fprintf(&head, "%s: %s\r\n", h[0], h[1])
	}
	var msg net.Buffers // the body is written from where it is, not copied
	switch {
	case chunked:
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		msg = net.Buffers{head.Bytes()}
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 64<<10)
			msg = append(msg, fmt.Appendf(nil, "%x\r\n", n), rest[:n], []byte("\r\n"))
			rest = rest[n:]
		}
		msg = append(msg, []byte("0\r\n\r\n"))
	case hasBody:
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", len(body))
		msg = net.Buffers{head.Bytes(), body}
	default:
		head.WriteString("\r\n")
		msg = net.Buffers{head.Bytes()}
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		_, _ = msg.WriteTo(conn)
	}()
	defer func() { conn.Close(); <-written }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func hasCTL(v string) bool {
	return strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}
