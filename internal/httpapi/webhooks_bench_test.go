package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/testenv"
)

// BenchmarkOrderWebhooks measures what two webhook endpoints subscribed to order.created add to placing
// an order (the whole API request, as BenchmarkOrderCreate's "api"): the request then also writes two
// deliveries and enqueues two River jobs in its transaction. The machine's load drifts, so one database
// serves both cases in alternating batches of 20 orders (the endpoints enabled, then disabled), and the
// benchmark reports each case's orders/s and how much longer an order with endpoints takes.
//
// "request" runs no workers, as when `storefront worker` runs elsewhere: the cost of the request alone.
// "workers in process" runs them in the same process, so the deliveries (to an in-process receiver)
// compete with the requests for the same cores and the same database; each batch with endpoints is
// delivered before the next batch starts.
func BenchmarkOrderWebhooks(b *testing.B) {
	for _, c := range []struct {
		name    string
		workers bool
	}{{"request", false}, {"workers in process", true}} {
		env := testenv.StartWith(b, app.Options{RunWorkers: c.workers}, "LOG_LEVEL=error", "WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true")
		ctx := context.Background()
		_, admin := env.Admin("bench-admin@example.com")
		_, tokens := env.Customers(1, "bench")
		resp, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Bench Tea", PriceCents: 1500, Stock: 1000000}, testenv.Bearer(admin))
		if err != nil || resp.StatusCode() != http.StatusCreated {
			b.Fatalf("product: %v %s", err, resp.Body)
		}
		rcv := testenv.NewReceiver(b, nil)
		for range 2 {
			ep, err := env.Client.CreateWebhookEndpointWithResponse(ctx, apiclient.WebhookEndpointCreate{Url: rcv.URL,
				EventTypes: []apiclient.EventType{apiclient.EventOrderCreated}}, testenv.Bearer(admin))
			if err != nil || ep.StatusCode() != http.StatusCreated {
				b.Fatalf("endpoint: %v %s", err, ep.Body)
			}
		}
		body := apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: resp.JSON201.Data.Id, Quantity: 1}}, ShippingAddress: address}
		client, err := apiclient.NewClientWithResponses(env.URL) // no spec check: measure the server
		if err != nil {
			b.Fatal(err)
		}
		setEndpoints := func(on bool) {
			if _, err := env.App.Pool.Exec(ctx, "UPDATE webhook_endpoints SET enabled = $1", on); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			const batch = 20
			var spent [2]time.Duration // [without, with]
			var orders [2]int
			delivered := len(rcv.Hooks())
			for i := 0; b.Loop(); i++ {
				with := (i / batch) % 2
				if i%batch == 0 {
					b.StopTimer()
					if c.workers { // the previous batch is delivered before this one starts
						rcv.WaitFor(b, time.Minute, "the batch's deliveries", func(h []testenv.Hook) bool { return len(h) >= delivered })
					}
					setEndpoints(with == 1)
					b.StartTimer()
				}
				start := time.Now()
				r, err := client.CreateOrderWithResponse(ctx, &apiclient.CreateOrderParams{IdempotencyKey: uuid.NewString()}, body, testenv.Bearer(tokens[0]))
				if err != nil || r.StatusCode() != http.StatusCreated {
					b.Fatalf("order: %v %d %s", err, r.StatusCode(), r.Body)
				}
				spent[with] += time.Since(start)
				orders[with]++
				delivered += 2 * with
			}
			if orders[0] == 0 || orders[1] == 0 {
				return // the first, one-iteration round
			}
			without, with := spent[0]/time.Duration(orders[0]), spent[1]/time.Duration(orders[1])
			b.ReportMetric(float64(time.Second/without), "orders/s-no-endpoints")
			b.ReportMetric(float64(time.Second/with), "orders/s-two-endpoints")
			b.ReportMetric(100*(float64(with)/float64(without)-1), "%-longer")

		})
		setEndpoints(true)
	}
}
