package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

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
// the text rule and the declared query parameters, body size, media type, JSON syntax, then
// kin-openapi's validation of parameters and body, reporting every violation at once. The validated
// body stays on the request (KeepValidatedValue), so the generated handler binds exactly what was
// validated.
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
			if err := checkParams(req, op, c.ParamNames(), c.ParamValues()); err != nil {
				return err
			}
			var found []apperr.Detail // the body's breaches of the text and integer rules
			if len(op.mediaTypes) > 0 {
				body, details, err := checkBody(req, op)
				if err != nil {
					return err
				}
				c.Set(canonicalBodyKey, body)
				found = details
			}
			if op.fast != nil && len(found) == 0 && op.fastValid(c) {
				return next(c)
			}
			params := make(map[string]string, len(c.ParamNames()))
			for i, name := range c.ParamNames() {
				params[name] = c.ParamValues()[i]
			}
			err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: op.route, Options: opts,
			})
			if err != nil || len(found) > 0 {
				return validationError(err, found...) // every violation at once
			}
			return next(c)
		}
	}
}

var errBadQuery = apperr.InvalidField("", "the query string is not well formed (check its percent-encoding)")

// checkParams applies the text rule to the query and path parameters and refuses query parameters the
// operation does not declare.
func checkParams(req *http.Request, op *operation, names, values []string) error {
	if req.URL.RawQuery == "" {
		if d := paramTextDetails(nil, names, values); len(d) > 0 {
			return apperr.Invalid(d...)
		}
		return nil
	}
	query, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return errBadQuery
	}
	d := paramTextDetails(query, names, values)
	d = append(d, unknownQueryDetails(query, op.query)...)
	if len(d) > 0 {
		return apperr.Invalid(d...)
	}
	return nil
}

// checkBody enforces the size limit, the media type and JSON syntax (in UTF-8), and leaves the body
// re-readable. It returns the body's canonical form and what breaks the text rule or is an integer
// written as a fraction, for the validation error to report beside kin-openapi's findings.
func checkBody(req *http.Request, op *operation) ([]byte, []apperr.Detail, error) {
	if req.ContentLength > MaxBodyBytes {
		return nil, nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, nil, apperr.InvalidField("", "the request body could not be read")
	}
	if len(body) > MaxBodyBytes {
		return nil, nil, errTooLarge
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if len(bytes.TrimSpace(body)) == 0 {
		if op.bodyRequired {
			return nil, nil, apperr.InvalidField("", "a request body is required")
		}
		return body, nil, nil
	}
	if !op.acceptsMediaType(req) {
		return nil, nil, apperr.New(apperr.KindUnsupportedMedia, "Send the body as "+strings.Join(op.mediaTypes, " or ")+".")
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, nil, err
	}
	var details []apperr.Detail
	bodyTextDetails(v, "", &details)
	literalDetails(op.bodySchema, v, "", &details)
	sort.SliceStable(details, func(i, j int) bool { return details[i].Field < details[j].Field })
	// The canonical form (sorted keys, no insignificant space) identifies the request for idempotency
	// keys, so a retry that serialises the same JSON differently is still the same request.
	canonical, err := json.Marshal(v)
	if err != nil {
		return nil, nil, apperr.Internal(err)
	}
	return canonical, details, nil
}

// decodeJSON parses one JSON value, keeping numbers as written (json.Number). Text that is not UTF-8 is
// not JSON (RFC 8259 §8.1): it is refused naming the field that holds it, where one does, rather than
// silently replaced.
func decodeJSON(body []byte) (any, error) {
	if !utf8.Valid(body) {
		if field, ok := invalidUTF8Field(body); ok {
			return nil, apperr.InvalidField(field, "must be valid UTF-8")
		}
		return nil, apperr.Coded(apperr.KindInvalid, apperr.CodeMalformedJSON, "The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	if err == nil {
		if _, e := dec.Token(); e != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil {
		msg := "The request body is not valid JSON."
		var se *json.SyntaxError
		if errors.As(err, &se) {
			msg = fmt.Sprintf("The request body is not valid JSON: %s (at byte %d).", se.Error(), se.Offset)
		} else if errors.Is(err, io.ErrUnexpectedEOF) {
			msg = "The request body is not valid JSON: it ends too soon."
		} else if err.Error() == "data after the JSON value" {
			msg = "The request body is not valid JSON: there is data after the JSON value."
		}
		return nil, apperr.Coded(apperr.KindInvalid, apperr.CodeMalformedJSON, msg)
	}
	return v, nil
}

// invalidUTF8Field finds the field whose string (or member name) holds the body's first invalid UTF-8
// sequence, by walking the JSON tokens. ok is false when the body is not JSON enough to tell.
func invalidUTF8Field(body []byte) (field string, ok bool) {
	bad := 0
	for bad < len(body) {
		r, n := utf8.DecodeRune(body[bad:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		bad += n
	}
	type frame struct {
		object  bool
		wantKey bool   // objects: the next token is a member name
		key     string // objects: the current member's name
		index   int    // arrays: the current element's index
	}
	var stack []frame
	path := func(frames []frame) string {
		var b strings.Builder
		for _, f := range frames {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return b.String()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		end := dec.InputOffset()
		if tok == json.Delim('}') || tok == json.Delim(']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.object && top.wantKey { // a member name
				if int(start) <= bad && bad < int(end) {
					return path(stack[:n-1]), true // its object is named, not the name at fault
				}
				top.key, top.wantKey = tok.(string), false
				continue
			}
			if top.object {
				top.wantKey = true // this value ends the member
			} else {
				top.index++
			}
		}
		if _, isString := tok.(string); isString && int(start) <= bad && bad < int(end) {
			return path(stack), true
		}
		if tok == json.Delim('{') || tok == json.Delim('[') {
			stack = append(stack, frame{object: tok == json.Delim('{'), wantKey: true, index: -1})
		}
	}
}

// validationError turns kin-openapi's errors (err may be nil) and the edge's own findings into one
// VALIDATION_ERROR with a detail per violation; a field both report is named once, by the edge.
func validationError(err error, found ...apperr.Detail) error {
	details := append([]apperr.Detail(nil), found...)
	if err != nil {
		var kin []apperr.Detail
		collectDetails(err, "", &kin)
		if len(kin) == 0 {
			kin = []apperr.Detail{{Field: "", Message: err.Error()}}
		}
		named := map[string]bool{}
		for _, d := range found {
			named[d.Field] = true
		}
		for _, d := range kin {
			if !named[d.Field] {
				details = append(details, d)
			}
		}
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
