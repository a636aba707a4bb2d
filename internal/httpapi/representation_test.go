package httpapi

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/catalog"
)

// The memoized product response is byte for byte what the generated response type writes, and a new
// version of the product is encoded afresh.
func TestProductBodyMatchesGenerated(t *testing.T) {
	cat := uuid.New()
	desc := "Roasted <green> tea & \"more\" \u2028"
	p := catalog.Product{ID: uuid.New(), CategoryID: &cat, Name: "Hōjicha", Slug: "hojicha", Description: &desc, PriceCents: 1250,
		Currency: "EUR", Stock: 3, Attributes: map[string]any{"origin": "Kyoto", "grams": 80.5, "tags": []any{"a", "b"}},
		Active: true, Version: 4, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC), UpdatedAt: time.Now()}
	s := &Server{bodies: newBodyMemo()}
	for i := 0; i < 3; i++ {
		if i == 2 {
			p.Version, p.PriceCents = 5, 1300
		}
		want := httptest.NewRecorder()
		if err := (api.GetProduct200JSONResponse{ProductOKJSONResponse: productOK(p, publicCache)}).VisitGetProductResponse(want); err != nil {
			t.Fatal(err)
		}
		resp, err := s.productOKMemo(p, publicCache)
		if err != nil {
			t.Fatal(err)
		}
		got := httptest.NewRecorder()
		if err := resp.VisitGetProductResponse(got); err != nil {
			t.Fatal(err)
		}
		if got.Code != want.Code || got.Body.String() != want.Body.String() {
			t.Fatalf("read %d: got %d %s\nwant %d %s", i, got.Code, got.Body, want.Code, want.Body)
		}
		for k, v := range want.Header() {
			if got.Header().Get(k) != v[0] || len(got.Header()[k]) != len(v) {
				t.Fatalf("read %d: header %s = %q, want %q", i, k, got.Header()[k], v)
			}
		}
		if len(got.Header()) != len(want.Header()) {
			t.Fatalf("read %d: headers %v, want %v", i, got.Header(), want.Header())
		}
	}
	if len(s.bodies.m) != 2 {
		t.Fatalf("%d memoized bodies; want one per version", len(s.bodies.m))
	}
}
