package storetest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/page"
)

func newCategory(t *testing.T, s Stores, name, slug string) catalog.Category {
	t.Helper()
	return must(s.Catalog.CreateCategory(ctx, newID(), catalog.CategoryFields{Name: name, Description: ptr("about " + name)}, slug))(t)
}

func newProduct(t *testing.T, s Stores, name string, price int64, stock int32, category *uuid.UUID) catalog.Product {
	t.Helper()
	return must(s.Catalog.CreateProduct(ctx, newID(), catalog.ProductFields{Name: name, PriceCents: price, Currency: "USD",
		Stock: stock, CategoryID: category, Attributes: map[string]any{"origin": "Japan"}, Active: true}, "p-"+newID().String()[:13]))(t)
}

var catalogCases = []testCase{
	{"categories get free slugs and unique names", func(t *testing.T, s Stores) {
		a := newCategory(t, s, "Green Tea", "green-tea")
		b := newCategory(t, s, "Green Tea Two", "green-tea")
		if a.Slug != "green-tea" || b.Slug != "green-tea-2" {
			t.Fatalf("slugs %q %q", a.Slug, b.Slug)
		}
		_, err := s.Catalog.CreateCategory(ctx, newID(), catalog.CategoryFields{Name: "GREEN TEA"}, "green-tea")
		wantDuplicate(t, err, "category", "name")
		if got := must(s.Catalog.Category(ctx, a.ID))(t); got.Name != "Green Tea" || *got.Description != "about Green Tea" {
			t.Fatalf("read %+v", got)
		}
	}},
	{"a category update is read back at once; a delete hides it", func(t *testing.T, s Stores) {
		c := newCategory(t, s, "Oolong", "oolong")
		must(s.Catalog.Category(ctx, c.ID))(t)
		c.Name = "Oolong Teas"
		out := must(s.Catalog.UpdateCategory(ctx, c, "oolong-teas"))(t)
		if got := must(s.Catalog.Category(ctx, c.ID))(t); got.Name != "Oolong Teas" || got.Slug != "oolong-teas" || got.Version != out.Version || out.Version != 2 {
			t.Fatalf("update %+v read %+v", out, got)
		}
		check(t, s.Catalog.DeleteCategory(ctx, c.ID))
		_, err := s.Catalog.Category(ctx, c.ID)
		wantNotFound(t, err, "category")
		wantNotFound(t, s.Catalog.DeleteCategory(ctx, uuid.New()), "category")
	}},
	{"a product naming an unknown category refers to nothing", func(t *testing.T, s Stores) {
		_, err := s.Catalog.CreateProduct(ctx, newID(), catalog.ProductFields{Name: "Orphan", PriceCents: 100, Currency: "USD",
			CategoryID: ptr(uuid.New()), Attributes: map[string]any{}, Active: true}, "orphan")
		wantNotFound(t, err, "category")
	}},
	{"products read back whole; categories know they have products", func(t *testing.T, s Stores) {
		c := newCategory(t, s, "Teaware", "teaware")
		if has := must(s.Catalog.CategoryHasProducts(ctx, c.ID))(t); has {
			t.Fatal("an empty category has products")
		}
		p := newProduct(t, s, "Kyusu", 4900, 3, &c.ID)
		got := must(s.Catalog.Product(ctx, p.ID))(t)
		if got.Name != "Kyusu" || got.PriceCents != 4900 || got.Stock != 3 || *got.CategoryID != c.ID || got.Attributes["origin"] != "Japan" || !got.Active {
			t.Fatalf("read %+v", got)
		}
		if has := must(s.Catalog.CategoryHasProducts(ctx, c.ID))(t); !has {
			t.Fatal("the category does not know its product")
		}
	}},
	{"a product update is read back at once; a delete hides it", func(t *testing.T, s Stores) {
		p := newProduct(t, s, "Matcha", 2500, 10, nil)
		must(s.Catalog.Product(ctx, p.ID))(t)
		p.PriceCents, p.Active = 2700, false
		must(s.Catalog.UpdateProduct(ctx, p, ""))(t)
		if got := must(s.Catalog.Product(ctx, p.ID))(t); got.PriceCents != 2700 || got.Active || got.Version != 2 {
			t.Fatalf("read %+v", got)
		}
		check(t, s.Catalog.DeleteProduct(ctx, p.ID))
		_, err := s.Catalog.Product(ctx, p.ID)
		wantNotFound(t, err, "product")
		_, err = s.Catalog.LockProduct(ctx, p.ID)
		wantNotFound(t, err, "product")
		wantNotFound(t, s.Catalog.DeleteProduct(ctx, p.ID), "product")
	}},
	{"a rolled-back product change is never served afterwards", func(t *testing.T, s Stores) {
		p := newProduct(t, s, "Genmaicha", 1100, 5, nil)
		must(s.Catalog.Product(ctx, p.ID))(t)
		rolledBack(t, s, func(ctx context.Context) {
			locked := must(s.Catalog.LockProduct(ctx, p.ID))(t)
			locked.PriceCents = 1
			must(s.Catalog.UpdateProduct(ctx, locked, ""))(t)
			if in := must(s.Catalog.Product(ctx, p.ID))(t); in.PriceCents != 1 {
				t.Fatalf("inside the transaction: %+v", in)
			}
		})
		for range 2 { // the second read would be a cache hit
			if got := must(s.Catalog.Product(ctx, p.ID))(t); got.PriceCents != 1100 {
				t.Fatalf("after rollback: %+v", got)
			}
		}
	}},
	{"product lists filter by price and stock and page without repeats", func(t *testing.T, s Stores) {
		c := newCategory(t, s, "Lists", "lists")
		for i := range 5 {
			newProduct(t, s, "Listed "+string(rune('A'+i)), int64(1000+i*100), int32(i), &c.ID)
		}
		f := catalog.ProductFilter{CategoryID: &c.ID, PriceMin: ptr(int64(1100)), InStock: ptr(true)}
		seen := 0
		req := page.Request{Sort: "price", Limit: 2}
		for {
			p := must(s.Catalog.ListProducts(ctx, f, req))(t)
			for _, pr := range p.Items {
				if pr.PriceCents < 1100 || pr.Stock == 0 {
					t.Fatalf("unfiltered %+v", pr)
				}
				seen++
			}
			if !p.HasMore {
				break
			}
			req.Cursor = p.NextCursor
		}
		if seen != 4 {
			t.Fatalf("saw %d, want 4", seen)
		}
	}},
}
