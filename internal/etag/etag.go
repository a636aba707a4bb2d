// Package etag formats resource versions as entity tags and evaluates If-Match / If-None-Match.
//
// A resource's ETag is its row version, a counter bumped on every write, so a conditional write can be
// checked atomically against the stored version.
package etag

import (
	"strconv"
	"strings"

	"github.com/storefront/storefront/internal/apperr"
)

// Format renders a version as a strong entity tag.
func Format(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// Condition is a parsed If-Match or If-None-Match header. The zero value (header absent) matches nothing
// and imposes nothing.
type Condition struct {
	present bool
	any     bool
	tags    []string
}

// Parse reads a header value: "*" or a comma-separated list of entity tags.
func Parse(header *string) Condition {
	if header == nil {
		return Condition{}
	}
	c := Condition{present: true}
	for _, part := range strings.Split(*header, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "*":
			c.any = true
		case part != "":
			c.tags = append(c.tags, part)
		}
	}
	return c
}

// Present reports whether the header was sent.
func (c Condition) Present() bool { return c.present }

// MatchStrong is If-Match's comparison (RFC 9110 §13.1.1): weak tags never match.
func (c Condition) MatchStrong(version int64) bool {
	if c.any {
		return true
	}
	want := Format(version)
	for _, t := range c.tags {
		if t == want {
			return true
		}
	}
	return false
}

// MatchWeak is If-None-Match's comparison (RFC 9110 §13.1.2): W/ prefixes are ignored.
func (c Condition) MatchWeak(version int64) bool {
	if c.any {
		return true
	}
	want := Format(version)
	for _, t := range c.tags {
		if strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

// AllowsWrite is true when no If-Match was sent or it matches the current version.
func (c Condition) AllowsWrite(version int64) bool {
	return !c.present || c.MatchStrong(version)
}

// CheckWrite is AllowsWrite as an error: 412 naming the resource when the If-Match is stale.
func (c Condition) CheckWrite(version int64, resource string) error {
	if !c.AllowsWrite(version) {
		return apperr.Stale(resource)
	}
	return nil
}
