package httpapi

import (
	"context"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/etag"
)

// publicCache lets browsers and CDNs keep anonymous catalog reads briefly; ETags revalidate them.
const publicCache = "public, max-age=60"

// catalogCache is public for anonymous readers and private for signed-in ones, whose view may include
// inactive products.
func catalogCache(ctx context.Context) (cache string, includeInactive bool) {
	p, ok := access.PrincipalFrom(ctx)
	if !ok {
		return publicCache, false
	}
	return privateRevalidate, p.Has(access.ScopeCatalogRead) || p.Has(access.ScopeCatalogWrite)
}

func categoryOK(c catalog.Category, cache string) api.CategoryOKJSONResponse {
	return api.CategoryOKJSONResponse{Body: api.CategoryResponse{Data: toAPICategory(c)},
		Headers: api.CategoryOKResponseHeaders{ETag: etag.Format(c.Version), CacheControl: cache}}
}

func productOK(p catalog.Product, cache string) api.ProductOKJSONResponse {
	return api.ProductOKJSONResponse{Body: api.ProductResponse{Data: toAPIProduct(p)},
		Headers: api.ProductOKResponseHeaders{ETag: etag.Format(p.Version), CacheControl: cache}}
}

func (s *Server) ListCategories(ctx context.Context, req api.ListCategoriesRequestObject) (api.ListCategoriesResponseObject, error) {
	res, err := s.deps.Catalog.ListCategories(ctx, pageRequest(nil, req.Params.Limit, req.Params.Cursor, (*string)(req.Params.Count)))
	if err != nil {
		return nil, err
	}
	data := make([]api.Category, 0, len(res.Items))
	for _, c := range res.Items {
		data = append(data, toAPICategory(c))
	}
	return api.ListCategories200JSONResponse{Body: api.CategoryList{Data: data, Meta: toAPIMeta(res)},
		Headers: api.ListCategories200ResponseHeaders{CacheControl: publicCache}}, nil
}

func (s *Server) CreateCategory(ctx context.Context, req api.CreateCategoryRequestObject) (api.CreateCategoryResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.deps.Catalog.CreateCategory(ctx, p, catalog.CategoryFields{Name: req.Body.Name, Description: req.Body.Description})
	if err != nil {
		return nil, err
	}
	return api.CreateCategory201JSONResponse{Body: api.CategoryResponse{Data: toAPICategory(c)},
		Headers: api.CreateCategory201ResponseHeaders{ETag: etag.Format(c.Version), Location: "/v1/categories/" + c.ID.String()}}, nil
}

func (s *Server) GetCategory(ctx context.Context, req api.GetCategoryRequestObject) (api.GetCategoryResponseObject, error) {
	c, err := s.deps.Catalog.Category(ctx, req.CategoryId)
	if err != nil {
		return nil, err
	}
	if m := etag.Parse(req.Params.IfNoneMatch); m.Present() && m.MatchWeak(c.Version) {
		return api.GetCategory304Response{Headers: api.NotModifiedResponseHeaders{ETag: etag.Format(c.Version)}}, nil
	}
	return api.GetCategory200JSONResponse{CategoryOKJSONResponse: categoryOK(c, publicCache)}, nil
}

func (s *Server) UpdateCategory(ctx context.Context, req api.UpdateCategoryRequestObject) (api.UpdateCategoryResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.deps.Catalog.UpdateCategory(ctx, p, req.CategoryId, req.Body.Name, req.Body.Description, etag.Parse(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateCategory200JSONResponse{CategoryOKJSONResponse: categoryOK(c, privateRevalidate)}, nil
}

func (s *Server) DeleteCategory(ctx context.Context, req api.DeleteCategoryRequestObject) (api.DeleteCategoryResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Catalog.DeleteCategory(ctx, p, req.CategoryId, etag.Parse(req.Params.IfMatch)); err != nil {
		return nil, err
	}
	return api.DeleteCategory204Response{}, nil
}

func (s *Server) ListProducts(ctx context.Context, req api.ListProductsRequestObject) (api.ListProductsResponseObject, error) {
	cache, includeInactive := catalogCache(ctx)
	prm := req.Params
	f := catalog.ProductFilter{CategoryID: prm.CategoryId, PriceMin: prm.PriceMin, PriceMax: prm.PriceMax,
		InStock: prm.InStock, Q: deref(prm.Q), IncludeInactive: includeInactive}
	res, err := s.deps.Catalog.ListProducts(ctx, f, pageRequest((*string)(prm.Sort), prm.Limit, prm.Cursor, (*string)(prm.Count)))
	if err != nil {
		return nil, err
	}
	data := make([]api.Product, 0, len(res.Items))
	for _, p := range res.Items {
		data = append(data, toAPIProduct(p))
	}
	return api.ListProducts200JSONResponse{Body: api.ProductList{Data: data, Meta: toAPIMeta(res)},
		Headers: api.ListProducts200ResponseHeaders{CacheControl: cache}}, nil
}

func (s *Server) CreateProduct(ctx context.Context, req api.CreateProductRequestObject) (api.CreateProductResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := s.deps.Catalog.CreateProduct(ctx, p, productFields(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateProduct201JSONResponse{Body: api.ProductResponse{Data: toAPIProduct(pr)},
		Headers: api.CreateProduct201ResponseHeaders{ETag: etag.Format(pr.Version), Location: "/v1/products/" + pr.ID.String()}}, nil
}

func (s *Server) GetProduct(ctx context.Context, req api.GetProductRequestObject) (api.GetProductResponseObject, error) {
	cache, includeInactive := catalogCache(ctx)
	pr, err := s.deps.Catalog.Product(ctx, includeInactive, req.ProductId)
	if err != nil {
		return nil, err
	}
	if m := etag.Parse(req.Params.IfNoneMatch); m.Present() && m.MatchWeak(pr.Version) {
		return api.GetProduct304Response{Headers: api.NotModifiedResponseHeaders{ETag: etag.Format(pr.Version)}}, nil
	}
	return s.productOKMemo(pr, cache)
}

func (s *Server) ReplaceProduct(ctx context.Context, req api.ReplaceProductRequestObject) (api.ReplaceProductResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := s.deps.Catalog.ReplaceProduct(ctx, p, req.ProductId, productFields(*req.Body), etag.Parse(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.ReplaceProduct200JSONResponse{ProductOKJSONResponse: productOK(pr, privateRevalidate)}, nil
}

func (s *Server) UpdateProduct(ctx context.Context, req api.UpdateProductRequestObject) (api.UpdateProductResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	patch := catalog.ProductPatch{Name: b.Name, Description: b.Description, PriceCents: b.PriceCents, Currency: b.Currency,
		Stock: b.Stock, CategoryID: b.CategoryId, Active: b.Active}
	if b.Attributes != nil {
		patch.Attributes = *b.Attributes
	}
	pr, err := s.deps.Catalog.PatchProduct(ctx, p, req.ProductId, patch, etag.Parse(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateProduct200JSONResponse{ProductOKJSONResponse: productOK(pr, privateRevalidate)}, nil
}

func (s *Server) DeleteProduct(ctx context.Context, req api.DeleteProductRequestObject) (api.DeleteProductResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Catalog.DeleteProduct(ctx, p, req.ProductId, etag.Parse(req.Params.IfMatch)); err != nil {
		return nil, err
	}
	return api.DeleteProduct204Response{}, nil
}

func productFields(b api.ProductCreate) catalog.ProductFields {
	f := catalog.ProductFields{Name: b.Name, Description: b.Description, PriceCents: b.PriceCents, Stock: b.Stock,
		CategoryID: b.CategoryId, Currency: deref(b.Currency), Active: true}
	if b.Attributes != nil {
		f.Attributes = *b.Attributes
	}
	if b.Active != nil {
		f.Active = *b.Active
	}
	return f
}

func toAPICategory(c catalog.Category) api.Category {
	return api.Category{Id: c.ID, Name: c.Name, Slug: c.Slug, Description: c.Description,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

func toAPIProduct(p catalog.Product) api.Product {
	return api.Product{Id: p.ID, Name: p.Name, Slug: p.Slug, Description: p.Description, PriceCents: p.PriceCents,
		Currency: p.Currency, Stock: p.Stock, CategoryId: p.CategoryID, Attributes: p.Attributes, Active: p.Active,
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}
