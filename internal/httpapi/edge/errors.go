package edge

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"unicode/utf8"

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
// Echo's own messages are never passed on: they can name Go types and byte offsets.
func toAppError(err error) *apperr.Error {
	if ae, ok := apperr.As(err); ok {
		return ae
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if kind, ok := kindOfStatus[he.Code]; ok {
			e := apperr.New(kind, echoMessages[kind])
			if e.Message == "" {
				e.Message = apperr.MsgInvalid
			}
			var te *json.UnmarshalTypeError
			if kind == apperr.KindInvalid && errors.As(he.Internal, &te) {
				e.Details = []apperr.Detail{{Field: te.Field, Message: "must be " + jsonType(te.Type.Kind())}}
			}
			e.Cause = err
			return e
		}
	}
	return apperr.Internal(err)
}

// jsonType names a Go kind as the JSON type a client should send.
func jsonType(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// The spec's bounds of an error body (ErrorBody, ErrorDetail).
const (
	maxDetails       = 100
	maxField         = 256
	maxMessage       = 1000
	maxDetailMessage = 500
)

// truncate cuts s to at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
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
		case apperr.KindRateLimited, apperr.KindUnavailable:
			h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(ae.RetryAfter.Seconds())))))
		}
		body := api.Error{Error: api.ErrorBody{
			Code:      api.ErrorBodyCode(ae.Code),
			Message:   truncate(ae.Message, maxMessage),
			RequestId: rid,
		}}
		if len(ae.Details) > 0 {
			// Bounded as the spec bounds them, whatever the request made of them.
			n := min(len(ae.Details), maxDetails)
			details := make([]api.ErrorDetail, 0, n)
			for _, d := range ae.Details[:n] {
				details = append(details, api.ErrorDetail{Field: truncate(d.Field, maxField), Message: truncate(d.Message, maxDetailMessage)})
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
