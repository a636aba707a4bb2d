// Package page holds the keyset-pagination request and result shared by every list.
package page

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

// Page is one page of results. NextCursor is empty on the last page; Total is set when counting was asked.
type Page[T any] struct {
	Items      []T
	Limit      int
	HasMore    bool
	NextCursor string
	Total      *int64
}
