package edge

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
)

const bearerScheme = "bearerAuth"

var (
	// ErrNoToken answers an operation that needs a caller when none signed in.
	ErrNoToken  = apperr.New(apperr.KindUnauthenticated, "A valid access token is required.")
	errBadToken = apperr.New(apperr.KindUnauthenticated, "The access token is invalid or expired.")
)

// Accounts tells whether a signed-in caller's account may still act.
type Accounts interface {
	// Active answers nil for an active account and an error (401 for a suspended or deleted one) otherwise.
	Active(ctx context.Context, userID uuid.UUID) error
}

// authenticate enforces each operation's security requirements as the spec states them: `security: []`
// is public; otherwise one alternative must hold, where `{}` admits anonymous callers,
// `bearerAuth: [scopes]` needs a valid access token carrying every listed scope and
// `apiKeyAuth: [scopes]` the same of an API key (see apikey.go). A credential that is sent must be
// valid even where anonymous access is allowed, and its account must still be active: this is the one
// place where a suspended or deleted account is refused, for every operation (an API key's lookup
// already joins its owner's status).
func authenticate(ct *contract, creds *credentials, accounts Accounts) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op := ct.lookup(c)
			if op == nil || len(op.security) == 0 {
				return next(c)
			}
			cred, err := creds.of(c)
			if err != nil {
				return err
			}
			var principal *access.Principal
			if cred != nil {
				req := c.Request()
				if cred.kind == accessToken {
					if err := accounts.Active(req.Context(), cred.principal.UserID); err != nil {
						return err
					}
				}
				principal = &cred.principal
				c.SetRequest(req.WithContext(access.WithPrincipal(req.Context(), cred.principal)))
			}
			var missing []string
			admitted := false
			for _, alt := range op.security {
				if len(alt) == 0 {
					return next(c) // anonymous alternative
				}
				if principal == nil {
					continue
				}
				scopes, ok := creds.admits(alt, cred.kind)
				if !ok {
					continue
				}
				admitted = true
				lacking := lackingScopes(*principal, scopes)
				if len(lacking) == 0 {
					return next(c)
				}
				missing = lacking
			}
			if principal == nil {
				return ErrNoToken
			}
			if !admitted {
				return notAdmitted(cred.kind)
			}
			return apperr.NeedsScope(strings.Join(missing, ", "))
		}
	}
}

func lackingScopes(p access.Principal, scopes []string) []string {
	var lacking []string
	for _, s := range scopes {
		if !p.Has(s) {
			lacking = append(lacking, s)
		}
	}
	return lacking
}

// bearerToken reads "Authorization: Bearer <token>"; sent is true whenever an Authorization header is
// present, so a malformed header is refused rather than ignored.
func bearerToken(c echo.Context) (token string, sent bool) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if h == "" {
		return "", false
	}
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(rest), true
}
