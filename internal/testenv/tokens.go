package testenv

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Scopes reads the scope claim of an access token without verifying it.
func Scopes(t testing.TB, token string) []string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %s", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Scope []string `json:"scope"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Scope
}

// ForgeToken signs arbitrary claims with method and key, for tests of rejected tokens.
func ForgeToken(t testing.TB, method jwt.SigningMethod, key any, sub uuid.UUID, mutate func(jwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{
		"sub": sub.String(), "iss": "storefront", "aud": []string{"storefront-api"},
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(), "jti": uuid.NewString(),
		"scope": []string{"users:admin"},
	}
	if mutate != nil {
		mutate(claims)
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
