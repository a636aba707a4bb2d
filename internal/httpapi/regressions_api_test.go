package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

// Placing and cancelling orders over the same products, concurrently and in every line order, never
// deadlocks: both lock products in id order.
func TestPlaceAndCancelNeverDeadlock(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	var products []uuid.UUID
	for i := 0; i < 4; i++ {
		p := f.product(t, apiclient.ProductCreate{Name: "P" + string(rune('A'+i)), PriceCents: 1000, Stock: 100000})
		products = append(products, p.Id)
	}
	_, tokens := f.env.Customers(8, "deadlock")
	var wg sync.WaitGroup
	for w := range tokens {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				items := make([]apiclient.OrderItemCreate, len(products))
				for j := range products {
					items[j] = apiclient.OrderItemCreate{ProductId: products[(j+w+i)%len(products)], Quantity: 1}
				}
				placed := f.place(t, tokens[w], items...)
				if placed.StatusCode() != http.StatusCreated {
					t.Errorf("place: %d %s", placed.StatusCode(), placed.Body)
					return
				}
				c, err := f.env.Client.CancelOrderWithResponse(ctx, placed.JSON201.Data.Id, nil, apiclient.CancellationCreate{}, testenv.Bearer(tokens[w]))
				if err != nil || c.StatusCode() != http.StatusOK {
					t.Errorf("cancel: %v %d %s", err, c.StatusCode(), c.Body)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	for _, id := range products {
		if got := f.stock(t, id); got != 100000 {
			t.Fatalf("stock %d after every order was cancelled", got)
		}
	}
}

// A 409 inside a request that carries an Idempotency-Key stays a 409 (and is replayed as one).
func TestConflictUnderIdempotencyKey(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	env.Register("taken@example.com", "password-123", "First")
	params := &apiclient.RegisterUserParams{IdempotencyKey: ptr(uuid.NewString())}
	body := apiclient.RegisterUserJSONRequestBody{Email: "TAKEN@example.com", Password: "password-456", Name: "Second"}
	for i := 0; i < 2; i++ {
		resp, err := env.Client.RegisterUserWithResponse(ctx, params, body)
		wantError(t, resp, resp.Body, err, http.StatusConflict, "EMAIL_TAKEN")
		if i == 1 && resp.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("the 409 was not stored")
		}
	}
}

// Parallel wrong-password attempts cannot slip past the throttle: exactly MaxLoginFailures are checked.
func TestLoginThrottleUnderConcurrency(t *testing.T) {
	for name, env := range map[string][]string{"postgres": nil, "redis": nil} {
		t.Run(name, func(t *testing.T) {
			if name == "redis" {
				env = testenv.RedisEnv(t)
			}
			e := testenv.Start(t, env...)
			e.Register("victim@example.com", "right-password", "Victim")
			var wg sync.WaitGroup
			var mu sync.Mutex
			counts := map[int]int{}
			for i := 0; i < 30; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := e.Client.LoginWithResponse(context.Background(), apiclient.LoginRequest{Email: "victim@example.com", Password: "wrong-password"})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					counts[resp.StatusCode()]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if counts[http.StatusUnauthorized] != 5 || counts[http.StatusTooManyRequests] != 25 {
				t.Fatalf("outcomes %v, want 5×401 and 25×429", counts)
			}
		})
	}
}
