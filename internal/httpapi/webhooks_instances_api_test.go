package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/testenv"
)

// Two instances run workers on one database: 200 events, written half through each, give exactly 200
// successful deliveries, each attempted once, by workers of both instances; the receiver counts
// distinct webhook-ids and requests, so a duplicate would show.
func TestWebhooksWithTwoInstances(t *testing.T) {
	const events = 200
	opts := app.Options{RunWorkers: true, Webhooks: app.WebhookOptions{Schedule: fastSchedule}}
	one := testenv.StartWith(t, opts, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true")
	two := testenv.StartWith(t, opts, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true", "DATABASE_URL="+one.DatabaseURL())
	_, admin := one.Admin("instances-admin@example.com")
	rcv := testenv.NewReceiver(t, nil)
	f := hookFixture{orderFixture{catalogFixture{one, admin}, ""}}
	f.subscribe(t, rcv.URL, apiclient.EventProductCreated)

	var wg sync.WaitGroup
	errs := make(chan error, events)
	for w := range 8 {
		env := []*testenv.Env{one, two}[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < events; i += 8 {
				resp, err := env.Client.CreateProductWithResponse(context.Background(), nil,
					apiclient.ProductCreate{Name: fmt.Sprintf("Product %d", i), PriceCents: 100, Stock: 1}, testenv.Bearer(admin))
				if err != nil || resp.StatusCode() != http.StatusCreated {
					errs <- fmt.Errorf("product %d: %v %d", i, err, resp.StatusCode())
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	distinct := func(hooks []testenv.Hook) int {
		ids := map[string]bool{}
		for _, h := range hooks {
			ids[h.ID] = true
		}
		return len(ids)
	}
	rcv.WaitFor(t, 90*time.Second, "200 distinct deliveries", func(h []testenv.Hook) bool { return distinct(h) >= events })
	time.Sleep(time.Second) // let any duplicate arrive
	hooks := rcv.Hooks()
	t.Logf("%d events: %d distinct webhook-ids, %d requests, %d duplicates", events, distinct(hooks), len(hooks), len(hooks)-distinct(hooks))
	if distinct(hooks) != events || len(hooks) != events {
		t.Fatalf("%d distinct webhook-ids in %d requests, want %d in %d", distinct(hooks), len(hooks), events, events)
	}
	ctx := context.Background()
	var succeeded, attempts int
	if err := one.App.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'succeeded'), coalesce(sum(attempts), 0)
		FROM webhook_deliveries`).Scan(&succeeded, &attempts); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for succeeded != events && time.Now().Before(deadline) { // the last ones are recorded just after they are answered
		time.Sleep(50 * time.Millisecond)
		_ = one.App.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'succeeded'), coalesce(sum(attempts), 0)
			FROM webhook_deliveries`).Scan(&succeeded, &attempts)
	}
	if succeeded != events || attempts != events {
		t.Fatalf("%d deliveries succeeded with %d attempts, want %d and %d", succeeded, attempts, events, events)
	}
	rows, err := one.App.Pool.Query(ctx, `SELECT attempted_by[array_upper(attempted_by, 1)], count(*) FROM river_job GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	workers := map[string]int{}
	for rows.Next() {
		var client string
		var n int
		if err := rows.Scan(&client, &n); err != nil {
			t.Fatal(err)
		}
		workers[client] = n
	}
	t.Logf("jobs worked per instance: %v", workers)
	if len(workers) != 2 {
		t.Fatalf("jobs were worked by %d instances, want both: %v", len(workers), workers)
	}
}
