package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/internal/testenv"
)

// Requests blocked past the drain window do not keep the process alive: with 20 orders waiting on a
// row lock and a pool of 4 connections, serve returns within the window (+1 s), every queued request
// answers 503 with Retry-After (none 500), and every order that was created is whole.
func TestShutdownKeepsItsWindow(t *testing.T) {
	const window = 3 * time.Second
	dbURL := testenv.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": dbURL, "JWT_SECRET": testenv.Secret, "HTTP_ADDR": "127.0.0.1:0",
		"SHUTDOWN_TIMEOUT": window.String(), "DATABASE_MAX_CONNS": "4", "REQUEST_TIMEOUT": "1m"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	if err := run(ctx, []string{"create-admin", "--email", "drain@example.com", "--password", "drain-password"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serveForTest(srvCtx, getenv, &testenv.SyncBuffer{}, ready) }()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}

	call := func(method, path, token, key, body string) (int, http.Header, []byte, error) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b, nil
	}
	var tokens struct {
		Data struct {
			AccessToken string `json:"access_token"`
		}
	}
	if _, _, b, err := call("POST", "/v1/auth/login", "", "", `{"email":"drain@example.com","password":"drain-password"}`); err != nil || json.Unmarshal(b, &tokens) != nil {
		t.Fatalf("login: %v %s", err, b)
	}
	admin := tokens.Data.AccessToken
	var product struct {
		Data struct {
			ID uuid.UUID `json:"id"`
		}
	}
	if status, _, b, err := call("POST", "/v1/products", admin, "", `{"name":"Drained","price_cents":1500,"stock":100}`); err != nil || status != 201 || json.Unmarshal(b, &product) != nil {
		t.Fatalf("product: %d %v %s", status, err, b)
	}

	// Hold the product's row lock, so every order waits (four on the lock, sixteen for a connection).
	holder, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM products WHERE public_id = $1 FOR UPDATE", product.Data.ID); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status     int
		retryAfter string
		body       []byte
		err        error
	}
	answers := make(chan answer, 20)
	var wg sync.WaitGroup
	order := fmt.Sprintf(`{"items":[{"product_id":%q,"quantity":1}],"shipping_address":{"name":"A","line1":"B","city":"C","postal_code":"D","country":"GB"}}`, product.Data.ID)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, h, b, err := call("POST", "/v1/orders", admin, uuid.NewString(), order)
			a := answer{status: status, body: b, err: err}
			if h != nil {
				a.retryAfter = h.Get("Retry-After")
			}
			answers <- a
		}()
	}
	time.Sleep(500 * time.Millisecond) // every request is in, waiting

	started := time.Now()
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(window + 10*time.Second):
		t.Fatal("serve did not return")
	}
	took := time.Since(started)
	_ = tx.Rollback(ctx)
	wg.Wait()
	close(answers)
	if took > window+time.Second {
		t.Errorf("shutdown took %v, window %v", took, window)
	}
	counts := map[int]int{}
	for a := range answers {
		counts[a.status]++
		switch {
		case a.err != nil:
			t.Errorf("a queued request got no answer: %v", a.err)
		case a.status != http.StatusServiceUnavailable:
			t.Errorf("a queued request answered %d: %s", a.status, a.body)
		case !bytes.Contains(a.body, []byte(`"UNAVAILABLE"`)):
			t.Errorf("503 body %s", a.body)
		default:
			if n, err := strconv.Atoi(a.retryAfter); err != nil || n < 1 {
				t.Errorf("503 with Retry-After %q", a.retryAfter)
			}
		}
	}
	t.Logf("shutdown took %v (window %v); answers %v", took, window, counts)

	var orders, withoutItems, stock, taken int64
	for sql, into := range map[string]*int64{
		`SELECT count(*) FROM orders`: &orders,
		`SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)`: &withoutItems,
		`SELECT stock FROM products`:                         &stock,
		`SELECT coalesce(sum(quantity), 0) FROM order_items`: &taken,
	} {
		if err := holder.QueryRow(ctx, sql).Scan(into); err != nil {
			t.Fatal(err)
		}
	}
	if withoutItems != 0 || stock+taken != 100 {
		t.Fatalf("orders %d, without items %d, stock %d + taken %d != 100", orders, withoutItems, stock, taken)
	}
}
