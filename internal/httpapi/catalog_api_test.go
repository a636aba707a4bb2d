package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

type catalogFixture struct {
	env   *testenv.Env
	admin string
}

func (f catalogFixture) category(t *testing.T, name string) apiclient.Category {
	t.Helper()
	resp, err := f.env.Client.CreateCategoryWithResponse(context.Background(), nil, apiclient.CategoryCreate{Name: name}, testenv.Bearer(f.admin))
	wantStatus(t, resp, resp.Body, err, http.StatusCreated)
	return resp.JSON201.Data
}

func (f catalogFixture) product(t *testing.T, p apiclient.ProductCreate) apiclient.Product {
	t.Helper()
	resp, err := f.env.Client.CreateProductWithResponse(context.Background(), nil, p, testenv.Bearer(f.admin))
	wantStatus(t, resp, resp.Body, err, http.StatusCreated)
	return resp.JSON201.Data
}

func TestCategories(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	_, admin := env.Admin("catalog-admin@example.com")
	_, customer := env.Customer("shopper@example.com")
	f := catalogFixture{env, admin}

	tea := f.category(t, "Tea")
	if tea.Slug != "tea" {
		t.Fatalf("slug %q", tea.Slug)
	}
	t.Run("slug collision gets a suffix", func(t *testing.T) {
		if c := f.category(t, "Tea!"); c.Slug != "tea-2" {
			t.Fatalf("slug %q", c.Slug)
		}
	})
	t.Run("name taken regardless of case", func(t *testing.T) {
		resp, err := env.Client.CreateCategoryWithResponse(ctx, nil, apiclient.CategoryCreate{Name: "TEA"}, testenv.Bearer(admin))
		wantError(t, resp, resp.Body, err, http.StatusConflict, "CONFLICT")
	})
	t.Run("writes need catalog:write", func(t *testing.T) {
		resp, err := env.Client.CreateCategoryWithResponse(ctx, nil, apiclient.CategoryCreate{Name: "Coffee"}, testenv.Bearer(customer))
		wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
		anon, err := env.Client.CreateCategoryWithResponse(ctx, nil, apiclient.CategoryCreate{Name: "Coffee"})
		wantError(t, anon, anon.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("public read, cacheable, conditional", func(t *testing.T) {
		resp, err := env.Client.GetCategoryWithResponse(ctx, tea.Id, nil)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if cc, vary := resp.HTTPResponse.Header.Get("Cache-Control"), resp.HTTPResponse.Header.Values("Vary"); cc != "public, max-age=60" || !slices.Contains(vary, "Authorization") {
			t.Fatalf("Cache-Control %q, Vary %q", cc, vary)
		}
		tag := resp.HTTPResponse.Header.Get("ETag")
		nm, err := env.Client.GetCategoryWithResponse(ctx, tea.Id, &apiclient.GetCategoryParams{IfNoneMatch: &tag})
		wantStatus(t, nm, nm.Body, err, http.StatusNotModified)
		list, err := env.Client.ListCategoriesWithResponse(ctx, &apiclient.ListCategoriesParams{Count: ptr(apiclient.ListCategoriesParamsCountExact)})
		wantStatus(t, list, list.Body, err, http.StatusOK)
		if *list.JSON200.Meta.Total != 2 || list.JSON200.Data[0].Name != "Tea" {
			t.Fatalf("list %+v", list.JSON200)
		}
	})
	t.Run("rename changes slug; stale If-Match refused", func(t *testing.T) {
		stale := `"1"`
		resp, err := env.Client.UpdateCategoryWithResponse(ctx, tea.Id, nil, apiclient.CategoryPatch{Name: ptr("Green Tea")}, testenv.Bearer(admin))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.JSON200.Data.Slug != "green-tea" {
			t.Fatalf("slug %q", resp.JSON200.Data.Slug)
		}
		again, err := env.Client.UpdateCategoryWithResponse(ctx, tea.Id, &apiclient.UpdateCategoryParams{IfMatch: &stale},
			apiclient.CategoryPatch{Description: ptr("x")}, testenv.Bearer(admin))
		wantError(t, again, again.Body, err, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
	})
	t.Run("a category with products cannot be deleted", func(t *testing.T) {
		p := f.product(t, apiclient.ProductCreate{Name: "Sencha", PriceCents: 1200, Stock: 3, CategoryId: &tea.Id})
		resp, err := env.Client.DeleteCategoryWithResponse(ctx, tea.Id, nil, testenv.Bearer(admin))
		wantError(t, resp, resp.Body, err, http.StatusConflict, "CONFLICT")
		del, err := env.Client.DeleteProductWithResponse(ctx, p.Id, nil, testenv.Bearer(admin))
		wantStatus(t, del, del.Body, err, http.StatusNoContent)
		ok, err := env.Client.DeleteCategoryWithResponse(ctx, tea.Id, nil, testenv.Bearer(admin))
		wantStatus(t, ok, ok.Body, err, http.StatusNoContent)
		gone, err := env.Client.GetCategoryWithResponse(ctx, tea.Id, nil)
		wantError(t, gone, gone.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
}

func TestProducts(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	_, admin := env.Admin("catalog-admin@example.com")
	f := catalogFixture{env, admin}
	tea := f.category(t, "Tea")
	sencha := f.product(t, apiclient.ProductCreate{Name: "Sencha Green Tea", Description: ptr("Steamed green tea from Shizuoka."),
		PriceCents: 1250, Stock: 40, CategoryId: &tea.Id, Attributes: &apiclient.Attributes{"origin": "Shizuoka", "weight_g": 100}})

	t.Run("defaults and slug", func(t *testing.T) {
		if sencha.Slug != "sencha-green-tea" || sencha.Currency != "USD" || !sencha.Active || sencha.Attributes["origin"] != "Shizuoka" {
			t.Fatalf("product %+v", sencha)
		}
	})
	t.Run("rejections", func(t *testing.T) {
		unknown := apiclient.ProductCreate{Name: "X", PriceCents: 100, Stock: 1, CategoryId: ptr(sencha.Id)}
		resp, err := env.Client.CreateProductWithResponse(ctx, nil, unknown, testenv.Bearer(admin))
		e := wantError(t, resp, resp.Body, err, http.StatusUnprocessableEntity, "UNPROCESSABLE")
		wantFields(t, e, "category_id")
		attrs := apiclient.Attributes{}
		for i := 0; i < 51; i++ {
			attrs[fmt.Sprintf("k%d", i)] = i
		}
		bad, err := env.Client.CreateProductWithBodyWithResponse(ctx, nil, "application/json",
			jsonBody(`{"name":"Y","price_cents":-1,"stock":1.5,"currency":"usd","slug":"mine"}`), testenv.Bearer(admin))
		e = wantError(t, bad, bad.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "price_cents", "stock", "currency", "slug")
		many, err := env.Client.CreateProductWithResponse(ctx, nil, apiclient.ProductCreate{Name: "Z", PriceCents: 1, Stock: 1, Attributes: &attrs}, testenv.Bearer(admin))
		wantError(t, many, many.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
	t.Run("anonymous read is public and conditional", func(t *testing.T) {
		resp, err := env.Client.GetProductWithResponse(ctx, sencha.Id, nil)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if resp.HTTPResponse.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Fatalf("Cache-Control %q", resp.HTTPResponse.Header.Get("Cache-Control"))
		}
		tag := resp.HTTPResponse.Header.Get("ETag")
		nm, err := env.Client.GetProductWithResponse(ctx, sencha.Id, &apiclient.GetProductParams{IfNoneMatch: &tag})
		wantStatus(t, nm, nm.Body, err, http.StatusNotModified)
	})
	t.Run("inactive products are hidden from the public", func(t *testing.T) {
		hidden := f.product(t, apiclient.ProductCreate{Name: "Secret Blend", PriceCents: 5000, Stock: 1, Active: ptr(false)})
		anon, err := env.Client.GetProductWithResponse(ctx, hidden.Id, nil)
		wantError(t, anon, anon.Body, err, http.StatusNotFound, "NOT_FOUND")
		adm, err := env.Client.GetProductWithResponse(ctx, hidden.Id, nil, testenv.Bearer(admin))
		wantStatus(t, adm, adm.Body, err, http.StatusOK)
		if adm.HTTPResponse.Header.Get("Cache-Control") != "private, no-cache" {
			t.Fatalf("admin view is cacheable: %q", adm.HTTPResponse.Header.Get("Cache-Control"))
		}
		list, err := env.Client.ListProductsWithResponse(ctx, &apiclient.ListProductsParams{Q: ptr("secret")})
		wantStatus(t, list, list.Body, err, http.StatusOK)
		if len(list.JSON200.Data) != 0 {
			t.Fatal("inactive product listed publicly")
		}
	})
	t.Run("patch, stale if-match, put resets defaults", func(t *testing.T) {
		get, _ := env.Client.GetProductWithResponse(ctx, sencha.Id, nil)
		tag := get.HTTPResponse.Header.Get("ETag")
		patch, err := env.Client.UpdateProductWithResponse(ctx, sencha.Id, &apiclient.UpdateProductParams{IfMatch: &tag},
			apiclient.ProductPatch{Stock: ptr(int32(60))}, testenv.Bearer(admin))
		wantStatus(t, patch, patch.Body, err, http.StatusOK)
		if patch.JSON200.Data.Stock != 60 || patch.JSON200.Data.Name != sencha.Name {
			t.Fatalf("patched %+v", patch.JSON200.Data)
		}
		stale, err := env.Client.UpdateProductWithResponse(ctx, sencha.Id, &apiclient.UpdateProductParams{IfMatch: &tag},
			apiclient.ProductPatch{Stock: ptr(int32(1))}, testenv.Bearer(admin))
		wantError(t, stale, stale.Body, err, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
		put, err := env.Client.ReplaceProductWithResponse(ctx, sencha.Id, nil,
			apiclient.ProductCreate{Name: "Sencha Green Tea", PriceCents: 1300, Stock: 60}, testenv.Bearer(admin))
		wantStatus(t, put, put.Body, err, http.StatusOK)
		d := put.JSON200.Data
		if d.CategoryId != nil || len(d.Attributes) != 0 || d.Description != nil || d.PriceCents != 1300 || d.Slug != "sencha-green-tea" {
			t.Fatalf("PUT did not replace: %+v", d)
		}
	})
}

func TestProductListing(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	_, admin := env.Admin("catalog-admin@example.com")
	f := catalogFixture{env, admin}
	tea, coffee := f.category(t, "Tea"), f.category(t, "Coffee")
	for i := 0; i < 30; i++ {
		cat := &tea.Id
		if i%3 == 0 {
			cat = &coffee.Id
		}
		f.product(t, apiclient.ProductCreate{Name: fmt.Sprintf("Blend %02d", i), PriceCents: int64(500 + (i%10)*100), Stock: int32(i % 4), CategoryId: cat})
	}
	f.product(t, apiclient.ProductCreate{Name: "Oolong", Description: ptr("A roasted blend with notes of honey."), PriceCents: 900, Stock: 5, CategoryId: &tea.Id})
	f.product(t, apiclient.ProductCreate{Name: "Honey Oolong", Description: ptr("Oolong, lightly roasted."), PriceCents: 1900, Stock: 5, CategoryId: &tea.Id})

	list := func(t *testing.T, p apiclient.ListProductsParams) *apiclient.ListProductsResponse {
		t.Helper()
		resp, err := env.Client.ListProductsWithResponse(ctx, &p)
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		return resp
	}
	for _, s := range []apiclient.ListProductsParamsSort{"price", "-price", "name", "-name", "created_at", "-created_at"} {
		t.Run("every product once by "+string(s), func(t *testing.T) {
			seen := map[string]bool{}
			var prices []int64
			var cursor *string
			for {
				resp := list(t, apiclient.ListProductsParams{Sort: &s, Limit: ptr(int32(7)), Cursor: cursor})
				for _, p := range resp.JSON200.Data {
					if seen[p.Id.String()] {
						t.Fatalf("%s twice", p.Id)
					}
					seen[p.Id.String()] = true
					prices = append(prices, p.PriceCents)
				}
				if !resp.JSON200.Meta.HasMore {
					break
				}
				cursor = resp.JSON200.Meta.NextCursor
			}
			if len(seen) != 32 {
				t.Fatalf("saw %d products", len(seen))
			}
			if s == "price" && !sort.SliceIsSorted(prices, func(i, j int) bool { return prices[i] < prices[j] }) {
				t.Fatalf("not by price: %v", prices)
			}
		})
	}
	t.Run("filters", func(t *testing.T) {
		resp := list(t, apiclient.ListProductsParams{CategoryId: &coffee.Id, PriceMin: ptr(int64(600)), PriceMax: ptr(int64(1000)),
			InStock: ptr(true), Limit: ptr(int32(100)), Count: ptr(apiclient.ListProductsParamsCountExact)})
		for _, p := range resp.JSON200.Data {
			if *p.CategoryId != coffee.Id || p.PriceCents < 600 || p.PriceCents > 1000 || p.Stock == 0 {
				t.Fatalf("filter leaked %+v", p)
			}
		}
		if int64(len(resp.JSON200.Data)) != *resp.JSON200.Meta.Total || len(resp.JSON200.Data) == 0 {
			t.Fatalf("%d rows, total %d", len(resp.JSON200.Data), *resp.JSON200.Meta.Total)
		}
		none := list(t, apiclient.ListProductsParams{InStock: ptr(false), Limit: ptr(int32(100))})
		for _, p := range none.JSON200.Data {
			if p.Stock != 0 {
				t.Fatalf("in_stock=false returned stock %d", p.Stock)
			}
		}
	})
	t.Run("search ranks name hits first", func(t *testing.T) {
		resp := list(t, apiclient.ListProductsParams{Q: ptr("oolong")})
		names := []string{}
		for _, p := range resp.JSON200.Data {
			names = append(names, p.Name)
		}
		if len(names) != 2 || !strings.Contains(names[0], "Oolong") {
			t.Fatalf("results %v", names)
		}
		honey := list(t, apiclient.ListProductsParams{Q: ptr("honey")})
		if len(honey.JSON200.Data) != 2 || honey.JSON200.Data[0].Name != "Honey Oolong" {
			t.Fatalf("title hit not first: %+v", honey.JSON200.Data)
		}
	})
	t.Run("relevance needs q", func(t *testing.T) {
		resp, err := env.Client.ListProductsWithResponse(ctx, &apiclient.ListProductsParams{Sort: ptr(apiclient.ListProductsParamsSortRelevance)})
		e := wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "sort")
	})
	t.Run("price_min above price_max", func(t *testing.T) {
		resp, err := env.Client.ListProductsWithResponse(ctx, &apiclient.ListProductsParams{PriceMin: ptr(int64(10)), PriceMax: ptr(int64(5))})
		wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
}
