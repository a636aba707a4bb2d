package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

func TestLogin(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	env.Register("login@example.com", "right-password", "Login")

	t.Run("ok", func(t *testing.T) {
		resp, err := env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "LOGIN@example.com", Password: "right-password"})
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		d := resp.JSON200.Data
		if d.TokenType != apiclient.Bearer || d.ExpiresIn != 900 || !strings.HasPrefix(d.RefreshToken, "rt_") {
			t.Fatalf("unexpected tokens %+v", d)
		}
		if resp.HTTPResponse.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("tokens cacheable: %q", resp.HTTPResponse.Header.Get("Cache-Control"))
		}
	})
	t.Run("unknown email and wrong password look the same", func(t *testing.T) {
		a, err := env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "nobody@example.com", Password: "right-password"})
		ea := wantError(t, a, a.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		b, err := env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "login@example.com", Password: "wrong-password"})
		eb := wantError(t, b, b.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		if ea.Message != eb.Message {
			t.Fatalf("messages differ: %q vs %q", ea.Message, eb.Message)
		}
	})
	t.Run("passwords and tokens never reach the log", func(t *testing.T) {
		tokens := env.Login("login@example.com", "right-password")
		logs := env.Logs()
		for _, secret := range []string{"right-password", "wrong-password", tokens.AccessToken, tokens.RefreshToken} {
			if strings.Contains(logs, secret) {
				t.Fatalf("log contains a secret")
			}
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	t.Run("in PostgreSQL", func(t *testing.T) { testLoginThrottle(t, testenv.Start(t)) })
	t.Run("in Redis", func(t *testing.T) { testLoginThrottle(t, testenv.Start(t, testenv.RedisEnv(t)...)) })
}

func testLoginThrottle(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	env.Register("throttle@example.com", "right-password", "Throttle")
	for i := 0; i < 5; i++ {
		resp, err := env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "throttle@example.com", Password: "wrong-password"})
		wantError(t, resp, resp.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	}
	// The sixth attempt is refused even with the right password.
	resp, err := env.Client.LoginWithResponse(ctx, apiclient.LoginRequest{Email: "Throttle@example.com", Password: "right-password"})
	wantError(t, resp, resp.Body, err, http.StatusTooManyRequests, "RATE_LIMITED")
	ra, convErr := strconv.Atoi(resp.HTTPResponse.Header.Get("Retry-After"))
	if convErr != nil || ra <= 0 || ra > int((15*time.Minute).Seconds()) {
		t.Fatalf("Retry-After = %q", resp.HTTPResponse.Header.Get("Retry-After"))
	}
	// Another account is unaffected.
	env.Register("other@example.com", "right-password", "Other")
	env.Login("other@example.com", "right-password")
}

func TestRefreshRotation(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	env.Register("rotate@example.com", "right-password", "Rotate")
	first := env.Login("rotate@example.com", "right-password")

	refresh := func(token string) *apiclient.RefreshTokensResponse {
		resp, err := env.Client.RefreshTokensWithResponse(ctx, apiclient.RefreshTokenRequest{RefreshToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	second := refresh(first.RefreshToken)
	wantStatus(t, second, second.Body, nil, http.StatusOK)
	if second.JSON200.Data.RefreshToken == first.RefreshToken {
		t.Fatal("refresh token was not rotated")
	}
	// Reusing the rotated token is refused and revokes the family, including the token it was rotated into.
	reuse := refresh(first.RefreshToken)
	wantError(t, reuse, reuse.Body, nil, http.StatusUnauthorized, "UNAUTHENTICATED")
	stolen := refresh(second.JSON200.Data.RefreshToken)
	wantError(t, stolen, stolen.Body, nil, http.StatusUnauthorized, "UNAUTHENTICATED")

	t.Run("logout revokes", func(t *testing.T) {
		tokens := env.Login("rotate@example.com", "right-password")
		out, err := env.Client.LogoutWithResponse(ctx, apiclient.RefreshTokenRequest{RefreshToken: tokens.RefreshToken})
		wantStatus(t, out, out.Body, err, http.StatusNoContent)
		again, err := env.Client.LogoutWithResponse(ctx, apiclient.RefreshTokenRequest{RefreshToken: tokens.RefreshToken})
		wantStatus(t, again, again.Body, err, http.StatusNoContent)
		after := refresh(tokens.RefreshToken)
		wantError(t, after, after.Body, nil, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("unknown token", func(t *testing.T) {
		resp := refresh("rt_unknown")
		wantError(t, resp, resp.Body, nil, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
}

func TestRejectedAccessTokens(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	u, _ := env.Customer("tokens@example.com")
	secret := []byte(testenv.Secret)

	cases := map[string]string{
		"expired": testenv.ForgeToken(t, jwt.SigningMethodHS256, secret, u.Id, func(c jwt.MapClaims) {
			c["iat"] = time.Now().Add(-time.Hour).Unix()
			c["exp"] = time.Now().Add(-30 * time.Minute).Unix()
		}),
		"forged signature": testenv.ForgeToken(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-12345"), u.Id, nil),
		"alg none":         testenv.ForgeToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, u.Id, nil),
		"other algorithm":  testenv.ForgeToken(t, jwt.SigningMethodHS512, secret, u.Id, nil),
		"wrong audience": testenv.ForgeToken(t, jwt.SigningMethodHS256, secret, u.Id, func(c jwt.MapClaims) {
			c["aud"] = []string{"someone-else"}
		}),
		"no expiry": testenv.ForgeToken(t, jwt.SigningMethodHS256, secret, u.Id, func(c jwt.MapClaims) { delete(c, "exp") }),
		"garbage":   "not.a.jwt",
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			resp, err := env.Client.GetMeWithResponse(ctx, testenv.Bearer(token))
			wantError(t, resp, resp.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		})
	}
	t.Run("not a bearer scheme", func(t *testing.T) {
		resp, err := env.Client.GetMeWithResponse(ctx, testenv.Header("Authorization", "Basic dXNlcjpwYXNz"))
		wantError(t, resp, resp.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("missing", func(t *testing.T) {
		resp, err := env.Client.GetMeWithResponse(ctx)
		wantError(t, resp, resp.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("valid control", func(t *testing.T) {
		token := testenv.ForgeToken(t, jwt.SigningMethodHS256, secret, u.Id, func(c jwt.MapClaims) { c["scope"] = []string{} })
		resp, err := env.Client.GetMeWithResponse(ctx, testenv.Bearer(token))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
	})
}

func TestPasswordChange(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	u, token := env.Customer("pw@example.com")
	session := env.Login("pw@example.com", "customer-password")

	t.Run("needs the current password", func(t *testing.T) {
		resp, err := env.Client.UpdateUserWithResponse(ctx, u.Id, nil, apiclient.UserPatch{Password: ptr("brand-new-password")}, testenv.Bearer(token))
		e := wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "current_password")
		wrong, err := env.Client.UpdateUserWithResponse(ctx, u.Id, nil, apiclient.UserPatch{
			Password: ptr("brand-new-password"), CurrentPassword: ptr("not-it")}, testenv.Bearer(token))
		wantError(t, wrong, wrong.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
	t.Run("changes and signs out everywhere", func(t *testing.T) {
		resp, err := env.Client.UpdateUserWithResponse(ctx, u.Id, nil, apiclient.UserPatch{
			Password: ptr("brand-new-password"), CurrentPassword: ptr("customer-password")}, testenv.Bearer(token))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		ref, err := env.Client.RefreshTokensWithResponse(ctx, apiclient.RefreshTokenRequest{RefreshToken: session.RefreshToken})
		wantError(t, ref, ref.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		env.Login("pw@example.com", "brand-new-password")
	})
}
