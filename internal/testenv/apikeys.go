package testenv

import (
	"context"
	"net/http"

	"github.com/storefront/storefront/gen/apiclient"
)

// APIKey authenticates a request with an API key in X-API-Key.
func APIKey(secret string) apiclient.RequestEditorFn { return Header("X-API-Key", secret) }

// CreateAPIKey mints a key as the holder of token and returns it with its secret.
func (e *Env) CreateAPIKey(token, name string, scopes ...apiclient.Scope) apiclient.ApiKeyWithSecret {
	e.t.Helper()
	if scopes == nil {
		scopes = []apiclient.Scope{}
	}
	resp, err := e.Client.CreateApiKeyWithResponse(context.Background(), apiclient.ApiKeyCreate{Name: name, Scopes: scopes}, Bearer(token))
	if err != nil || resp.StatusCode() != http.StatusCreated {
		e.t.Fatalf("creating API key %q: %v %d %s", name, err, statusOf(resp), resp.Body)
	}
	return resp.JSON201.Data
}
