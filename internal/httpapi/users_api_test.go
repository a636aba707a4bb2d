package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

func TestRegister(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()

	t.Run("ok", func(t *testing.T) {
		resp, err := env.Client.RegisterUserWithResponse(ctx, nil, apiclient.RegisterUserJSONRequestBody{
			Email: "Ada@Example.com", Password: "correct-horse", Name: "Ada",
		})
		wantStatus(t, resp, resp.Body, err, http.StatusCreated)
		u := resp.JSON201.Data
		if u.Role != apiclient.Customer || u.Status != apiclient.Active || u.Email != "Ada@Example.com" {
			t.Fatalf("unexpected user %+v", u)
		}
		if u.Id.Version() != 7 {
			t.Errorf("id %s is not a UUIDv7", u.Id)
		}
		if loc := resp.HTTPResponse.Header.Get("Location"); loc != "/v1/users/"+u.Id.String() {
			t.Errorf("Location = %q", loc)
		}
		if strings.Contains(string(resp.Body), "password") {
			t.Errorf("response mentions the password: %s", resp.Body)
		}
	})
	t.Run("duplicate email differing in case", func(t *testing.T) {
		resp, err := env.Client.RegisterUserWithResponse(ctx, nil, apiclient.RegisterUserJSONRequestBody{
			Email: "ada@EXAMPLE.com", Password: "another-pass", Name: "Imposter",
		})
		e := wantError(t, resp, resp.Body, err, http.StatusConflict, "EMAIL_TAKEN")
		wantFields(t, e, "email")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		resp, err := env.Client.RegisterUserWithBodyWithResponse(ctx, nil, "application/json", jsonBody(`{"email": "a@b.c",`))
		wantError(t, resp, resp.Body, err, http.StatusBadRequest, "MALFORMED_JSON")
	})
	t.Run("every violation at once", func(t *testing.T) {
		resp, err := env.Client.RegisterUserWithBodyWithResponse(ctx, nil, "application/json",
			jsonBody(`{"email": "not-an-email", "password": "short", "name": 42, "is_admin": true}`))
		e := wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "email", "password", "name", "is_admin")
	})
	t.Run("missing fields", func(t *testing.T) {
		resp, err := env.Client.RegisterUserWithBodyWithResponse(ctx, nil, "application/json", jsonBody(`{}`))
		e := wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "email", "password", "name")
	})
	t.Run("too long", func(t *testing.T) {
		resp, err := env.Client.RegisterUserWithResponse(ctx, nil, apiclient.RegisterUserJSONRequestBody{
			Email: "long@example.com", Password: strings.Repeat("p", 129), Name: strings.Repeat("n", 101),
		})
		e := wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "password", "name")
	})
	t.Run("not an object", func(t *testing.T) {
		resp, err := env.Client.RegisterUserWithBodyWithResponse(ctx, nil, "application/json", jsonBody(`[1,2]`))
		wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
	t.Run("empty body", func(t *testing.T) {
		resp, err := env.Client.RegisterUserWithBodyWithResponse(ctx, nil, "application/json", jsonBody(``))
		wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
	t.Run("wrong content type", func(t *testing.T) {
		resp, err := env.Client.RegisterUserWithBodyWithResponse(ctx, nil, "text/plain", jsonBody(`{"email":"x@example.com"}`))
		wantError(t, resp, resp.Body, err, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
	})
	t.Run("oversized body", func(t *testing.T) {
		big := `{"email":"big@example.com","password":"long-enough","name":"` + strings.Repeat("x", 1<<20) + `"}`
		resp, err := env.Client.RegisterUserWithBodyWithResponse(ctx, nil, "application/json", jsonBody(big))
		wantError(t, resp, resp.Body, err, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	})
	t.Run("case-variant member names cannot smuggle values", func(t *testing.T) {
		// The handler binds the validated value with exact member names, so "NAME" is an unknown field,
		// not a second spelling of "name".
		resp, err := env.Client.RegisterUserWithBodyWithResponse(ctx, nil, "application/json",
			jsonBody(`{"email":"case@example.com","password":"long-enough","name":"ok","NAME":"`+strings.Repeat("x", 500)+`"}`))
		e := wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "NAME")
	})
}

func TestRoutingErrors(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	t.Run("unknown route", func(t *testing.T) {
		resp, err := env.HTTP.Get(env.URL + "/v1/nothing-here")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status = %d", resp.StatusCode)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, env.URL+"/v1/me", nil)
		resp, err := env.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("status = %d", resp.StatusCode)
		}
	})
	t.Run("bad uuid in path", func(t *testing.T) {
		_, token := env.Customer("uuid@example.com")
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.URL+"/v1/users/not-a-uuid", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := env.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status = %d", resp.StatusCode)
		}
	})
	t.Run("bad query parameters", func(t *testing.T) {
		_, token := env.Admin("admin-q@example.com")
		resp, err := env.Client.ListUsersWithResponse(ctx, &apiclient.ListUsersParams{},
			testenv.Bearer(token), func(_ context.Context, r *http.Request) error {
				r.URL.RawQuery = "limit=1000&sort=password&role=root"
				return nil
			})
		e := wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "limit", "sort", "role")
	})
	t.Run("request id echoed and in errors", func(t *testing.T) {
		resp, err := env.Client.GetMeWithResponse(ctx, testenv.Header("X-Request-ID", "trace-me-123"))
		e := wantError(t, resp, resp.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		if e.RequestId != "trace-me-123" || resp.HTTPResponse.Header.Get("X-Request-ID") != "trace-me-123" {
			t.Fatalf("request id not echoed: %q %q", e.RequestId, resp.HTTPResponse.Header.Get("X-Request-ID"))
		}
		if resp.HTTPResponse.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	})
}

func TestUserAccess(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	alice, aliceToken := env.Customer("alice@example.com")
	bob, bobToken := env.Customer("bob@example.com")
	_, adminToken := env.Admin("root@example.com")

	t.Run("me", func(t *testing.T) {
		resp, err := env.Client.GetMeWithResponse(ctx, testenv.Bearer(aliceToken))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.JSON200.Data.Id != alice.Id {
			t.Fatalf("me = %s, want %s", resp.JSON200.Data.Id, alice.Id)
		}
	})
	t.Run("another user's record is not found", func(t *testing.T) {
		resp, err := env.Client.GetUserWithResponse(ctx, bob.Id, nil, testenv.Bearer(aliceToken))
		wantError(t, resp, resp.Body, err, http.StatusNotFound, "NOT_FOUND")
		patch, err := env.Client.UpdateUserWithResponse(ctx, bob.Id, nil, apiclient.UserPatch{Name: ptr("Hacked")}, testenv.Bearer(aliceToken))
		wantError(t, patch, patch.Body, err, http.StatusNotFound, "NOT_FOUND")
		del, err := env.Client.DeleteUserWithResponse(ctx, bob.Id, nil, testenv.Bearer(aliceToken))
		wantError(t, del, del.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("unknown user is not found for admins", func(t *testing.T) {
		resp, err := env.Client.GetUserWithResponse(ctx, uuid.Must(uuid.NewV7()), nil, testenv.Bearer(adminToken))
		wantError(t, resp, resp.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("admin sees anyone", func(t *testing.T) {
		resp, err := env.Client.GetUserWithResponse(ctx, bob.Id, nil, testenv.Bearer(adminToken))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
	})
	t.Run("listing users is admin only", func(t *testing.T) {
		resp, err := env.Client.ListUsersWithResponse(ctx, nil, testenv.Bearer(aliceToken))
		e := wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
		if !strings.Contains(e.Message, "users:admin") {
			t.Errorf("message does not name the scope: %s", e.Message)
		}
	})
	t.Run("a customer cannot change roles", func(t *testing.T) {
		resp, err := env.Client.UpdateUserWithResponse(ctx, alice.Id, nil, apiclient.UserPatch{Role: ptr(apiclient.Admin)}, testenv.Bearer(aliceToken))
		wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
		put, err := env.Client.ReplaceUserWithResponse(ctx, alice.Id, nil, apiclient.UserReplacement{
			Email: alice.Email, Name: alice.Name, Role: ptr(apiclient.Editor)}, testenv.Bearer(aliceToken))
		wantError(t, put, put.Body, err, http.StatusForbidden, "FORBIDDEN")
	})
	t.Run("an admin promotes; the new scopes arrive with the next refresh", func(t *testing.T) {
		tokens := env.Login("bob@example.com", "customer-password")
		resp, err := env.Client.UpdateUserWithResponse(ctx, bob.Id, nil, apiclient.UserPatch{Role: ptr(apiclient.Editor)}, testenv.Bearer(adminToken))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.JSON200.Data.Role != apiclient.Editor {
			t.Fatalf("role = %s", resp.JSON200.Data.Role)
		}
		ref, err := env.Client.RefreshTokensWithResponse(ctx, apiclient.RefreshTokenRequest{RefreshToken: tokens.RefreshToken})
		wantStatus(t, ref, ref.Body, err, http.StatusOK)
		scopes := testenv.Scopes(t, ref.JSON200.Data.AccessToken)
		if !strings.Contains(strings.Join(scopes, " "), "posts:publish") {
			t.Fatalf("editor token lacks posts:publish: %v", scopes)
		}
		_ = bobToken
	})
	t.Run("email change to a taken email", func(t *testing.T) {
		resp, err := env.Client.UpdateUserWithResponse(ctx, alice.Id, nil, apiclient.UserPatch{Email: ptr(apiclient.Email("BOB@example.com"))}, testenv.Bearer(aliceToken))
		wantError(t, resp, resp.Body, err, http.StatusConflict, "EMAIL_TAKEN")
	})
	t.Run("empty patch", func(t *testing.T) {
		resp, err := env.Client.UpdateUserWithBodyWithResponse(ctx, alice.Id, nil, "application/json", jsonBody(`{}`), testenv.Bearer(aliceToken))
		wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
}

func TestETags(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	u, token := env.Customer("etag@example.com")

	get, err := env.Client.GetUserWithResponse(ctx, u.Id, nil, testenv.Bearer(token))
	wantStatus(t, get, get.Body, err, http.StatusOK)
	tag := get.HTTPResponse.Header.Get("ETag")
	if tag == "" || get.HTTPResponse.Header.Get("Cache-Control") != "private, no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", tag, get.HTTPResponse.Header.Get("Cache-Control"))
	}
	t.Run("if-none-match unchanged", func(t *testing.T) {
		resp, err := env.Client.GetUserWithResponse(ctx, u.Id, &apiclient.GetUserParams{IfNoneMatch: &tag}, testenv.Bearer(token))
		wantStatus(t, resp, resp.Body, err, http.StatusNotModified)
		if len(resp.Body) != 0 || resp.HTTPResponse.Header.Get("ETag") != tag {
			t.Fatalf("304 with body %q or ETag %q", resp.Body, resp.HTTPResponse.Header.Get("ETag"))
		}
	})
	t.Run("if-match current then stale", func(t *testing.T) {
		resp, err := env.Client.UpdateUserWithResponse(ctx, u.Id, &apiclient.UpdateUserParams{IfMatch: &tag}, apiclient.UserPatch{Name: ptr("Renamed")}, testenv.Bearer(token))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		newTag := resp.HTTPResponse.Header.Get("ETag")
		if newTag == tag || newTag == "" {
			t.Fatalf("ETag did not change: %q", newTag)
		}
		stale, err := env.Client.ReplaceUserWithResponse(ctx, u.Id, &apiclient.ReplaceUserParams{IfMatch: &tag},
			apiclient.UserReplacement{Email: u.Email, Name: "Lost update"}, testenv.Bearer(token))
		wantError(t, stale, stale.Body, err, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
		del, err := env.Client.DeleteUserWithResponse(ctx, u.Id, &apiclient.DeleteUserParams{IfMatch: &tag}, testenv.Bearer(token))
		wantError(t, del, del.Body, err, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
		after, err := env.Client.GetUserWithResponse(ctx, u.Id, &apiclient.GetUserParams{IfNoneMatch: &tag}, testenv.Bearer(token))
		wantStatus(t, after, after.Body, err, http.StatusOK)
		if after.JSON200.Data.Name != "Renamed" {
			t.Fatalf("stale write changed the user: %+v", after.JSON200.Data)
		}
	})
}

func TestDeleteUser(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	u, token := env.Customer("leaving@example.com")
	tokens := env.Login("leaving@example.com", "customer-password")

	resp, err := env.Client.DeleteUserWithResponse(ctx, u.Id, nil, testenv.Bearer(token))
	wantStatus(t, resp, resp.Body, err, http.StatusNoContent)

	t.Run("cannot log in", func(t *testing.T) {
		login, err := env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "leaving@example.com", Password: "customer-password"})
		wantError(t, login, login.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("refresh tokens revoked", func(t *testing.T) {
		ref, err := env.Client.RefreshTokensWithResponse(ctx, apiclient.RefreshTokenRequest{RefreshToken: tokens.RefreshToken})
		wantError(t, ref, ref.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("me no longer authenticates", func(t *testing.T) {
		me, err := env.Client.GetMeWithResponse(ctx, testenv.Bearer(token))
		wantError(t, me, me.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("the deleted account's token no longer writes", func(t *testing.T) {
		again, err := env.Client.DeleteUserWithResponse(ctx, u.Id, nil, testenv.Bearer(token))
		wantError(t, again, again.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("second delete is not found", func(t *testing.T) {
		_, admin := env.Admin("delete-admin@example.com")
		again, err := env.Client.DeleteUserWithResponse(ctx, u.Id, nil, testenv.Bearer(admin))
		wantError(t, again, again.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("email is free again", func(t *testing.T) {
		env.Register("LEAVING@example.com", "another-password", "Returning")
	})
}
