package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

// process is the storefront binary running as a child process.
type process struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs strings.Builder
	addr chan string
	done chan error
}

func startProcess(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), addr: make(chan string, 1), done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), env...)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && (rec.Msg == "listening" || rec.Msg == "webhook workers running") {
				p.addr <- rec.Addr
			}
		}
		_, _ = io.Copy(io.Discard, out)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			p.mu.Lock()
			t.Logf("%s log:\n%s", args[0], p.logs.String())
			p.mu.Unlock()
		}
	})
	select {
	case a := <-p.addr:
		if a != "" {
			p.addr <- a
		}
	case err := <-p.done:
		t.Fatalf("%s exited: %v\n%s", args[0], err, p.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start", args[0])
	}
	return p
}

func (p *process) url() string { return "http://" + <-p.addr }

// buildBinary builds cmd/storefront once for the test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "storefront")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// An instance killed with SIGKILL after committing an order's events, before delivering them, loses
// nothing: the outbox rows and their River jobs committed with the order, and a worker process started
// afterwards delivers both. The same holds for an instance killed while a delivery waits for its retry.
func TestKilledInstanceDeliversAfterRestart(t *testing.T) {
	bin := buildBinary(t)
	dbURL := testenv.NewDatabase(t)
	base := []string{"DATABASE_URL=" + dbURL, "JWT_SECRET=" + testenv.Secret, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true", "REDIS_URL="}
	createAdmin := exec.Command(bin, "create-admin", "--email", "kill-admin@example.com", "--password", "admin-password")
	createAdmin.Env = append(os.Environ(), base...)
	if out, err := createAdmin.CombinedOutput(); err != nil {
		t.Fatalf("create-admin: %v\n%s", err, out)
	}
	var failNext atomic.Bool
	rcv := testenv.NewReceiver(t, func(int, testenv.Hook) testenv.Answer {
		if failNext.CompareAndSwap(true, false) {
			return testenv.Answer{Status: http.StatusServiceUnavailable, Header: map[string]string{"Retry-After": "3"}}
		}
		return testenv.Answer{Status: http.StatusNoContent}
	})

	// An API-only instance (no workers): whatever it commits waits in the queue.
	api := startProcess(t, bin, append(base, "HTTP_ADDR=127.0.0.1:0", "WEBHOOK_WORKERS=0"), "serve")
	client, err := apiclient.NewClientWithResponses(api.url())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	login, err := client.LoginWithResponse(ctx, apiclient.LoginJSONRequestBody{Email: "kill-admin@example.com", Password: "admin-password"})
	if err != nil || login.JSON200 == nil {
		t.Fatalf("login: %v %s", err, login.Body)
	}
	admin := testenv.Bearer(login.JSON200.Data.AccessToken)
	ep, err := client.CreateWebhookEndpointWithResponse(ctx, apiclient.WebhookEndpointCreate{Url: rcv.URL,
		EventTypes: []apiclient.EventType{apiclient.EventOrderCreated, apiclient.EventOrderPaid}}, admin)
	if err != nil || ep.JSON201 == nil {
		t.Fatalf("endpoint: %v %s", err, ep.Body)
	}
	product, err := client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1250, Stock: 5}, admin)
	if err != nil || product.JSON201 == nil {
		t.Fatalf("product: %v %s", err, product.Body)
	}
	if r, err := client.RegisterUserWithResponse(ctx, nil, apiclient.RegisterUserJSONRequestBody{Email: "kill-buyer@example.com",
		Password: "customer-password", Name: "Buyer"}); err != nil || r.StatusCode() != http.StatusCreated {
		t.Fatalf("register: %v", err)
	}
	buyer, err := client.LoginWithResponse(ctx, apiclient.LoginJSONRequestBody{Email: "kill-buyer@example.com", Password: "customer-password"})
	if err != nil || buyer.JSON200 == nil {
		t.Fatalf("login: %v", err)
	}
	customer := testenv.Bearer(buyer.JSON200.Data.AccessToken)
	order, err := client.CreateOrderWithResponse(ctx, &apiclient.CreateOrderParams{IdempotencyKey: uuid.NewString()}, apiclient.OrderCreate{
		Items:           []apiclient.OrderItemCreate{{ProductId: product.JSON201.Data.Id, Quantity: 1}},
		ShippingAddress: apiclient.ShippingAddress{Name: "A", Line1: "B", City: "C", PostalCode: "D", Country: "GB"}}, customer)
	if err != nil || order.JSON201 == nil {
		t.Fatalf("order: %v %s", err, order.Body)
	}
	paid, err := client.PayOrderWithResponse(ctx, order.JSON201.Data.Id, &apiclient.PayOrderParams{IdempotencyKey: uuid.NewString()},
		apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, customer)
	if err != nil || paid.JSON200 == nil {
		t.Fatalf("pay: %v %s", err, paid.Body)
	}
	evs, err := client.ListEventsWithResponse(ctx, &apiclient.ListEventsParams{ResourceId: &order.JSON201.Data.Id}, admin)
	if err != nil || evs.JSON200 == nil || len(evs.JSON200.Data) != 2 {
		t.Fatalf("events: %v %s", err, evs.Body)
	}

	if err := api.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-api.done; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the instance exited with %v, not by SIGKILL", err)
	}
	if n := len(rcv.Hooks()); n != 0 {
		t.Fatalf("%d deliveries before the restart", n)
	}

	worker := startProcess(t, bin, append(base, "WEBHOOK_WORKERS=2"), "worker")
	hooks := rcv.WaitFor(t, 30*time.Second, "both deliveries after the restart", func(h []testenv.Hook) bool { return len(h) >= 2 })
	want := map[string]bool{evs.JSON200.Data[0].Id.String(): true, evs.JSON200.Data[1].Id.String(): true}
	for _, h := range hooks {
		if !want[h.ID] {
			t.Fatalf("delivery %s is not one of the events %v", h.ID, want)
		}
		delete(want, h.ID)
	}
	if len(want) != 0 || len(hooks) != 2 {
		t.Fatalf("%d deliveries; missing %v", len(hooks), want)
	}

	// The worker stops cleanly on SIGTERM.
	worker.stop(t)

	// Killed with a retry pending: an instance running workers fails its first attempt (503,
	// Retry-After: 3) and is killed; the instance started in its place makes the retry.
	failNext.Store(true)
	serving := startProcess(t, bin, append(base, "HTTP_ADDR=127.0.0.1:0", "WEBHOOK_WORKERS=2"), "serve")
	client, err = apiclient.NewClientWithResponses(serving.url())
	if err != nil {
		t.Fatal(err)
	}
	again, err := client.CreateOrderWithResponse(ctx, &apiclient.CreateOrderParams{IdempotencyKey: uuid.NewString()}, apiclient.OrderCreate{
		Items:           []apiclient.OrderItemCreate{{ProductId: product.JSON201.Data.Id, Quantity: 1}},
		ShippingAddress: apiclient.ShippingAddress{Name: "A", Line1: "B", City: "C", PostalCode: "D", Country: "GB"}}, customer)
	if err != nil || again.JSON201 == nil {
		t.Fatalf("order: %v %s", err, again.Body)
	}
	rcv.WaitFor(t, 30*time.Second, "the failed first attempt", func(h []testenv.Hook) bool { return len(h) == 3 })
	time.Sleep(200 * time.Millisecond) // recorded
	if err := serving.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-serving.done
	restarted := startProcess(t, bin, append(base, "HTTP_ADDR=127.0.0.1:0", "WEBHOOK_WORKERS=2"), "serve")
	hooks = rcv.WaitFor(t, 30*time.Second, "the retry after the restart", func(h []testenv.Hook) bool { return len(h) == 4 })
	if hooks[2].ID != hooks[3].ID || hooks[3].At.Sub(hooks[2].At) < 3*time.Second {
		t.Fatalf("retry %s after %s, first attempt %s", hooks[3].ID, hooks[3].At.Sub(hooks[2].At), hooks[2].ID)
	}
	restarted.stop(t)
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
}
