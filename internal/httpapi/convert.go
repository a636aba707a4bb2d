package httpapi

import (
	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/page"
)

func toAPIMeta[T any](p page.Page[T]) api.ListMeta {
	m := api.ListMeta{PerPage: int32(p.Limit), HasMore: p.HasMore, Total: p.Total}
	if p.NextCursor != "" {
		m.NextCursor = &p.NextCursor
	}
	return m
}

func pageRequest(sort *string, limit *int32, cursor *string, count *string) page.Request {
	r := page.Request{}
	if sort != nil {
		r.Sort = *sort
	}
	if limit != nil {
		r.Limit = int(*limit)
	}
	if cursor != nil {
		r.Cursor = *cursor
	}
	if count != nil {
		r.Count = *count
	}
	return r
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
