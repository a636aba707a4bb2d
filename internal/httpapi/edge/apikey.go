package edge

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/identity"
)

// A request authenticates with an access token (a JWT, `Authorization: Bearer eyJ…`) or an API key
// (`X-API-Key: sk_…`, or `Authorization: Bearer sk_…`). The spec's security schemes say which an
// operation accepts: an http bearer scheme admits access tokens, an apiKey scheme admits API keys in
// its header or as a bearer token.

// KeyAuthenticator turns an API key secret into the principal it acts as (identity.Service does).
type KeyAuthenticator interface {
	AuthenticateAPIKey(ctx context.Context, secret string) (identity.KeyAuth, error)
}

// The schemes the spec declares, by name; the middleware reads their kinds from the spec.
const apiKeyScheme = "apiKeyAuth"

// credentialKind is what a security scheme admits.
type credentialKind int

const (
	accessToken credentialKind = iota + 1
	apiKey
)

// credential is a request's authenticated caller.
type credential struct {
	principal access.Principal
	kind      credentialKind
	rateLimit int // an API key's own requests per minute; 0: the default of its kind
}

var (
	errBadKey           = apperr.New(apperr.KindUnauthenticated, "The API key is invalid, expired or revoked.")
	errTwoCredentials   = apperr.New(apperr.KindUnauthenticated, "Send one credential: Authorization or X-API-Key, not both.")
	errKeysNotAccepted  = apperr.New(apperr.KindForbidden, "This operation does not accept API keys; use an access token from POST /v1/auth/login.")
	errTokensNotAllowed = apperr.New(apperr.KindForbidden, "This operation accepts API keys only.")
)

// credentials resolves a request's credentials once: the rate limiter (which runs first) and
// authenticate share the result, so an API key costs one credential lookup per request and an access
// token one signature check.
type credentials struct {
	tokens *identity.TokenIssuer
	keys   KeyAuthenticator
	// schemes maps the spec's security scheme names to what they admit; keyHeader is the header of its
	// apiKey scheme (canonical form).
	schemes   map[string]credentialKind
	keyHeader string
}

// newCredentials reads the security schemes of the spec. A scheme the middleware cannot enforce is an
// error: it would otherwise admit nobody, or everybody.
func newCredentials(doc *openapi3.T, tokens *identity.TokenIssuer, keys KeyAuthenticator) (*credentials, error) {
	cs := &credentials{tokens: tokens, keys: keys, schemes: map[string]credentialKind{}}
	for name, ref := range doc.Components.SecuritySchemes {
		s := ref.Value
		switch {
		case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
			cs.schemes[name] = accessToken
		case s.Type == "apiKey" && s.In == "header" && cs.keyHeader == "":
			cs.schemes[name] = apiKey
			cs.keyHeader = http.CanonicalHeaderKey(s.Name)
		default:
			return nil, fmt.Errorf("security scheme %q (%s %s) is not one the authentication middleware enforces", name, s.Type, s.In)
		}
	}
	return cs, nil
}

// admits returns the scopes an alternative of an operation's security asks of a credential of kind,
// and whether the alternative admits that kind at all.
func (cs *credentials) admits(alt openapi3.SecurityRequirement, kind credentialKind) ([]string, bool) {
	for name, scopes := range alt {
		if cs.schemes[name] == kind {
			return scopes, true
		}
	}
	return nil, false
}

// notAdmitted is the answer to a valid credential of a kind no alternative of the operation admits.
func notAdmitted(kind credentialKind) error {
	if kind == apiKey {
		return errKeysNotAccepted
	}
	return errTokensNotAllowed
}

type resolvedCredential struct {
	cred *credential
	err  error
}

const credentialContextKey = "sf.credential"

// of returns the request's credential (nil when none was sent), resolving it once per request.
func (cs *credentials) of(c echo.Context) (*credential, error) {
	if r, ok := c.Get(credentialContextKey).(resolvedCredential); ok {
		return r.cred, r.err
	}
	cred, err := cs.resolve(c)
	if cred != nil || err != nil { // none sent is as quick to find again as to look up (no allocation)
		c.Set(credentialContextKey, resolvedCredential{cred, err})
	}
	return cred, err
}

func (cs *credentials) resolve(c echo.Context) (*credential, error) {
	raw, bearerSent := bearerToken(c)
	key, keySent := "", false
	if vs, ok := c.Request().Header[cs.keyHeader]; ok && cs.keyHeader != "" {
		key, keySent = strings.TrimSpace(strings.Join(vs, "")), true
	}
	switch {
	case keySent && bearerSent:
		return nil, errTwoCredentials
	case keySent:
		return cs.key(c, key)
	case !bearerSent:
		return nil, nil
	case strings.HasPrefix(raw, identity.AnyKeyPrefix):
		return cs.key(c, raw)
	}
	p, err := cs.tokens.Verify(raw)
	if err != nil {
		return nil, errBadToken
	}
	return &credential{principal: p, kind: accessToken}, nil
}

// key authenticates an API key; the trace records which key acted (the access log does too).
func (cs *credentials) key(c echo.Context, secret string) (*credential, error) {
	if cs.keys == nil {
		return nil, errBadKey
	}
	ctx := c.Request().Context()
	ka, err := cs.keys.AuthenticateAPIKey(ctx, secret)
	if err != nil {
		return nil, err
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String("storefront.api_key_id", ka.Principal.APIKeyID.String()),
			attribute.String("enduser.id", ka.Principal.UserID.String()))
	}
	return &credential{principal: ka.Principal, kind: apiKey, rateLimit: ka.RateLimit}, nil
}

// limitKey is the rate-limit policy name, bucket and budget of a credential: an API key's own (its
// override, else the API key tier), independent of its owner's user budget.
func (cred *credential) limitKey(limits RateLimits) (policy, key string, limit int) {
	if cred.kind == apiKey {
		limit := limits.APIKey
		if cred.rateLimit > 0 {
			limit = cred.rateLimit
		}
		return "api_key", "key:" + cred.principal.APIKeyID.String(), limit
	}
	return "user", "user:" + cred.principal.UserID.String(), limits.User
}
