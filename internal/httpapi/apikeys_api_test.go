package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/testenv"
)

// A key's lifecycle through the generated client: the secret once, both header forms, scopes,
// ownership, the admin's rate-limit override, revocation.
func TestAPIKeys(t *testing.T) {
	env := testenv.Start(t, testenv.RedisEnv(t)...)
	ctx := context.Background()
	adminUser, admin := env.Admin("keys-admin@example.com")
	customerUser, customer := env.Customer("keys-customer@example.com")

	created, err := env.Client.CreateApiKeyWithResponse(ctx, apiclient.ApiKeyCreate{Name: "Inventory sync",
		Scopes: []apiclient.Scope{apiclient.CatalogRead, apiclient.CatalogWrite}}, testenv.Bearer(admin))
	wantStatus(t, created, created.Body, err, http.StatusCreated)
	k := created.JSON201.Data
	h := created.HTTPResponse.Header
	if !strings.HasPrefix(k.Secret, "sk_test_") || len(k.Secret) != 57 || k.LastFour != k.Secret[53:] || k.Prefix != "sk_test_" ||
		k.OwnerId != adminUser.Id || len(k.Scopes) != 2 || k.LastUsedAt != nil || k.RevokedAt != nil {
		t.Fatalf("created %+v", k)
	}
	if h.Get("Location") != "/v1/api-keys/"+k.Id.String() || h.Get("Cache-Control") != "no-store" || h.Get("ETag") == "" {
		t.Fatalf("headers %v", h)
	}

	t.Run("the secret is shown once: never by get or list", func(t *testing.T) {
		got, err := env.Client.GetApiKeyWithResponse(ctx, k.Id, nil, testenv.Bearer(admin))
		wantStatus(t, got, got.Body, err, http.StatusOK)
		list, err := env.Client.ListApiKeysWithResponse(ctx, nil, testenv.Bearer(admin))
		wantStatus(t, list, list.Body, err, http.StatusOK)
		for _, body := range [][]byte{got.Body, list.Body} {
			if strings.Contains(string(body), k.Secret) || strings.Contains(string(body), k.Secret[8:50]) || strings.Contains(string(body), `"secret"`) {
				t.Fatalf("secret shown again: %s", body)
			}
		}
		if len(list.JSON200.Data) != 1 || list.JSON200.Data[0].Id != k.Id || list.JSON200.Data[0].LastFour != k.LastFour {
			t.Fatalf("list %s", list.Body)
		}
	})

	t.Run("both header forms authenticate as the owner", func(t *testing.T) {
		for name, auth := range map[string]apiclient.RequestEditorFn{"X-API-Key": testenv.APIKey(k.Secret), "Authorization: Bearer": testenv.Bearer(k.Secret)} {
			me, err := env.Client.GetMeWithResponse(ctx, auth)
			wantStatus(t, me, me.Body, err, http.StatusOK)
			if me.JSON200.Data.Id != adminUser.Id {
				t.Fatalf("%s: authenticated as %s", name, me.JSON200.Data.Id)
			}
			p, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Key tea " + name, PriceCents: 900, Stock: 1}, auth)
			wantStatus(t, p, p.Body, err, http.StatusCreated)
		}
		both, err := env.Client.GetMeWithResponse(ctx, testenv.APIKey(k.Secret), testenv.Bearer(admin))
		wantError(t, both, both.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		if !strings.Contains(env.Logs(), `"api_key_id":"`+k.Id.String()+`"`) {
			t.Fatal("the access log does not record which key acted")
		}
		if strings.Contains(env.Logs(), k.Secret) {
			t.Fatal("the secret is in the log")
		}
	})

	t.Run("last use is recorded", func(t *testing.T) {
		got, err := env.Client.GetApiKeyWithResponse(ctx, k.Id, nil, testenv.Bearer(admin))
		wantStatus(t, got, got.Body, err, http.StatusOK)
		if got.JSON200.Data.LastUsedAt == nil || time.Since(*got.JSON200.Data.LastUsedAt) > time.Minute {
			t.Fatalf("last_used_at %v", got.JSON200.Data.LastUsedAt)
		}
	})

	t.Run("a key with read-only catalog scope reads inactive products and gets 403 on a write", func(t *testing.T) {
		hidden, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Unreleased", PriceCents: 900, Stock: 1, Active: ptr(false)}, testenv.Bearer(admin))
		wantStatus(t, hidden, hidden.Body, err, http.StatusCreated)
		reader := env.CreateAPIKey(admin, "Read only", apiclient.CatalogRead)
		got, err := env.Client.GetProductWithResponse(ctx, hidden.JSON201.Data.Id, nil, testenv.APIKey(reader.Secret))
		wantStatus(t, got, got.Body, err, http.StatusOK)
		anon, err := env.Client.GetProductWithResponse(ctx, hidden.JSON201.Data.Id, nil)
		wantError(t, anon, anon.Body, err, http.StatusNotFound, "NOT_FOUND")
		w, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Nope", PriceCents: 900, Stock: 1}, testenv.APIKey(reader.Secret))
		e := wantError(t, w, w.Body, err, http.StatusForbidden, "FORBIDDEN")
		if !strings.Contains(e.Message, "catalog:write") {
			t.Fatalf("message %q", e.Message)
		}
	})

	t.Run("scopes are a subset of the caller's", func(t *testing.T) {
		resp, err := env.Client.CreateApiKeyWithResponse(ctx, apiclient.ApiKeyCreate{Name: "Escalate", Scopes: []apiclient.Scope{apiclient.CatalogWrite}}, testenv.Bearer(customer))
		e := wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
		if !strings.Contains(e.Message, "catalog:write") {
			t.Fatalf("message %q", e.Message)
		}
		own := env.CreateAPIKey(customer, "Mine", apiclient.OrdersWrite)
		if own.OwnerId != customerUser.Id {
			t.Fatalf("owner %s", own.OwnerId)
		}
		unknown, err := env.Client.CreateApiKeyWithResponse(ctx, apiclient.ApiKeyCreate{Name: "x", Scopes: []apiclient.Scope{"root"}}, testenv.Bearer(customer))
		wantError(t, unknown, unknown.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})

	t.Run("invalid requests", func(t *testing.T) {
		past := time.Now().Add(-time.Hour)
		for name, body := range map[string]apiclient.ApiKeyCreate{
			"blank name":   {Name: "   ", Scopes: []apiclient.Scope{}},
			"past expiry":  {Name: "x", Scopes: []apiclient.Scope{}, ExpiresAt: &past},
			"scope twice":  {Name: "x", Scopes: []apiclient.Scope{apiclient.OrdersWrite, apiclient.OrdersWrite}},
			"far future":   {Name: "x", Scopes: []apiclient.Scope{}, ExpiresAt: ptr(time.Now().Add(11 * 365 * 24 * time.Hour))},
			"long name":    {Name: strings.Repeat("n", 101), Scopes: []apiclient.Scope{}},
			"empty name":   {Name: "", Scopes: []apiclient.Scope{}},
			"bad time utc": {Name: "x", Scopes: []apiclient.Scope{}, ExpiresAt: ptr(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC))},
		} {
			t.Run(name, func(t *testing.T) {
				resp, err := env.Client.CreateApiKeyWithResponse(ctx, body, testenv.Bearer(customer))
				wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
			})
		}
		raw, err := env.Client.CreateApiKeyWithBodyWithResponse(ctx, "application/json", jsonBody(`{"name":"x","scopes":[],"secret":"sk_test_mine"}`), testenv.Bearer(customer))
		wantError(t, raw, raw.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		anon, err := env.Client.CreateApiKeyWithResponse(ctx, apiclient.ApiKeyCreate{Name: "x", Scopes: []apiclient.Scope{}})
		wantError(t, anon, anon.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})

	t.Run("keys cannot manage keys or accounts", func(t *testing.T) {
		child, err := env.Client.CreateApiKeyWithResponse(ctx, apiclient.ApiKeyCreate{Name: "Child", Scopes: []apiclient.Scope{}}, testenv.APIKey(k.Secret))
		wantError(t, child, child.Body, err, http.StatusForbidden, "FORBIDDEN")
		list, err := env.Client.ListApiKeysWithResponse(ctx, nil, testenv.Bearer(k.Secret))
		wantError(t, list, list.Body, err, http.StatusForbidden, "FORBIDDEN")
		del, err := env.Client.RevokeApiKeyWithResponse(ctx, k.Id, nil, testenv.APIKey(k.Secret))
		wantError(t, del, del.Body, err, http.StatusForbidden, "FORBIDDEN")
		upd, err := env.Client.UpdateUserWithResponse(ctx, adminUser.Id, nil, apiclient.UpdateUserJSONRequestBody{Name: ptr("Renamed")}, testenv.APIKey(k.Secret))
		wantError(t, upd, upd.Body, err, http.StatusForbidden, "FORBIDDEN")
	})

	t.Run("other users' keys are not found; only admins list another owner's", func(t *testing.T) {
		get, err := env.Client.GetApiKeyWithResponse(ctx, k.Id, nil, testenv.Bearer(customer))
		wantError(t, get, get.Body, err, http.StatusNotFound, "NOT_FOUND")
		del, err := env.Client.RevokeApiKeyWithResponse(ctx, k.Id, nil, testenv.Bearer(customer))
		wantError(t, del, del.Body, err, http.StatusNotFound, "NOT_FOUND")
		others, err := env.Client.ListApiKeysWithResponse(ctx, &apiclient.ListApiKeysParams{OwnerId: &adminUser.Id}, testenv.Bearer(customer))
		wantError(t, others, others.Body, err, http.StatusForbidden, "FORBIDDEN")
		mine, err := env.Client.ListApiKeysWithResponse(ctx, &apiclient.ListApiKeysParams{OwnerId: &customerUser.Id, Count: ptr(apiclient.ListApiKeysParamsCountExact)}, testenv.Bearer(customer))
		wantStatus(t, mine, mine.Body, err, http.StatusOK)
		if len(mine.JSON200.Data) != 1 || *mine.JSON200.Meta.Total != 1 {
			t.Fatalf("customer's keys %s", mine.Body)
		}
		byAdmin, err := env.Client.ListApiKeysWithResponse(ctx, &apiclient.ListApiKeysParams{OwnerId: &customerUser.Id}, testenv.Bearer(admin))
		wantStatus(t, byAdmin, byAdmin.Body, err, http.StatusOK)
		if len(byAdmin.JSON200.Data) != 1 || byAdmin.JSON200.Data[0].OwnerId != customerUser.Id {
			t.Fatalf("admin's view of the customer's keys %s", byAdmin.Body)
		}
		missing, err := env.Client.GetApiKeyWithResponse(ctx, customerUser.Id, nil, testenv.Bearer(admin))
		wantError(t, missing, missing.Body, err, http.StatusNotFound, "NOT_FOUND")
	})

	t.Run("pages", func(t *testing.T) {
		for range 3 {
			env.CreateAPIKey(admin, "Paged")
		}
		seen := map[string]bool{}
		params := &apiclient.ListApiKeysParams{Limit: ptr(int32(2)), Sort: ptr(apiclient.ListApiKeysParamsSortCreatedAt)}
		for {
			resp, err := env.Client.ListApiKeysWithResponse(ctx, params, testenv.Bearer(admin))
			wantStatus(t, resp, resp.Body, err, http.StatusOK)
			for _, key := range resp.JSON200.Data {
				if seen[key.Id.String()] {
					t.Fatalf("%s repeated", key.Id)
				}
				seen[key.Id.String()] = true
			}
			if !resp.JSON200.Meta.HasMore {
				break
			}
			params.Cursor = resp.JSON200.Meta.NextCursor
		}
		if len(seen) != 5 { // the first key, the read-only one, three paged
			t.Fatalf("saw %d keys", len(seen))
		}
	})

	t.Run("renaming is the owner's; the rate limit is the admin's", func(t *testing.T) {
		own := env.CreateAPIKey(customer, "Before")
		ren, err := env.Client.UpdateApiKeyWithResponse(ctx, own.Id, nil, apiclient.ApiKeyPatch{Name: ptr("After")}, testenv.Bearer(customer))
		wantStatus(t, ren, ren.Body, err, http.StatusOK)
		if ren.JSON200.Data.Name != "After" || ren.HTTPResponse.Header.Get("ETag") != `"2"` {
			t.Fatalf("renamed %s (ETag %s)", ren.Body, ren.HTTPResponse.Header.Get("ETag"))
		}
		rate, err := env.Client.UpdateApiKeyWithResponse(ctx, own.Id, nil, apiclient.ApiKeyPatch{RateLimitPerMinute: ptr(int32(5000))}, testenv.Bearer(customer))
		wantError(t, rate, rate.Body, err, http.StatusForbidden, "FORBIDDEN")
		rate, err = env.Client.UpdateApiKeyWithResponse(ctx, own.Id, nil, apiclient.ApiKeyPatch{RateLimitPerMinute: ptr(int32(5000))}, testenv.Bearer(admin))
		wantStatus(t, rate, rate.Body, err, http.StatusOK)
		if r := rate.JSON200.Data.RateLimitPerMinute; r == nil || *r != 5000 {
			t.Fatalf("rate limit %s", rate.Body)
		}
		reset, err := env.Client.UpdateApiKeyWithResponse(ctx, own.Id, nil, apiclient.ApiKeyPatch{RateLimitPerMinute: ptr(int32(0))}, testenv.Bearer(admin))
		wantStatus(t, reset, reset.Body, err, http.StatusOK)
		if reset.JSON200.Data.RateLimitPerMinute != nil {
			t.Fatalf("override not cleared: %s", reset.Body)
		}
		stale, err := env.Client.UpdateApiKeyWithResponse(ctx, own.Id, &apiclient.UpdateApiKeyParams{IfMatch: ptr(`"1"`)}, apiclient.ApiKeyPatch{Name: ptr("x")}, testenv.Bearer(customer))
		wantError(t, stale, stale.Body, err, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
		empty, err := env.Client.UpdateApiKeyWithBodyWithResponse(ctx, own.Id, nil, "application/json", jsonBody(`{}`), testenv.Bearer(customer))
		wantError(t, empty, empty.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		notModified, err := env.Client.GetApiKeyWithResponse(ctx, own.Id, &apiclient.GetApiKeyParams{IfNoneMatch: ptr(reset.HTTPResponse.Header.Get("ETag"))}, testenv.Bearer(customer))
		wantStatus(t, notModified, notModified.Body, err, http.StatusNotModified)
	})

	t.Run("a revoked key answers 401; revoking again changes nothing", func(t *testing.T) {
		victim := env.CreateAPIKey(customer, "Leaked", apiclient.OrdersWrite)
		me, err := env.Client.GetMeWithResponse(ctx, testenv.APIKey(victim.Secret))
		wantStatus(t, me, me.Body, err, http.StatusOK)
		stale, err := env.Client.RevokeApiKeyWithResponse(ctx, victim.Id, &apiclient.RevokeApiKeyParams{IfMatch: ptr(`"7"`)}, testenv.Bearer(customer))
		wantError(t, stale, stale.Body, err, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
		for range 2 {
			del, err := env.Client.RevokeApiKeyWithResponse(ctx, victim.Id, nil, testenv.Bearer(customer))
			wantStatus(t, del, del.Body, err, http.StatusNoContent)
		}
		me, err = env.Client.GetMeWithResponse(ctx, testenv.APIKey(victim.Secret))
		wantError(t, me, me.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		got, err := env.Client.GetApiKeyWithResponse(ctx, victim.Id, nil, testenv.Bearer(customer))
		wantStatus(t, got, got.Body, err, http.StatusOK)
		if got.JSON200.Data.RevokedAt == nil {
			t.Fatalf("revoked_at missing: %s", got.Body)
		}
		upd, err := env.Client.UpdateApiKeyWithResponse(ctx, victim.Id, nil, apiclient.ApiKeyPatch{Name: ptr("x")}, testenv.Bearer(customer))
		wantError(t, upd, upd.Body, err, http.StatusConflict, "CONFLICT")
	})

	t.Run("malformed and unknown keys answer 401", func(t *testing.T) {
		typo := k.Secret[:20] + flip(k.Secret[20]) + k.Secret[21:]
		live := "sk_live_" + k.Secret[8:]
		other := env.CreateAPIKey(admin, "Other")
		revoked := other.Secret
		del, err := env.Client.RevokeApiKeyWithResponse(ctx, other.Id, nil, testenv.Bearer(admin))
		wantStatus(t, del, del.Body, err, http.StatusNoContent)
		for name, secret := range map[string]string{"typo": typo, "truncated": k.Secret[:56], "production key on a test service": live,
			"not a key": "sk_nonsense", "revoked": revoked, "empty": ""} {
			// GET /v1/products admits anonymous callers, but a credential that is sent must be valid.
			for form, auth := range map[string]apiclient.RequestEditorFn{"X-API-Key": testenv.APIKey(secret), "Bearer": testenv.Bearer(secret)} {
				t.Run(name+" as "+form, func(t *testing.T) {
					resp, err := env.Client.ListProductsWithResponse(ctx, nil, auth)
					wantError(t, resp, resp.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
				})
			}
		}
	})
}

// flip changes one base62 character to another.
func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

// Revocation, expiry, demotion and suspension take effect through a second instance on its very next
// request, although that instance holds the key's credential in its own memory.
func TestAPIKeysAcrossInstances(t *testing.T) {
	redisEnv := testenv.RedisEnv(t)
	a := testenv.Start(t, redisEnv...)
	b := testenv.Start(t, append(redisEnv, "DATABASE_URL="+a.DatabaseURL())...)
	ctx := context.Background()
	partnerUser, partner := a.Admin("partner-admin@example.com")
	_, boss := a.Admin("boss-admin@example.com")

	// warm makes b serve the key's credential from its client-side cache.
	warm := func(t *testing.T, secret string) {
		t.Helper()
		for range 3 {
			me, err := b.Client.GetMeWithResponse(ctx, testenv.APIKey(secret))
			wantStatus(t, me, me.Body, err, http.StatusOK)
		}
	}
	t.Run("revoked on A: 401 on B at once", func(t *testing.T) {
		k := a.CreateAPIKey(partner, "Revoke me")
		warm(t, k.Secret)
		hits := b.App.Cache.Stats.LocalHits.Load()
		warm(t, k.Secret)
		if b.App.Cache.Stats.LocalHits.Load() <= hits {
			t.Fatal("B does not serve the credential from its memory: the test would prove nothing")
		}
		del, err := a.Client.RevokeApiKeyWithResponse(ctx, k.Id, nil, testenv.Bearer(partner))
		wantStatus(t, del, del.Body, err, http.StatusNoContent)
		me, err := b.Client.GetMeWithResponse(ctx, testenv.APIKey(k.Secret))
		wantError(t, me, me.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("expired: 401 on B at once", func(t *testing.T) {
		expires := time.Now().Add(1500 * time.Millisecond)
		resp, err := a.Client.CreateApiKeyWithResponse(ctx, apiclient.ApiKeyCreate{Name: "Short-lived", Scopes: []apiclient.Scope{}, ExpiresAt: &expires}, testenv.Bearer(partner))
		wantStatus(t, resp, resp.Body, err, http.StatusCreated)
		warm(t, resp.JSON201.Data.Secret)
		time.Sleep(time.Until(expires) + 10*time.Millisecond)
		me, err := b.Client.GetMeWithResponse(ctx, testenv.APIKey(resp.JSON201.Data.Secret))
		wantError(t, me, me.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("the owner's demotion applies through the key on the next request", func(t *testing.T) {
		k := a.CreateAPIKey(partner, "Catalog bot", apiclient.CatalogWrite)
		warm(t, k.Secret)
		c, err := b.Client.CreateCategoryWithResponse(ctx, nil, apiclient.CategoryCreate{Name: "Before demotion"}, testenv.APIKey(k.Secret))
		wantStatus(t, c, c.Body, err, http.StatusCreated)
		demote, err := a.Client.UpdateUserWithResponse(ctx, partnerUser.Id, nil, apiclient.UserPatch{Role: ptr(apiclient.Customer)}, testenv.Bearer(boss))
		wantStatus(t, demote, demote.Body, err, http.StatusOK)
		c, err = b.Client.CreateCategoryWithResponse(ctx, nil, apiclient.CategoryCreate{Name: "After demotion"}, testenv.APIKey(k.Secret))
		wantError(t, c, c.Body, err, http.StatusForbidden, "FORBIDDEN")
		me, err := b.Client.GetMeWithResponse(ctx, testenv.APIKey(k.Secret))
		wantStatus(t, me, me.Body, err, http.StatusOK) // still the owner, with what a customer may do

		t.Run("and a promotion does not widen a key past its scopes", func(t *testing.T) {
			back, err := a.Client.UpdateUserWithResponse(ctx, partnerUser.Id, nil, apiclient.UserPatch{Role: ptr(apiclient.Admin)}, testenv.Bearer(boss))
			wantStatus(t, back, back.Body, err, http.StatusOK)
			c, err := b.Client.CreateCategoryWithResponse(ctx, nil, apiclient.CategoryCreate{Name: "After promotion"}, testenv.APIKey(k.Secret))
			wantStatus(t, c, c.Body, err, http.StatusCreated)
			users, err := b.Client.ListUsersWithResponse(ctx, nil, testenv.APIKey(k.Secret))
			wantError(t, users, users.Body, err, http.StatusForbidden, "FORBIDDEN")
		})
		t.Run("the owner's suspension refuses the key", func(t *testing.T) {
			s, err := a.Client.UpdateUserWithResponse(ctx, partnerUser.Id, nil, apiclient.UserPatch{Status: ptr(apiclient.Suspended)}, testenv.Bearer(boss))
			wantStatus(t, s, s.Body, err, http.StatusOK)
			me, err := b.Client.GetMeWithResponse(ctx, testenv.APIKey(k.Secret))
			wantError(t, me, me.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		})
	})
}

// A key's requests count against its own budget, shared by every instance and independent of its
// owner's user budget; an admin's override replaces the default tier.
func TestAPIKeyRateLimitTier(t *testing.T) {
	redisEnv := append(testenv.RedisEnv(t), "RATE_LIMIT_API_KEY_PER_MINUTE=5", "RATE_LIMIT_USER_PER_MINUTE=40")
	a := testenv.Start(t, redisEnv...)
	b := testenv.Start(t, append(redisEnv, "DATABASE_URL="+a.DatabaseURL())...)
	ctx := context.Background()
	_, admin := a.Admin("tier-admin@example.com")
	_, owner := a.Customer("tier-owner@example.com")
	k := a.CreateAPIKey(owner, "Busy integration")

	allowed, limited := 0, 0
	for i := range 10 {
		env := a
		if i%2 == 1 {
			env = b
		}
		resp, err := env.Client.ListCategoriesWithResponse(ctx, nil, testenv.APIKey(k.Secret))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.HTTPResponse.Header.Get("RateLimit-Limit"); got != "5" || resp.HTTPResponse.Header.Get("X-RateLimit-Limit") != "5" {
			t.Fatalf("key's limit %q", got)
		}
		switch resp.StatusCode() {
		case http.StatusOK:
			allowed++
		case http.StatusTooManyRequests:
			wantError(t, resp, resp.Body, err, http.StatusTooManyRequests, "RATE_LIMITED")
			if resp.HTTPResponse.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			limited++
		default:
			t.Fatalf("status %d", resp.StatusCode())
		}
	}
	if allowed < 5 || allowed > 6 || limited != 10-allowed {
		t.Fatalf("allowed %d, limited %d", allowed, limited)
	}
	t.Run("the owner's own budget is untouched", func(t *testing.T) {
		me, err := b.Client.GetMeWithResponse(ctx, testenv.Bearer(owner))
		wantStatus(t, me, me.Body, err, http.StatusOK)
		h := me.HTTPResponse.Header
		// The owner made two keys and this request with the access token: 3 of 40, whatever the key spent.
		if remaining, err := strconv.Atoi(h.Get("RateLimit-Remaining")); h.Get("RateLimit-Limit") != "40" || err != nil || remaining < 37 {
			t.Fatalf("user budget %s, %s remaining", h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"))
		}
	})
	t.Run("another key of the same owner has its own budget", func(t *testing.T) {
		other := a.CreateAPIKey(owner, "Quiet integration")
		resp, err := b.Client.ListCategoriesWithResponse(ctx, nil, testenv.APIKey(other.Secret))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
	})
	t.Run("an admin's override is the key's tier", func(t *testing.T) {
		partner := a.CreateAPIKey(owner, "Partner with a contract")
		upd, err := a.Client.UpdateApiKeyWithResponse(ctx, partner.Id, nil, apiclient.ApiKeyPatch{RateLimitPerMinute: ptr(int32(8))}, testenv.Bearer(admin))
		wantStatus(t, upd, upd.Body, err, http.StatusOK)
		allowed := 0
		for i := range 12 {
			env := a
			if i%2 == 1 {
				env = b
			}
			resp, err := env.Client.ListCategoriesWithResponse(ctx, nil, testenv.APIKey(partner.Secret))
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.HTTPResponse.Header.Get("RateLimit-Limit"); got != "8" {
				t.Fatalf("limit with the override %q", got)
			}
			if resp.StatusCode() == http.StatusOK {
				allowed++
			}
		}
		if allowed < 8 || allowed > 9 {
			t.Fatalf("%d of 12 allowed with a tier of 8", allowed)
		}
	})
}

// A mistyped key (its checksum is wrong) is refused before any lookup: the request's trace has no SQL
// and no cache span. A well-formed unknown key, the control, is looked up. A valid key's id is on the
// request's span.
func TestMistypedKeyMakesNoQuery(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	env := testenv.StartWith(t, app.Options{TracerProvider: tp}, testenv.RedisEnv(t)...)
	ctx := context.Background()
	_, token := env.Customer("typist@example.com")
	k := env.CreateAPIKey(token, "Typed by hand")
	other := env.CreateAPIKey(token, "Another")
	lookups := func(t *testing.T, secret string, want int) []tracetest.SpanStub {
		t.Helper()
		exporter.Reset()
		resp, err := env.Client.GetMeWithResponse(ctx, testenv.APIKey(secret))
		wantStatus(t, resp, resp.Body, err, want)
		spans := exporter.GetSpans()
		var out []tracetest.SpanStub
		for _, s := range spans {
			if s.Name != "GET /v1/me" && s.Name != "redis EVALSHA lease" { // the server span and the rate limiter
				out = append(out, s)
			}
		}
		return out
	}
	typo := k.Secret[:30] + flip(k.Secret[30]) + k.Secret[31:]
	if spans := lookups(t, typo, http.StatusUnauthorized); len(spans) != 0 {
		t.Fatalf("a mistyped key was looked up: %d spans, the first %q", len(spans), spans[0].Name)
	}
	// The control: a well-formed key (revoked, so refused too) is looked up.
	del, err := env.Client.RevokeApiKeyWithResponse(ctx, other.Id, nil, testenv.Bearer(token))
	wantStatus(t, del, del.Body, err, http.StatusNoContent)
	if spans := lookups(t, other.Secret, http.StatusUnauthorized); len(spans) == 0 {
		t.Fatal("a well-formed key made no lookup: the test would prove nothing")
	}
	exporter.Reset()
	me, err := env.Client.GetMeWithResponse(ctx, testenv.APIKey(k.Secret))
	wantStatus(t, me, me.Body, err, http.StatusOK)
	for _, s := range exporter.GetSpans() {
		if s.Name != "GET /v1/me" {
			continue
		}
		for _, a := range s.Attributes {
			if a.Key == "storefront.api_key_id" && a.Value.AsString() == k.Id.String() {
				return
			}
		}
		t.Fatalf("server span attributes %v", s.Attributes)
	}
	t.Fatal("no server span")
}
