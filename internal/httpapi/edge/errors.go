package edge

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/apperr"
)

// statusOf is the one table from error kinds to HTTP statuses.
var statusOf = map[apperr.Kind]int{
	apperr.KindInternal:         http.StatusInternalServerError,
	apperr.KindInvalid:          http.StatusBadRequest,
	apperr.KindUnauthenticated:  http.StatusUnauthorized,
	apperr.KindPaymentRequired:  http.StatusPaymentRequired,
	apperr.KindForbidden:        http.StatusForbidden,
	apperr.KindNotFound:         http.StatusNotFound,
	apperr.KindMethodNotAllowed: http.StatusMethodNotAllowed,
	apperr.KindConflict:         http.StatusConflict,
	apperr.KindPrecondition:     http.StatusPreconditionFailed,
	apperr.KindTooLarge:         http.StatusRequestEntityTooLarge,
	apperr.KindUnsupportedMedia: http.StatusUnsupportedMediaType,
	apperr.KindUnprocessable:    http.StatusUnprocessableEntity,
	apperr.KindRateLimited:      http.StatusTooManyRequests,
	apperr.KindUnavailable:      http.StatusServiceUnavailable,
}

// kindOfStatus translates Echo's own errors (unknown route, wrong method, binding) into kinds.
var kindOfStatus = map[int]apperr.Kind{
	http.StatusBadRequest:            apperr.KindInvalid,
	http.StatusUnauthorized:          apperr.KindUnauthenticated,
	http.StatusForbidden:             apperr.KindForbidden,
	http.StatusNotFound:              apperr.KindNotFound,
	http.StatusMethodNotAllowed:      apperr.KindMethodNotAllowed,
	http.StatusRequestEntityTooLarge: apperr.KindTooLarge,
	http.StatusUnsupportedMediaType:  apperr.KindUnsupportedMedia,
	http.StatusTooManyRequests:       apperr.KindRateLimited,
	http.StatusServiceUnavailable:    apperr.KindUnavailable,
}

var echoMessages = map[apperr.Kind]string{
	apperr.KindNotFound:         "No resource exists at this path.",
	apperr.KindMethodNotAllowed: "The method is not allowed on this path.",
	apperr.KindTooLarge:         "The request body is too large.",
	apperr.KindUnsupportedMedia: "Send the body as application/json.",
}

// toAppError brings any error into the vocabulary; unknown errors become INTERNAL with the cause kept.
func toAppError(err error) *apperr.Error {
	if ae, ok := apperr.As(err); ok {
		return ae
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if kind, ok := kindOfStatus[he.Code]; ok {
			msg := echoMessages[kind]
			if msg == "" {
				msg = "The request is invalid."
				if s, ok := he.Message.(string); ok && kind == apperr.KindInvalid {
					msg = s
				}
			}
			return &apperr.Error{Kind: kind, Code: apperr.New(kind, "").Code, Message: msg, Cause: err}
		}
	}
	return apperr.Internal(err)
}

// errorHandler is Echo's HTTPErrorHandler: it owns the status table and the error body.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		ae := toAppError(err)
		status, ok := statusOf[ae.Kind]
		if !ok {
			status = http.StatusInternalServerError
		}
		rid := requestID(c)
		if status >= http.StatusInternalServerError {
			logger.ErrorContext(c.Request().Context(), "request failed", "route", c.Path(), "error", err.Error())
		}
		h := c.Response().Header()
		switch ae.Kind {
		case apperr.KindUnauthenticated:
			h.Set("WWW-Authenticate", `Bearer realm="storefront"`)
		case apperr.KindRateLimited:
			h.Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
		}
		body := api.Error{Error: api.ErrorBody{
			Code:      api.ErrorBodyCode(ae.Code),
			Message:   ae.Message,
			RequestId: rid,
		}}
		if len(ae.Details) > 0 {
			details := make([]api.ErrorDetail, 0, len(ae.Details))
			for _, d := range ae.Details {
				details = append(details, api.ErrorDetail{Field: d.Field, Message: d.Message})
			}
			body.Error.Details = &details
		}
		h.Set(echo.HeaderCacheControl, "no-store")
		if c.Request().Method == http.MethodHead {
			err = c.NoContent(status)
		} else {
			err = c.JSON(status, body)
		}
		if err != nil {
			logger.ErrorContext(c.Request().Context(), "writing error response", "error", err)
		}
	}
}
