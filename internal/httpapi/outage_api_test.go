package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/postgres"
	"github.com/storefront/storefront/internal/testenv"
)

// migratedDatabase creates and migrates a database on a private cluster.
func migratedDatabase(t *testing.T, pg *testenv.PGServer) string {
	t.Helper()
	url := pg.CreateDatabase("storefront")
	pool, err := postgres.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.Migrate(context.Background(), pool, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return url
}

// statusCounts counts answers by status, safely from many goroutines.
type statusCounts struct {
	mu sync.Mutex
	n  map[int]int
}

func (s *statusCounts) add(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[int]int{}
	}
	s.n[status]++
}

func (s *statusCounts) get(status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[status]
}

// PostgreSQL stopped under load: every request answers 503 UNAVAILABLE with Retry-After (never 500),
// /ready answers 503; started again, the same process recovers by itself; and afterwards the data is
// whole: no order without items, stock equals the initial stock minus what orders took, and one stored
// idempotent response per created order.
func TestDatabaseOutage(t *testing.T) {
	pg := testenv.StartPostgres(t)
	url := migratedDatabase(t, pg)
	env := testenv.Start(t, "DATABASE_URL="+url, "REQUEST_TIMEOUT=3s")
	ctx := context.Background()
	_, admin := env.Admin("outage-admin@example.com")
	const initialStock = 100000
	product := catalogFixture{env, admin}.product(t, apiclient.ProductCreate{Name: "Outage Tea", PriceCents: 1500, Stock: initialStock})
	_, tokens := env.Customers(4, "outage")

	var (
		outage, recovered atomic.Bool
		during, after     statusCounts
		created           atomic.Int64
		stop              = make(chan struct{})
		wg                sync.WaitGroup
	)
	worker := func(token string) {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var status int
			var retryAfter string
			if i%2 == 0 {
				r, err := env.Client.GetProductWithResponse(ctx, product.Id, nil)
				if err != nil {
					t.Error(err)
					return
				}
				status, retryAfter = r.StatusCode(), r.HTTPResponse.Header.Get("Retry-After")
			} else {
				r, err := env.Client.CreateOrderWithResponse(ctx, &apiclient.CreateOrderParams{IdempotencyKey: uuid.NewString()},
					apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: product.Id, Quantity: 1}}, ShippingAddress: address},
					testenv.Bearer(token))
				if err != nil {
					t.Error(err)
					return
				}
				status, retryAfter = r.StatusCode(), r.HTTPResponse.Header.Get("Retry-After")
				if status == http.StatusCreated {
					created.Add(1)
				}
			}
			switch {
			case status >= 500 && status != http.StatusServiceUnavailable:
				t.Errorf("status %d during the test (outage=%v)", status, outage.Load())
			case status == http.StatusServiceUnavailable:
				if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 {
					t.Errorf("503 with Retry-After %q", retryAfter)
				}
			case status != http.StatusOK && status != http.StatusCreated:
				t.Errorf("status %d", status)
			}
			if outage.Load() {
				during.add(status)
			} else if recovered.Load() {
				after.add(status)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, tok := range tokens {
		wg.Add(1)
		go worker(tok)
	}
	time.Sleep(500 * time.Millisecond)

	pg.Stop()
	outage.Store(true)
	time.Sleep(2 * time.Second)
	ready, err := env.Client.GetReadinessWithResponse(ctx)
	if err != nil || ready.StatusCode() != http.StatusServiceUnavailable {
		t.Errorf("/ready during the outage: %v %d", err, ready.StatusCode())
	}
	outage.Store(false)
	pg.Start()
	recovered.Store(true)
	for deadline := time.Now().Add(30 * time.Second); after.get(http.StatusCreated) < 10; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery 30 s after PostgreSQL came back: %v", after.n)
		}
	}
	close(stop)
	wg.Wait()
	if during.get(http.StatusServiceUnavailable) == 0 {
		t.Fatalf("no 503 during the outage: %v", during.n)
	}
	t.Logf("during the outage: %v; after it: %v; orders created: %d", during.n, after.n, created.Load())

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var orders, withoutItems, taken, keys, stock int64
	check := func(sql string, into *int64) {
		if err := conn.QueryRow(ctx, sql).Scan(into); err != nil {
			t.Fatal(err)
		}
	}
	check(`SELECT count(*) FROM orders`, &orders)
	check(`SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)`, &withoutItems)
	check(`SELECT coalesce(sum(quantity), 0) FROM order_items`, &taken)
	check(`SELECT count(*) FROM idempotency_keys WHERE response_status = 201`, &keys)
	check(`SELECT stock FROM products WHERE public_id = '`+product.Id.String()+`'`, &stock)
	if withoutItems != 0 || stock != initialStock-taken || keys != orders || orders < created.Load() {
		t.Fatalf("orders %d (created %d), without items %d, stock %d + taken %d != %d, stored responses %d",
			orders, created.Load(), withoutItems, stock, taken, initialStock, keys)
	}
}
