package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/slug"
)

// CatalogStore implements catalog.Store.
type CatalogStore struct{ *DB }

var _ catalog.Store = (*CatalogStore)(nil)

// NewCatalogStore returns a store over the pool.
func NewCatalogStore(d *DB) *CatalogStore { return &CatalogStore{d} }

// slugAttempts bounds the retries when concurrent writers pick the same free slug.
const slugAttempts = 5

// withFreeSlug runs write with a free slug for base (or keep, when base is empty), retrying on a race
// for the slug's unique index. Each attempt runs in a savepoint so a collision does not spoil the
// surrounding transaction.
func (d *DB) withFreeSlug(ctx context.Context, baseSlug, keep, constraint string,
	taken func(*db.Queries, string) ([]string, error), write func(*db.Queries, string) error) error {
	if baseSlug == "" {
		return d.InTx(ctx, func(ctx context.Context) error { return write(d.q(ctx), keep) })
	}
	var err error
	for i := 0; i < slugAttempts; i++ {
		err = d.InTx(ctx, func(ctx context.Context) error {
			q := d.q(ctx)
			existing, err := taken(q, baseSlug)
			if err != nil {
				return err
			}
			return write(q, slug.Free(baseSlug, existing))
		})
		if uniqueConstraint(err) != constraint {
			return err
		}
	}
	return err
}

func categoryFromRow(r db.Category) catalog.Category {
	return catalog.Category{ID: r.PublicID, Name: r.Name, Slug: r.Slug, Description: r.Description,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func translateCategory(err error) error { return translate(err, "category") }

func categorySlugs(ctx context.Context) func(*db.Queries, string) ([]string, error) {
	return func(q *db.Queries, base string) ([]string, error) { return q.CategorySlugsLike(ctx, base) }
}

func (s *CatalogStore) CreateCategory(ctx context.Context, id uuid.UUID, f catalog.CategoryFields, baseSlug string) (catalog.Category, error) {
	var row db.Category
	err := s.withFreeSlug(ctx, baseSlug, "", "categories_slug_live_key", categorySlugs(ctx), func(q *db.Queries, sl string) error {
		var err error
		row, err = q.CreateCategory(ctx, db.CreateCategoryParams{PublicID: id, Name: f.Name, Slug: sl, Description: f.Description})
		return err
	})
	if err != nil {
		return catalog.Category{}, translateCategory(err)
	}
	return categoryFromRow(row), nil
}

func (s *CatalogStore) Category(ctx context.Context, id uuid.UUID) (catalog.Category, error) {
	row, err := s.rq(ctx).GetCategory(ctx, id)
	if err != nil {
		return catalog.Category{}, translateCategory(err)
	}
	return categoryFromRow(row), nil
}

func (s *CatalogStore) LockCategory(ctx context.Context, id uuid.UUID) (catalog.Category, error) {
	row, err := s.q(ctx).LockCategory(ctx, id)
	if err != nil {
		return catalog.Category{}, translateCategory(err)
	}
	return categoryFromRow(row), nil
}

func (s *CatalogStore) UpdateCategory(ctx context.Context, c catalog.Category, baseSlug string) (catalog.Category, error) {
	var row db.Category
	err := s.withFreeSlug(ctx, baseSlug, c.Slug, "categories_slug_live_key", categorySlugs(ctx), func(q *db.Queries, sl string) error {
		var err error
		row, err = q.UpdateCategory(ctx, db.UpdateCategoryParams{PublicID: c.ID, Name: c.Name, Slug: sl, Description: c.Description})
		return err
	})
	if err != nil {
		return catalog.Category{}, translateCategory(err)
	}
	return categoryFromRow(row), nil
}

func (s *CatalogStore) DeleteCategory(ctx context.Context, id uuid.UUID) error {
	n, err := s.q(ctx).SoftDeleteCategory(ctx, id)
	return deleted(n, err, "category")
}

func (s *CatalogStore) CategoryHasProducts(ctx context.Context, id uuid.UUID) (bool, error) {
	has, err := s.q(ctx).CategoryHasProducts(ctx, id)
	return has, translate(err, "category")
}

var categorySorts = map[string]sortColumn{"name": {expr: "name", kind: kindText}}

const categoryColumns = "id, public_id, name, slug, description, version, created_at, updated_at, deleted_at"

func (s *CatalogStore) ListCategories(ctx context.Context, req page.Request) (page.Page[catalog.Category], error) {
	q := newListQuery("categories", categoryColumns, categorySorts)
	q.mayLag = true
	q.base("deleted_at IS NULL")
	return runList(ctx, s.DB, q, req, func(row pgx.Row, key *any) (db.Category, error) {
		var c db.Category
		err := row.Scan(&c.ID, &c.PublicID, &c.Name, &c.Slug, &c.Description, &c.Version, &c.CreatedAt, &c.UpdatedAt, &c.DeletedAt, key)
		return c, err
	}, categoryFromRow, func(c catalog.Category) uuid.UUID { return c.ID })
}

// productRow is the shape every product query returns (GetProduct, LockProduct and lists).
type productRow = db.GetProductRow

func productFromRow(r productRow) catalog.Product {
	attrs := map[string]any{}
	_ = json.Unmarshal(r.Attributes, &attrs) // the column is CHECKed to be a JSON object
	return catalog.Product{ID: r.PublicID, CategoryID: r.CategoryPublicID, Name: r.Name, Slug: r.Slug,
		Description: r.Description, PriceCents: r.PriceCents, Currency: r.Currency, Stock: r.Stock,
		Attributes: attrs, Active: r.Active, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func translateProduct(err error) error { return translate(err, "product") }

// categoryRef resolves a category's public ID to its key; an unknown one is NotFound("category").
func categoryRef(ctx context.Context, q *db.Queries, id *uuid.UUID) (*int64, error) {
	if id == nil {
		return nil, nil
	}
	key, err := q.CategoryInternalID(ctx, *id)
	if err != nil {
		return nil, translate(err, "category")
	}
	return &key, nil
}

func productSlugs(ctx context.Context) func(*db.Queries, string) ([]string, error) {
	return func(q *db.Queries, base string) ([]string, error) { return q.ProductSlugsLike(ctx, base) }
}

func (s *CatalogStore) CreateProduct(ctx context.Context, id uuid.UUID, f catalog.ProductFields, baseSlug string) (catalog.Product, error) {
	attrs, err := json.Marshal(f.Attributes)
	if err != nil {
		return catalog.Product{}, apperr.Internal(err)
	}
	err = s.withFreeSlug(ctx, baseSlug, "", "products_slug_live_key", productSlugs(ctx), func(q *db.Queries, sl string) error {
		cat, err := categoryRef(ctx, q, f.CategoryID)
		if err != nil {
			return err
		}
		_, err = q.CreateProduct(ctx, db.CreateProductParams{PublicID: id, CategoryID: cat, Name: f.Name, Slug: sl,
			Description: f.Description, PriceCents: f.PriceCents, Currency: f.Currency, Stock: f.Stock, Attributes: attrs, Active: f.Active})
		return err
	})
	if err != nil {
		return catalog.Product{}, translateProduct(err)
	}
	return s.Product(ctx, id)
}

func (s *CatalogStore) Product(ctx context.Context, id uuid.UUID) (catalog.Product, error) {
	row, err := s.rq(ctx).GetProduct(ctx, id)
	if err != nil {
		return catalog.Product{}, translateProduct(err)
	}
	return productFromRow(row), nil
}

func (s *CatalogStore) LockProduct(ctx context.Context, id uuid.UUID) (catalog.Product, error) {
	row, err := s.q(ctx).LockProduct(ctx, id)
	if err != nil {
		return catalog.Product{}, translateProduct(err)
	}
	return productFromRow(productRow(row)), nil
}

func (s *CatalogStore) UpdateProduct(ctx context.Context, p catalog.Product, baseSlug string) (catalog.Product, error) {
	attrs, err := json.Marshal(p.Attributes)
	if err != nil {
		return catalog.Product{}, apperr.Internal(err)
	}
	err = s.withFreeSlug(ctx, baseSlug, p.Slug, "products_slug_live_key", productSlugs(ctx), func(q *db.Queries, sl string) error {
		cat, err := categoryRef(ctx, q, p.CategoryID)
		if err != nil {
			return err
		}
		return q.UpdateProduct(ctx, db.UpdateProductParams{PublicID: p.ID, CategoryID: cat, Name: p.Name, Slug: sl,
			Description: p.Description, PriceCents: p.PriceCents, Currency: p.Currency, Stock: p.Stock, Attributes: attrs, Active: p.Active})
	})
	if err != nil {
		return catalog.Product{}, translateProduct(err)
	}
	return s.Product(ctx, p.ID)
}

func (s *CatalogStore) DeleteProduct(ctx context.Context, id uuid.UUID) error {
	n, err := s.q(ctx).SoftDeleteProduct(ctx, id)
	return deleted(n, err, "product")
}

// productSorts: each plain sort has an index (alone, and behind category_id); relevance ranks q's matches.
var productSorts = map[string]sortColumn{
	"created_at": {expr: "p.created_at", kind: kindTime},
	"name":       {expr: "p.name", kind: kindText},
	"price":      {expr: "p.price_cents", kind: kindInt},
	"relevance":  {expr: "ts_rank(p.search, websearch_to_tsquery('english', $1))::float8", kind: kindFloat},
}

const productColumns = `p.id, p.public_id, c.public_id, p.name, p.slug, p.description, p.price_cents, p.currency,
	p.stock, p.attributes, p.active, p.version, p.created_at, p.updated_at`

func (s *CatalogStore) ListProducts(ctx context.Context, f catalog.ProductFilter, req page.Request) (page.Page[catalog.Product], error) {
	q := newListQuery("products p LEFT JOIN categories c ON c.id = p.category_id", productColumns, productSorts)
	q.countTable, q.idExpr, q.mayLag = "products p", "p.public_id", true
	q.base("p.deleted_at IS NULL")
	if f.Q != "" {
		// $1 is the search query: the relevance sort refers to it.
		q.where("p.search @@ websearch_to_tsquery('english', $?)", f.Q)
	} else if trimDesc(req.Sort) == "relevance" { // the domain refuses it; the SQL would read $1 as the query
		return page.Page[catalog.Product]{}, apperr.Internal(errors.New("relevance sort without a search query"))
	}
	if !f.IncludeInactive {
		q.base("p.active")
	}
	if f.CategoryID != nil {
		q.where("p.category_id = (SELECT id FROM categories WHERE public_id = $?)", *f.CategoryID)
	}
	if f.PriceMin != nil {
		q.where("p.price_cents >= $?", *f.PriceMin)
	}
	if f.PriceMax != nil {
		q.where("p.price_cents <= $?", *f.PriceMax)
	}
	if f.InStock != nil {
		if *f.InStock {
			q.where("p.stock > 0")
		} else {
			q.where("p.stock = 0")
		}
	}
	if trimDesc(req.Sort) == "relevance" && !strings.HasPrefix(req.Sort, "-") {
		req.Sort = "-relevance" // best match first
	}
	return runList(ctx, s.DB, q, req, scanProduct, productFromRow, func(p catalog.Product) uuid.UUID { return p.ID })
}

func scanProduct(row pgx.Row, key *any) (productRow, error) {
	var r productRow
	err := row.Scan(&r.ID, &r.PublicID, &r.CategoryPublicID, &r.Name, &r.Slug, &r.Description, &r.PriceCents,
		&r.Currency, &r.Stock, &r.Attributes, &r.Active, &r.Version, &r.CreatedAt, &r.UpdatedAt, key)
	if err != nil {
		return r, fmt.Errorf("scanning product: %w", err)
	}
	return r, nil
}
