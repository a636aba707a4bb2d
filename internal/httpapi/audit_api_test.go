package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/testenv"
)

// rid tags a request with a request id of the test's choosing, to find its audit entries.
func rid(name string) apiclient.RequestEditorFn { return testenv.Header("X-Request-ID", "audit-"+name) }

// auditLog reads the whole audit log through the API (every page), and the raw bodies of the pages.
func auditLog(t *testing.T, env *testenv.Env, token string, params apiclient.ListAuditEventsParams) ([]apiclient.AuditEvent, string) {
	t.Helper()
	var all []apiclient.AuditEvent
	var raw strings.Builder
	params.Limit = ptr(int32(100))
	for {
		resp, err := env.Client.ListAuditEventsWithResponse(context.Background(), &params, testenv.Bearer(token))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		all = append(all, resp.JSON200.Data...)
		raw.Write(resp.Body)
		if !resp.JSON200.Meta.HasMore {
			return all, raw.String()
		}
		params.Cursor = resp.JSON200.Meta.NextCursor
	}
}

type wantEntry struct {
	step     string
	action   apiclient.AuditAction
	resource apiclient.AuditResourceType
	id       uuid.UUID // uuid.Nil: none
	actor    uuid.UUID // uuid.Nil: none
	key      uuid.UUID // uuid.Nil: not through a key
}

// Each audited action, done once through the API, leaves exactly one entry with its actor, resource,
// request id and client address; and no entry holds a password, hash, token or secret.
func TestAuditLogRecordsEachAction(t *testing.T) {
	env := testenv.Start(t, testenv.RedisEnv(t)...)
	ctx := context.Background()
	adminUser, admin := env.Admin("audit-admin@example.com")
	if _, err := env.App.Identity.EnsureUser(ctx, identity.Registration{Email: "audit-editor@example.com", Password: "editor-password",
		Name: "Editor", Role: identity.RoleEditor}); err != nil {
		t.Fatal(err)
	}
	editor := env.Login("audit-editor@example.com", "editor-password").AccessToken
	editorUser, _ := env.Client.GetMeWithResponse(ctx, testenv.Bearer(editor))
	customerUser := env.Register("audit-customer@example.com", "customer-password", "Customer")
	var wants []wantEntry
	want := func(w wantEntry) { wants = append(wants, w) }
	secrets := []string{"customer-password", "admin-password", "editor-password", "wrong-password-123", "new-customer-password"}

	// Sign-ins, sign-outs and token families.
	bad, err := env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "audit-customer@example.com", Password: "wrong-password-123"}, rid("login-wrong-password"))
	wantStatus(t, bad, bad.Body, err, http.StatusUnauthorized)
	want(wantEntry{step: "login-wrong-password", action: apiclient.AuthLoginFailed, resource: apiclient.AuditResourceTypeUser, id: customerUser.Id})
	bad, err = env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "nobody@example.com", Password: "wrong-password-123"}, rid("login-unknown"))
	wantStatus(t, bad, bad.Body, err, http.StatusUnauthorized)
	want(wantEntry{step: "login-unknown", action: apiclient.AuthLoginFailed, resource: apiclient.AuditResourceTypeUser})
	login, err := env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "audit-customer@example.com", Password: "customer-password"}, rid("login"))
	wantStatus(t, login, login.Body, err, http.StatusOK)
	want(wantEntry{step: "login", action: apiclient.AuthLoginSucceeded, resource: apiclient.AuditResourceTypeUser, id: customerUser.Id, actor: customerUser.Id})
	customer := login.JSON200.Data.AccessToken
	secrets = append(secrets, customer, login.JSON200.Data.RefreshToken, admin, editor)
	out, err := env.Client.LogoutWithResponse(ctx, apiclient.RefreshTokenRequest{RefreshToken: login.JSON200.Data.RefreshToken}, rid("logout"))
	wantStatus(t, out, out.Body, err, http.StatusNoContent)
	want(wantEntry{step: "logout", action: apiclient.AuthTokenFamilyRevoked, resource: apiclient.AuditResourceTypeUser, id: customerUser.Id, actor: customerUser.Id})
	second := env.Login("audit-customer@example.com", "customer-password")
	rotated, err := env.Client.RefreshTokensWithResponse(ctx, apiclient.RefreshTokenRequest{RefreshToken: second.RefreshToken})
	wantStatus(t, rotated, rotated.Body, err, http.StatusOK)
	reuse, err := env.Client.RefreshTokensWithResponse(ctx, apiclient.RefreshTokenRequest{RefreshToken: second.RefreshToken}, rid("refresh-reuse"))
	wantStatus(t, reuse, reuse.Body, err, http.StatusUnauthorized)
	want(wantEntry{step: "refresh-reuse", action: apiclient.AuthTokenFamilyRevoked, resource: apiclient.AuditResourceTypeUser, id: customerUser.Id})
	secrets = append(secrets, second.AccessToken, second.RefreshToken, rotated.JSON200.Data.RefreshToken)

	// Roles, status, password, deletion.
	promote, err := env.Client.UpdateUserWithResponse(ctx, customerUser.Id, nil, apiclient.UserPatch{Role: ptr(apiclient.Editor)}, testenv.Bearer(admin), rid("role"))
	wantStatus(t, promote, promote.Body, err, http.StatusOK)
	want(wantEntry{step: "role", action: apiclient.UserRoleChanged, resource: apiclient.AuditResourceTypeUser, id: customerUser.Id, actor: adminUser.Id})
	suspend, err := env.Client.UpdateUserWithResponse(ctx, customerUser.Id, nil, apiclient.UserPatch{Status: ptr(apiclient.Suspended)}, testenv.Bearer(admin), rid("status"))
	wantStatus(t, suspend, suspend.Body, err, http.StatusOK)
	want(wantEntry{step: "status", action: apiclient.UserStatusChanged, resource: apiclient.AuditResourceTypeUser, id: customerUser.Id, actor: adminUser.Id})
	reset, err := env.Client.UpdateUserWithResponse(ctx, customerUser.Id, nil, apiclient.UserPatch{Password: ptr("new-customer-password")}, testenv.Bearer(admin), rid("password"))
	wantStatus(t, reset, reset.Body, err, http.StatusOK)
	want(wantEntry{step: "password", action: apiclient.UserPasswordChanged, resource: apiclient.AuditResourceTypeUser, id: customerUser.Id, actor: adminUser.Id})
	rename, err := env.Client.UpdateUserWithResponse(ctx, customerUser.Id, nil, apiclient.UserPatch{Name: ptr("Renamed")}, testenv.Bearer(admin), rid("rename-user"))
	wantStatus(t, rename, rename.Body, err, http.StatusOK) // not an audited change
	del, err := env.Client.DeleteUserWithResponse(ctx, customerUser.Id, nil, testenv.Bearer(admin), rid("delete-user"))
	wantStatus(t, del, del.Body, err, http.StatusNoContent)
	want(wantEntry{step: "delete-user", action: apiclient.UserDeleted, resource: apiclient.AuditResourceTypeUser, id: customerUser.Id, actor: adminUser.Id})

	// API keys; the key then acts in the catalog.
	created, err := env.Client.CreateApiKeyWithResponse(ctx, apiclient.ApiKeyCreate{Name: "Audited", Scopes: []apiclient.Scope{apiclient.CatalogWrite, apiclient.OrdersManage}},
		testenv.Bearer(admin), rid("key-create"))
	wantStatus(t, created, created.Body, err, http.StatusCreated)
	k := created.JSON201.Data
	secrets = append(secrets, k.Secret, k.Secret[8:])
	want(wantEntry{step: "key-create", action: apiclient.ApiKeyCreated, resource: apiclient.AuditResourceTypeApiKey, id: k.Id, actor: adminUser.Id})
	kupd, err := env.Client.UpdateApiKeyWithResponse(ctx, k.Id, nil, apiclient.ApiKeyPatch{Name: ptr("Audited key")}, testenv.Bearer(admin), rid("key-update"))
	wantStatus(t, kupd, kupd.Body, err, http.StatusOK)
	want(wantEntry{step: "key-update", action: apiclient.ApiKeyUpdated, resource: apiclient.AuditResourceTypeApiKey, id: k.Id, actor: adminUser.Id})

	cat, err := env.Client.CreateCategoryWithResponse(ctx, nil, apiclient.CategoryCreate{Name: "Audited tea"}, testenv.APIKey(k.Secret), rid("category-create"))
	wantStatus(t, cat, cat.Body, err, http.StatusCreated)
	cid := cat.JSON201.Data.Id
	want(wantEntry{step: "category-create", action: apiclient.CategoryCreated, resource: apiclient.AuditResourceTypeCategory, id: cid, actor: adminUser.Id, key: k.Id})
	cupd, err := env.Client.UpdateCategoryWithResponse(ctx, cid, nil, apiclient.CategoryPatch{Name: ptr("Audited teas")}, testenv.APIKey(k.Secret), rid("category-update"))
	wantStatus(t, cupd, cupd.Body, err, http.StatusOK)
	want(wantEntry{step: "category-update", action: apiclient.CategoryUpdated, resource: apiclient.AuditResourceTypeCategory, id: cid, actor: adminUser.Id, key: k.Id})
	prod, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Audited sencha", PriceCents: 1500, Stock: 10}, testenv.APIKey(k.Secret), rid("product-create"))
	wantStatus(t, prod, prod.Body, err, http.StatusCreated)
	pid := prod.JSON201.Data.Id
	want(wantEntry{step: "product-create", action: apiclient.ProductCreated, resource: apiclient.AuditResourceTypeProduct, id: pid, actor: adminUser.Id, key: k.Id})
	pupd, err := env.Client.UpdateProductWithResponse(ctx, pid, nil, apiclient.ProductPatch{PriceCents: ptr(int64(1400))}, testenv.APIKey(k.Secret), rid("product-update"))
	wantStatus(t, pupd, pupd.Body, err, http.StatusOK)
	want(wantEntry{step: "product-update", action: apiclient.ProductUpdated, resource: apiclient.AuditResourceTypeProduct, id: pid, actor: adminUser.Id, key: k.Id})

	// Orders: place, pay, ship, deliver; and a cancellation.
	buyerUser, buyer := env.Customer("audit-buyer@example.com")
	secrets = append(secrets, buyer)
	item := apiclient.OrderItemCreate{ProductId: pid, Quantity: 1}
	placed, err := env.Client.CreateOrderWithResponse(ctx, key(), apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{item}, ShippingAddress: address}, testenv.Bearer(buyer), rid("order-place"))
	wantStatus(t, placed, placed.Body, err, http.StatusCreated)
	oid := placed.JSON201.Data.Id
	want(wantEntry{step: "order-place", action: apiclient.OrderPlaced, resource: apiclient.AuditResourceTypeOrder, id: oid, actor: buyerUser.Id})
	pay, err := env.Client.PayOrderWithResponse(ctx, oid, payKey(), apiclient.PaymentCreate{PaymentMethod: "pm_card_ok"}, testenv.Bearer(buyer), rid("order-pay"))
	wantStatus(t, pay, pay.Body, err, http.StatusOK)
	want(wantEntry{step: "order-pay", action: apiclient.OrderPaid, resource: apiclient.AuditResourceTypeOrder, id: oid, actor: buyerUser.Id})
	ship, err := env.Client.ShipOrderWithResponse(ctx, oid, nil, apiclient.ShipmentCreate{Carrier: "DHL", TrackingNumber: "JD0001"}, testenv.APIKey(k.Secret), rid("order-ship"))
	wantStatus(t, ship, ship.Body, err, http.StatusOK)
	want(wantEntry{step: "order-ship", action: apiclient.OrderShipped, resource: apiclient.AuditResourceTypeOrder, id: oid, actor: adminUser.Id, key: k.Id})
	deliver, err := env.Client.DeliverOrderWithResponse(ctx, oid, nil, apiclient.DeliveryCreate{}, testenv.Bearer(admin), rid("order-deliver"))
	wantStatus(t, deliver, deliver.Body, err, http.StatusOK)
	want(wantEntry{step: "order-deliver", action: apiclient.OrderDelivered, resource: apiclient.AuditResourceTypeOrder, id: oid, actor: adminUser.Id})
	other, err := env.Client.CreateOrderWithResponse(ctx, key(), apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{item}, ShippingAddress: address}, testenv.Bearer(buyer))
	wantStatus(t, other, other.Body, err, http.StatusCreated)
	cancel, err := env.Client.CancelOrderWithResponse(ctx, other.JSON201.Data.Id, nil, apiclient.CancellationCreate{Reason: ptr("Changed my mind")}, testenv.Bearer(buyer), rid("order-cancel"))
	wantStatus(t, cancel, cancel.Body, err, http.StatusOK)
	want(wantEntry{step: "order-cancel", action: apiclient.OrderCancelled, resource: apiclient.AuditResourceTypeOrder, id: other.JSON201.Data.Id, actor: buyerUser.Id})

	// Content: publication, and deletes by a moderator (not by the author).
	draft, err := env.Client.CreatePostWithResponse(ctx, buyerUser.Id, nil, apiclient.PostCreate{Title: "Audited post", Body: "Steep well."}, testenv.Bearer(buyer))
	wantStatus(t, draft, draft.Body, err, http.StatusCreated)
	post := draft.JSON201.Data.Id
	pub, err := env.Client.UpdatePostWithResponse(ctx, post, nil, apiclient.PostPatch{Status: ptr(apiclient.Published)}, testenv.Bearer(editor), rid("post-publish"))
	wantStatus(t, pub, pub.Body, err, http.StatusOK)
	want(wantEntry{step: "post-publish", action: apiclient.PostPublished, resource: apiclient.AuditResourceTypePost, id: post, actor: editorUser.JSON200.Data.Id})
	comment, err := env.Client.CreateCommentWithResponse(ctx, post, nil, apiclient.CommentCreate{Body: "Spam"}, testenv.Bearer(buyer))
	wantStatus(t, comment, comment.Body, err, http.StatusCreated)
	own, err := env.Client.CreateCommentWithResponse(ctx, post, nil, apiclient.CommentCreate{Body: "Mine"}, testenv.Bearer(buyer))
	wantStatus(t, own, own.Body, err, http.StatusCreated)
	ownDel, err := env.Client.DeleteCommentWithResponse(ctx, post, own.JSON201.Data.Id, testenv.Bearer(buyer), rid("comment-own-delete"))
	wantStatus(t, ownDel, ownDel.Body, err, http.StatusNoContent) // an author's own delete is not moderation
	cdel, err := env.Client.DeleteCommentWithResponse(ctx, post, comment.JSON201.Data.Id, testenv.Bearer(editor), rid("comment-delete"))
	wantStatus(t, cdel, cdel.Body, err, http.StatusNoContent)
	want(wantEntry{step: "comment-delete", action: apiclient.CommentDeleted, resource: apiclient.AuditResourceTypeComment, id: comment.JSON201.Data.Id, actor: editorUser.JSON200.Data.Id})
	pdel, err := env.Client.DeletePostWithResponse(ctx, post, nil, testenv.Bearer(editor), rid("post-delete"))
	wantStatus(t, pdel, pdel.Body, err, http.StatusNoContent)
	want(wantEntry{step: "post-delete", action: apiclient.PostDeleted, resource: apiclient.AuditResourceTypePost, id: post, actor: editorUser.JSON200.Data.Id})

	// The catalog writes that remain, and the key's revocation.
	pdelete, err := env.Client.DeleteProductWithResponse(ctx, pid, nil, testenv.APIKey(k.Secret), rid("product-delete"))
	wantStatus(t, pdelete, pdelete.Body, err, http.StatusNoContent)
	want(wantEntry{step: "product-delete", action: apiclient.ProductDeleted, resource: apiclient.AuditResourceTypeProduct, id: pid, actor: adminUser.Id, key: k.Id})
	cdelete, err := env.Client.DeleteCategoryWithResponse(ctx, cid, nil, testenv.APIKey(k.Secret), rid("category-delete"))
	wantStatus(t, cdelete, cdelete.Body, err, http.StatusNoContent)
	want(wantEntry{step: "category-delete", action: apiclient.CategoryDeleted, resource: apiclient.AuditResourceTypeCategory, id: cid, actor: adminUser.Id, key: k.Id})
	revoke, err := env.Client.RevokeApiKeyWithResponse(ctx, k.Id, nil, testenv.Bearer(admin), rid("key-revoke"))
	wantStatus(t, revoke, revoke.Body, err, http.StatusNoContent)
	want(wantEntry{step: "key-revoke", action: apiclient.ApiKeyRevoked, resource: apiclient.AuditResourceTypeApiKey, id: k.Id, actor: adminUser.Id})
	again, err := env.Client.RevokeApiKeyWithResponse(ctx, k.Id, nil, testenv.Bearer(admin), rid("key-revoke-again"))
	wantStatus(t, again, again.Body, err, http.StatusNoContent) // nothing changed, nothing recorded

	entries, raw := auditLog(t, env, admin, apiclient.ListAuditEventsParams{})
	byRequest := map[string][]apiclient.AuditEvent{}
	for _, e := range entries {
		if e.RequestId != nil {
			byRequest[*e.RequestId] = append(byRequest[*e.RequestId], e)
		}
	}
	covered := map[apiclient.AuditAction]bool{}
	for _, w := range wants {
		got := byRequest["audit-"+w.step]
		if len(got) != 1 {
			t.Errorf("%s: %d entries, want 1: %+v", w.step, len(got), got)
			continue
		}
		e := got[0]
		covered[e.Action] = true
		if e.Action != w.action || e.ResourceType != w.resource || idOf(e.ResourceId) != w.id || idOf(e.ActorId) != w.actor ||
			idOf(e.ApiKeyId) != w.key || e.ClientIp == nil || *e.ClientIp == "" || time.Since(e.OccurredAt) > time.Minute {
			b, _ := json.Marshal(e)
			t.Errorf("%s: entry %s, want %+v", w.step, b, w)
		}
	}
	for _, step := range []string{"rename-user", "comment-own-delete", "key-revoke-again"} {
		if n := len(byRequest["audit-"+step]); n != 0 {
			t.Errorf("%s: %d entries, want none", step, n)
		}
	}
	for _, a := range audit.Actions {
		if !covered[apiclient.AuditAction(a)] {
			t.Errorf("action %s was not exercised", a)
		}
	}
	t.Run("no entry holds a secret", func(t *testing.T) {
		for _, s := range append(secrets, "$argon2id$", "password_hash", "secret_hash") {
			if strings.Contains(raw, s) {
				t.Errorf("the audit log contains %q", s)
			}
		}
	})
	t.Run("entries say what changed", func(t *testing.T) {
		changes := func(step string) string {
			b, _ := json.Marshal(byRequest["audit-"+step][0].Changes)
			return string(b)
		}
		for step, want := range map[string]string{
			"role":           `{"role":{"from":"customer","to":"editor"}}`,
			"product-update": `{"price_cents":{"from":1500,"to":1400}}`,
			"order-pay":      `{"status":{"from":"pending","to":"paid"}}`,
			"login-unknown":  `{"email":"nobody@example.com","reason":"unknown_email"}`,
			"key-update":     `{"name":{"from":"Audited","to":"Audited key"}}`,
		} {
			if got := changes(step); got != want {
				t.Errorf("%s: changes %s, want %s", step, got, want)
			}
		}
	})
}

func idOf(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}

// The audit log is the admins': everyone else gets 403 (401 without credentials), through a token or a
// key; filters and pages work; entries cannot be changed through the API (there is no operation).
func TestAuditLogAccessAndFilters(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	adminUser, admin := env.Admin("auditor@example.com")
	_, customer := env.Customer("curious@example.com")
	noAdmin := env.CreateAPIKey(admin, "Catalog only", apiclient.CatalogWrite)
	auditor := env.CreateAPIKey(admin, "SIEM export", apiclient.UsersAdmin)

	resp, err := env.Client.ListAuditEventsWithResponse(ctx, nil, testenv.Bearer(customer))
	wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
	resp, err = env.Client.ListAuditEventsWithResponse(ctx, nil, testenv.APIKey(noAdmin.Secret))
	wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
	resp, err = env.Client.ListAuditEventsWithResponse(ctx, nil)
	wantError(t, resp, resp.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	resp, err = env.Client.ListAuditEventsWithResponse(ctx, nil, testenv.APIKey(auditor.Secret))
	wantStatus(t, resp, resp.Body, err, http.StatusOK)

	for i := range 3 {
		c, err := env.Client.CreateCategoryWithResponse(ctx, nil, apiclient.CategoryCreate{Name: "Filter " + string(rune('A'+i))}, testenv.Bearer(admin))
		wantStatus(t, c, c.Body, err, http.StatusCreated)
	}
	byAction, _ := auditLog(t, env, admin, apiclient.ListAuditEventsParams{Action: ptr(apiclient.CategoryCreated)})
	if len(byAction) != 3 {
		t.Fatalf("%d category.created entries", len(byAction))
	}
	for i := 1; i < len(byAction); i++ {
		if byAction[i].OccurredAt.After(byAction[i-1].OccurredAt) {
			t.Fatal("not newest first")
		}
	}
	one := byAction[0]
	byResource, _ := auditLog(t, env, admin, apiclient.ListAuditEventsParams{ResourceType: ptr(apiclient.AuditResourceTypeCategory), ResourceId: one.ResourceId})
	if len(byResource) != 1 || byResource[0].Id != one.Id {
		t.Fatalf("by resource %+v", byResource)
	}
	byActor, _ := auditLog(t, env, admin, apiclient.ListAuditEventsParams{ActorId: &adminUser.Id, Sort: ptr(apiclient.OccurredAt)})
	// The admin signed in, made two keys and three categories; the customer's sign-in is not theirs.
	if len(byActor) != 6 || byActor[0].Action != apiclient.AuthLoginSucceeded || byActor[5].Action != apiclient.CategoryCreated {
		names := []string{}
		for _, e := range byActor {
			names = append(names, string(e.Action))
		}
		t.Fatalf("by actor, oldest first: %v", names)
	}
	window, _ := auditLog(t, env, admin, apiclient.ListAuditEventsParams{Since: &one.OccurredAt, Until: ptr(one.OccurredAt.Add(time.Microsecond))})
	if len(window) != 1 || window[0].Id != one.Id {
		t.Fatalf("time window %+v", window)
	}
	paged, err := env.Client.ListAuditEventsWithResponse(ctx, &apiclient.ListAuditEventsParams{Limit: ptr(int32(2)), Count: ptr(apiclient.ListAuditEventsParamsCountEstimated)}, testenv.Bearer(admin))
	wantStatus(t, paged, paged.Body, err, http.StatusOK)
	if len(paged.JSON200.Data) != 2 || !paged.JSON200.Meta.HasMore || paged.JSON200.Meta.Total == nil {
		t.Fatalf("page %s", paged.Body)
	}
	next, err := env.Client.ListAuditEventsWithResponse(ctx, &apiclient.ListAuditEventsParams{Limit: ptr(int32(2)), Cursor: paged.JSON200.Meta.NextCursor}, testenv.Bearer(admin))
	wantStatus(t, next, next.Body, err, http.StatusOK)
	if next.JSON200.Data[0].Id == paged.JSON200.Data[1].Id || next.JSON200.Data[0].OccurredAt.After(paged.JSON200.Data[1].OccurredAt) {
		t.Fatalf("second page %s after %s", next.Body, paged.Body)
	}

	t.Run("invalid filters", func(t *testing.T) {
		now := time.Now()
		for name, p := range map[string]*apiclient.ListAuditEventsParams{
			"since after until": {Since: &now, Until: ptr(now.Add(-time.Hour))},
			"unknown action":    {Action: ptr(apiclient.AuditAction("user.hacked"))},
			"unknown resource":  {ResourceType: ptr(apiclient.AuditResourceType("planet"))},
			"cursor of a sort":  {Cursor: paged.JSON200.Meta.NextCursor, Sort: ptr(apiclient.OccurredAt)},
			"bad cursor":        {Cursor: ptr("bm90LWEtY3Vyc29y")},
		} {
			t.Run(name, func(t *testing.T) {
				resp, err := env.Client.ListAuditEventsWithResponse(ctx, p, testenv.Bearer(admin))
				wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
			})
		}
		for _, q := range []string{"actor_id=nope", "since=yesterday", "limit=0", "resource_id=1"} {
			req, _ := http.NewRequest(http.MethodGet, env.URL+"/v1/audit-log?"+q, nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			r, err := env.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d", q, r.StatusCode)
			}
		}
	})
	t.Run("entries cannot be changed or deleted through the API", func(t *testing.T) {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			req, _ := http.NewRequest(method, env.URL+"/v1/audit-log", strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("Content-Type", "application/json")
			r, err := env.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s /v1/audit-log: %d", method, r.StatusCode)
			}
		}
	})
}

// failAfterWrite writes the entry, then fails: the change it records must roll back with it.
type failAfterWrite struct{ log audit.Recorder }

var errForced = errors.New("forced failure after the audit write")

func (f failAfterWrite) Record(ctx context.Context, e audit.Event) error {
	if err := f.log.Record(ctx, e); err != nil {
		return err
	}
	return errForced
}

// An entry is written in the transaction of the change it records: a change that fails after its entry
// was written leaves neither the change nor the entry.
func TestAuditEntriesRollBackWithTheirChange(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	_, admin := env.Admin("rollback-admin@example.com")
	victim, buyer := env.Customer("rollback-buyer@example.com")
	prod, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Rollback tea", PriceCents: 1500, Stock: 10}, testenv.Bearer(admin))
	wantStatus(t, prod, prod.Body, err, http.StatusCreated)
	order, err := env.Client.CreateOrderWithResponse(ctx, key(), apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: prod.JSON201.Data.Id, Quantity: 1}},
		ShippingAddress: address}, testenv.Bearer(buyer))
	wantStatus(t, order, order.Body, err, http.StatusCreated)
	k := env.CreateAPIKey(admin, "Doomed")
	post, err := env.Client.CreatePostWithResponse(ctx, victim.Id, nil, apiclient.PostCreate{Title: "Draft", Body: "Text"}, testenv.Bearer(buyer))
	wantStatus(t, post, post.Body, err, http.StatusCreated)
	_, editor := env.Admin("rollback-editor@example.com")
	before, _ := auditLog(t, env, admin, apiclient.ListAuditEventsParams{})

	failing := failAfterWrite{env.App.Audit}
	env.App.Catalog.RecordTo(failing)
	env.App.Identity.RecordTo(failing)
	env.App.Orders.RecordTo(failing)
	env.App.Content.RecordTo(failing)
	steps := map[string]func() (int, []byte){
		"product update": func() (int, []byte) {
			r, _ := env.Client.UpdateProductWithResponse(ctx, prod.JSON201.Data.Id, nil, apiclient.ProductPatch{PriceCents: ptr(int64(1))}, testenv.Bearer(admin))
			return r.StatusCode(), r.Body
		},
		"role change": func() (int, []byte) {
			r, _ := env.Client.UpdateUserWithResponse(ctx, victim.Id, nil, apiclient.UserPatch{Role: ptr(apiclient.Admin)}, testenv.Bearer(admin))
			return r.StatusCode(), r.Body
		},
		"order cancellation": func() (int, []byte) {
			r, _ := env.Client.CancelOrderWithResponse(ctx, order.JSON201.Data.Id, nil, apiclient.CancellationCreate{}, testenv.Bearer(buyer))
			return r.StatusCode(), r.Body
		},
		"key revocation": func() (int, []byte) {
			r, _ := env.Client.RevokeApiKeyWithResponse(ctx, k.Id, nil, testenv.Bearer(admin))
			return r.StatusCode(), r.Body
		},
		"publication": func() (int, []byte) {
			r, _ := env.Client.UpdatePostWithResponse(ctx, post.JSON201.Data.Id, nil, apiclient.PostPatch{Status: ptr(apiclient.Published)}, testenv.Bearer(editor))
			return r.StatusCode(), r.Body
		},
		"sign-in": func() (int, []byte) {
			r, _ := env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "rollback-buyer@example.com", Password: "customer-password"})
			return r.StatusCode(), r.Body
		},
	}
	for name, step := range steps {
		t.Run(name, func(t *testing.T) {
			if status, body := step(); status != http.StatusInternalServerError {
				t.Fatalf("status %d: %s", status, body)
			}
		})
	}
	env.App.Catalog.RecordTo(env.App.Audit)
	env.App.Identity.RecordTo(env.App.Audit)
	env.App.Orders.RecordTo(env.App.Audit)
	env.App.Content.RecordTo(env.App.Audit)

	after, _ := auditLog(t, env, admin, apiclient.ListAuditEventsParams{})
	if len(after) != len(before) {
		t.Fatalf("%d entries before, %d after the failed changes", len(before), len(after))
	}
	p, _ := env.Client.GetProductWithResponse(ctx, prod.JSON201.Data.Id, nil)
	o, _ := env.Client.GetOrderWithResponse(ctx, order.JSON201.Data.Id, testenv.Bearer(buyer))
	u, _ := env.Client.GetUserWithResponse(ctx, victim.Id, nil, testenv.Bearer(admin))
	kk, _ := env.Client.GetApiKeyWithResponse(ctx, k.Id, nil, testenv.Bearer(admin))
	pp, _ := env.Client.GetPostWithResponse(ctx, post.JSON201.Data.Id, nil, testenv.Bearer(buyer))
	if p.JSON200.Data.PriceCents != 1500 || o.JSON200.Data.Status != apiclient.Pending || u.JSON200.Data.Role != apiclient.Customer ||
		kk.JSON200.Data.RevokedAt != nil || pp.JSON200.Data.Status != apiclient.Draft || p.JSON200.Data.Stock != 9 {
		t.Fatalf("a change survived its failed audit write: price %d, stock %d, order %s, role %s, key revoked %v, post %s",
			p.JSON200.Data.PriceCents, p.JSON200.Data.Stock, o.JSON200.Data.Status, u.JSON200.Data.Role, kk.JSON200.Data.RevokedAt, pp.JSON200.Data.Status)
	}
	me, err := env.Client.GetMeWithResponse(ctx, testenv.APIKey(k.Secret))
	wantStatus(t, me, me.Body, err, http.StatusOK)
}
