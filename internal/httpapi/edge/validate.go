package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/storefront/storefront/internal/apperr"
)

// MaxBodyBytes is the request body limit (1 MiB).
const MaxBodyBytes = 1 << 20

var errTooLarge = apperr.New(apperr.KindTooLarge, fmt.Sprintf("The request body exceeds %d bytes.", MaxBodyBytes))

// validateRequests checks every request of a spec'd operation against the spec before its handler runs:
// body size, media type, JSON syntax, then kin-openapi's validation of parameters and body, reporting
// every violation at once. The validated body stays on the request (KeepValidatedValue), so the generated
// handler binds exactly what was validated.
func validateRequests(ct *contract) echo.MiddlewareFunc {
	opts := &openapi3filter.Options{
		MultiError:         true,
		KeepValidatedValue: true,
		// Authentication is the auth middleware's job; it runs before this one.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op := ct.lookup(c)
			if op == nil {
				return next(c)
			}
			req := c.Request()
			if len(op.mediaTypes) > 0 {
				body, err := checkBody(req, op)
				if err != nil {
					return err
				}
				c.Set(canonicalBodyKey, body)
			}
			if op.fast != nil && op.fastValid(c) {
				return next(c)
			}
			params := make(map[string]string, len(c.ParamNames()))
			for i, name := range c.ParamNames() {
				params[name] = c.ParamValues()[i]
			}
			err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: op.route, Options: opts,
			})
			if err != nil {
				return validationError(err)
			}
			return next(c)
		}
	}
}

// checkBody enforces the size limit, the media type and JSON syntax, and leaves the body re-readable.
func checkBody(req *http.Request, op *operation) ([]byte, error) {
	if req.ContentLength > MaxBodyBytes {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, apperr.InvalidField("", "the request body could not be read")
	}
	if len(body) > MaxBodyBytes {
		return nil, errTooLarge
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if len(bytes.TrimSpace(body)) == 0 {
		if op.bodyRequired {
			return nil, apperr.InvalidField("", "a request body is required")
		}
		return body, nil
	}
	if !op.acceptsMediaType(req) {
		return nil, apperr.New(apperr.KindUnsupportedMedia, "Send the body as "+strings.Join(op.mediaTypes, " or ")+".")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		msg := "The request body is not valid JSON."
		var se *json.SyntaxError
		if errors.As(err, &se) {
			msg = fmt.Sprintf("The request body is not valid JSON: %s (at byte %d).", se.Error(), se.Offset)
		}
		return nil, apperr.Coded(apperr.KindInvalid, apperr.CodeMalformedJSON, msg)
	}
	// The canonical form (sorted keys, no insignificant space) identifies the request for idempotency
	// keys, so a retry that serialises the same JSON differently is still the same request.
	canonical, err := json.Marshal(v)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return canonical, nil
}

// validationError turns kin-openapi's errors into one VALIDATION_ERROR with a detail per violation.
func validationError(err error) error {
	var details []apperr.Detail
	collectDetails(err, "", &details)
	if len(details) == 0 {
		details = []apperr.Detail{{Field: "", Message: err.Error()}}
	}
	return apperr.Invalid(details...)
}

var printer = message.NewPrinter(language.English)

// collectDetails walks kin-openapi's error tree by concrete type (errors.As would jump past a
// parameter's RequestError into the MultiError nested below it and lose the parameter name).
func collectDetails(err error, field string, out *[]apperr.Detail) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, x := range e {
			collectDetails(x, field, out)
		}
	case *openapi3filter.RequestError:
		switch {
		case e.Parameter != nil:
			collectParamDetail(e, out)
		case e.RequestBody != nil && e.Err != nil:
			collectDetails(e.Err, "", out)
		default:
			*out = append(*out, apperr.Detail{Field: field, Message: e.Error()})
		}
	case *openapi3.SchemaError:
		collectSchemaDetails(e, field, out)
	default:
		if inner := errors.Unwrap(err); inner != nil {
			collectDetails(inner, field, out)
			return
		}
		*out = append(*out, apperr.Detail{Field: field, Message: err.Error()})
	}
}

func collectParamDetail(re *openapi3filter.RequestError, out *[]apperr.Detail) {
	name := re.Parameter.Name
	var se *openapi3.SchemaError
	var multi openapi3.MultiError
	if errors.As(re.Err, &se) || errors.As(re.Err, &multi) {
		collectDetails(re.Err, name, out)
		return
	}
	msg := re.Reason
	if msg == "" && re.Err != nil {
		msg = re.Err.Error()
	}
	var pe *openapi3filter.ParseError
	if errors.As(re.Err, &pe) {
		msg = "has an invalid format"
		if re.Parameter.Schema != nil && re.Parameter.Schema.Value != nil && re.Parameter.Schema.Value.Type != nil {
			msg = "must be " + strings.Join(re.Parameter.Schema.Value.Type.Slice(), " or ")
		}
	}
	*out = append(*out, apperr.Detail{Field: name, Message: msg})
}

// collectSchemaDetails walks a schema error down to its leaves: one detail per failing keyword.
func collectSchemaDetails(se *openapi3.SchemaError, field string, out *[]apperr.Detail) {
	var multi openapi3.MultiError
	if se.Origin != nil && errors.As(se.Origin, &multi) {
		for _, e := range multi {
			collectDetails(e, field, out)
		}
		return
	}
	path := joinPath(field, se.JSONPointer())
	var verr *jsonschema.ValidationError
	if errors.As(se, &verr) {
		// Required and additionalProperties fail at the object; the detail names its member.
		switch k := verr.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				*out = append(*out, apperr.Detail{Field: memberPath(field, verr.InstanceLocation, m), Message: "is required"})
			}
			return
		case *kind.AdditionalProperties:
			for _, p := range k.Properties {
				*out = append(*out, apperr.Detail{Field: memberPath(field, verr.InstanceLocation, p), Message: "is not a known field"})
			}
			return
		}
		*out = append(*out, apperr.Detail{Field: path, Message: verr.ErrorKind.LocalizedString(printer)})
		return
	}
	// The built-in validator (3.0 idioms) phrases these two in its reason.
	if m := legacyProperty.FindStringSubmatch(se.Reason); m != nil {
		msg := "is required"
		if m[2] == "unsupported" {
			msg = "is not a known field"
		}
		*out = append(*out, apperr.Detail{Field: memberPath(field, se.JSONPointer(), m[1]), Message: msg})
		return
	}
	*out = append(*out, apperr.Detail{Field: path, Message: se.Reason})
}

// memberPath names a member of the object at location; the validator sometimes already ends the location
// with the member.
func memberPath(field string, location []string, member string) string {
	if n := len(location); n > 0 && location[n-1] == member {
		location = location[:n-1]
	}
	return joinPath(field, append(append([]string(nil), location...), member))
}

var legacyProperty = regexp.MustCompile(`^property "(.+)" is (missing|unsupported)$`)

// joinPath renders a JSON pointer as items[0].quantity, prefixed by field.
func joinPath(field string, pointer []string) string {
	var b strings.Builder
	b.WriteString(field)
	for _, p := range pointer {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
