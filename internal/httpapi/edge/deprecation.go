package edge

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// Extensions of a deprecated operation (see "Deprecation" in the spec's description). oasdiff reads
// x-sunset too, and refuses to let a deprecated operation go before it.
const (
	extDeprecatedAt    = "x-deprecated-at"    // date it was (or will be) deprecated: Deprecation
	extSunset          = "x-sunset"           // date after which it may be removed: Sunset
	extSuccessor       = "x-successor"        // what replaces it: Link rel="successor-version"
	extDeprecationLink = "x-deprecation-link" // human-readable notice: Link rel="deprecation"
)

// deprecationHeaders reads every operation the spec marks deprecated and returns the headers its
// responses carry, by Echo path and method: Deprecation (RFC 9745, `@<unix seconds>`), Sunset (RFC 8594,
// an HTTP-date) and Link. A deprecated operation without a parseable x-deprecated-at and x-sunset is an
// error, so the service refuses to start on a spec that announces a deprecation it cannot tell.
func deprecationHeaders(doc *openapi3.T) (map[string]map[string]http.Header, error) {
	out := map[string]map[string]http.Header{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !op.Deprecated {
				continue
			}
			where := method + " " + path
			since, err := extensionDate(op.Extensions, extDeprecatedAt)
			if err != nil {
				return nil, fmt.Errorf("deprecated operation %s: %w", where, err)
			}
			sunset, err := extensionDate(op.Extensions, extSunset)
			if err != nil {
				return nil, fmt.Errorf("deprecated operation %s: %w", where, err)
			}
			if !sunset.After(since) {
				return nil, fmt.Errorf("deprecated operation %s: %s %s is not after %s %s", where,
					extSunset, sunset.Format(time.DateOnly), extDeprecatedAt, since.Format(time.DateOnly))
			}
			h := http.Header{}
			h.Set("Deprecation", "@"+strconv.FormatInt(since.Unix(), 10))
			h.Set("Sunset", sunset.Format(http.TimeFormat))
			if s, ok := op.Extensions[extSuccessor].(string); ok && s != "" {
				h.Add("Link", "<"+s+`>; rel="successor-version"`)
			}
			if s, ok := op.Extensions[extDeprecationLink].(string); ok && s != "" {
				h.Add("Link", "<"+s+`>; rel="deprecation"; type="text/html"`)
			}
			p := echoPath(path)
			if out[p] == nil {
				out[p] = map[string]http.Header{}
			}
			out[p][method] = h
		}
	}
	return out, nil
}

// extensionDate reads a date extension: a YAML date (2027-06-30) or an RFC 3339 time, in UTC.
func extensionDate(ext map[string]any, name string) (time.Time, error) {
	switch v := ext[name].(type) {
	case nil:
		return time.Time{}, fmt.Errorf("%s is missing", name)
	case time.Time:
		return v.UTC(), nil
	case string:
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			return t, nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC(), nil
		}
		return time.Time{}, fmt.Errorf("%s %q is not a date (2006-01-02) or an RFC 3339 time", name, v)
	default:
		return time.Time{}, fmt.Errorf("%s is a %T, not a date", name, v)
	}
}

// announceDeprecations adds the deprecation headers to every response of a deprecated operation,
// errors included. With nothing deprecated it adds nothing to the chain's work.
func announceDeprecations(doc *openapi3.T) (echo.MiddlewareFunc, error) {
	byPath, err := deprecationHeaders(doc)
	if err != nil {
		return nil, err
	}
	if len(byPath) == 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }, nil
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if h, ok := byPath[c.Path()][c.Request().Method]; ok {
				rh := c.Response().Header()
				for k, v := range h {
					rh[k] = v // shared, never appended to (see securityHeaders)
				}
			}
			return next(c)
		}
	}, nil
}
