// Package page holds the keyset-pagination request and result shared by every list.
package page

import (
	"slices"
	"strings"

	"github.com/storefront/storefront/internal/apperr"
)

// Counting modes for Request.Count.
const (
	CountNone      = ""
	CountExact     = "exact"
	CountEstimated = "estimated"
)

// DefaultLimit and MaxLimit bound a page.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Request asks for one page: at most Limit items after the opaque Cursor, sorted by Sort.
type Request struct {
	Sort   string
	Limit  int
	Cursor string
	Count  string
}

// Normalized fills defaults and clamps the limit.
func (r Request) Normalized(defaultSort string) Request {
	if r.Sort == "" {
		r.Sort = defaultSort
	}
	if r.Limit <= 0 {
		r.Limit = DefaultLimit
	}
	if r.Limit > MaxLimit {
		r.Limit = MaxLimit
	}
	return r
}

// Sorted is Normalized, and refuses a sort that is not one of keys (each may be prefixed by "-" for
// descending order). Each domain declares its lists' keys; the stores only know how to order by them.
func (r Request) Sorted(defaultSort string, keys ...string) (Request, error) {
	r = r.Normalized(defaultSort)
	if !slices.Contains(keys, strings.TrimPrefix(r.Sort, "-")) {
		return r, apperr.InvalidField("sort", "must be one of "+strings.Join(keys, ", ")+", each optionally prefixed by -")
	}
	return r, nil
}

// SortedBySearch is Sorted for a list with full-text search: with a search query q the keys include
// "relevance", the default (best match first); without one relevance is refused.
func (r Request) SortedBySearch(q, defaultSort string, keys ...string) (Request, error) {
	if q != "" {
		return r.Sorted("relevance", append(slices.Clone(keys), "relevance")...)
	}
	if strings.TrimPrefix(r.Sort, "-") == "relevance" {
		return r, apperr.InvalidField("sort", "relevance needs q")
	}
	return r.Sorted(defaultSort, keys...)
}

// Page is one page of results. NextCursor is empty on the last page; Total is set when counting was asked.
type Page[T any] struct {
	Items      []T
	Limit      int
	HasMore    bool
	NextCursor string
	Total      *int64
}
