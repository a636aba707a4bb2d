package httpapi_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/storefront/storefront/internal/testenv"
)

// The limiter sends the current IETF draft's fields beside GitHub's and the earlier drafts' names, all
// telling the same numbers, and the draft's policy names the budget (anonymous or the signed-in user's).
func TestRateLimitFields(t *testing.T) {
	env := testenv.Start(t, append(testenv.RedisEnv(t), "RATE_LIMIT_ANONYMOUS_PER_MINUTE=5", "RATE_LIMIT_USER_PER_MINUTE=7")...)
	ctx := context.Background()
	current := regexp.MustCompile(`^"(anonymous|user)";r=([0-9]+);t=([0-9]+)$`)
	check := func(t *testing.T, h http.Header, policy string, quota, remaining int) {
		t.Helper()
		if got, want := h.Get("RateLimit-Policy"), `"`+policy+`";q=`+strconv.Itoa(quota)+`;w=60`; got != want {
			t.Fatalf("RateLimit-Policy %q, want %q", got, want)
		}
		m := current.FindStringSubmatch(h.Get("RateLimit"))
		if m == nil || m[1] != policy || m[2] != strconv.Itoa(remaining) {
			t.Fatalf("RateLimit %q, want policy %s with r=%d", h.Get("RateLimit"), policy, remaining)
		}
		for _, name := range []string{"X-RateLimit-", "RateLimit-"} {
			if h.Get(name+"Limit") != strconv.Itoa(quota) || h.Get(name+"Remaining") != m[2] || h.Get(name+"Reset") != m[3] {
				t.Fatalf("%s* disagree with RateLimit %q: %v", name, h.Get("RateLimit"), h)
			}
		}
	}
	t.Run("anonymous", func(t *testing.T) {
		for i := range 5 {
			resp, err := env.Client.ListCategoriesWithResponse(ctx, nil)
			wantStatus(t, resp, resp.Body, err, http.StatusOK)
			check(t, resp.HTTPResponse.Header, "anonymous", 5, 4-i)
		}
		resp, err := env.Client.ListCategoriesWithResponse(ctx, nil)
		wantError(t, resp, resp.Body, err, http.StatusTooManyRequests, "RATE_LIMITED")
		check(t, resp.HTTPResponse.Header, "anonymous", 5, 0)
	})
	t.Run("signed in", func(t *testing.T) {
		_, tokens := env.Customers(1, "fields") // made directly: the anonymous budget is spent
		resp, err := env.Client.GetMeWithResponse(ctx, testenv.Bearer(tokens[0]))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		check(t, resp.HTTPResponse.Header, "user", 7, 6)
	})
}
