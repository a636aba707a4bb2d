package catalog

import (
	"context"
	"reflect"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/slug"
	"github.com/storefront/storefront/internal/uow"
)

// Service holds the catalog rules.
type Service struct {
	store  Store
	tx     uow.Runner
	audit  audit.Recorder
	events events.Publisher
}

// NewService returns the catalog rules over a store, the unit of work it takes part in, and the outbox
// product changes are published to (in the change's unit of work). Categories publish no events.
func NewService(store Store, tx uow.Runner, publisher events.Publisher) *Service {
	return &Service{store: store, tx: tx, audit: audit.Discard, events: publisher}
}

func (s *Service) publish(ctx context.Context, t events.Type, p Product, previous *Product) error {
	c := events.Change{Type: t, ResourceID: p.ID, Resource: p}
	if previous != nil {
		c.Previous = *previous
	}
	return s.events.Publish(ctx, c)
}

// RecordTo sets the audit log every catalog write is recorded in.
func (s *Service) RecordTo(r audit.Recorder) { s.audit = r }

// record records a catalog write in its unit of work.
func (s *Service) record(ctx context.Context, p access.Principal, action audit.Action, resource string, id uuid.UUID, ch audit.Changes) error {
	return s.audit.Record(ctx, audit.Event{Action: action, ResourceType: resource, ResourceID: id, Actor: p, Changes: ch})
}

func text(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func idText(id *uuid.UUID) any {
	if id == nil {
		return nil
	}
	return id.String()
}

// productChanges are the fields of a product a write changed; long text and attributes only say so.
func productChanges(before, after Product) audit.Changes {
	return audit.Changes{}.Diff("name", before.Name, after.Name).Diff("price_cents", before.PriceCents, after.PriceCents).
		Diff("currency", before.Currency, after.Currency).Diff("stock", before.Stock, after.Stock).
		Diff("active", before.Active, after.Active).Diff("category_id", idText(before.CategoryID), idText(after.CategoryID)).
		Touched("description", text(before.Description) != text(after.Description)).
		Touched("attributes", !reflect.DeepEqual(before.Attributes, after.Attributes))
}

var errNeedsCatalogWrite = apperr.NeedsScope(access.ScopeCatalogWrite)

func requireWriter(p access.Principal) error {
	if !p.Has(access.ScopeCatalogWrite) {
		return errNeedsCatalogWrite
	}
	return nil
}

// lockCategory reads a category under a row lock for a conditional write.
func (s *Service) lockCategory(ctx context.Context, id uuid.UUID, ifMatch etag.Condition) (Category, error) {
	c, err := s.store.LockCategory(ctx, id)
	if err != nil {
		return Category{}, err
	}
	return c, ifMatch.CheckWrite(c.Version, "category")
}

// lockProduct reads a product under a row lock for a conditional write.
func (s *Service) lockProduct(ctx context.Context, id uuid.UUID, ifMatch etag.Condition) (Product, error) {
	pr, err := s.store.LockProduct(ctx, id)
	if err != nil {
		return Product{}, err
	}
	return pr, ifMatch.CheckWrite(pr.Version, "product")
}

// CreateCategory adds a category with a slug derived from its name.
func (s *Service) CreateCategory(ctx context.Context, p access.Principal, f CategoryFields) (Category, error) {
	if err := requireWriter(p); err != nil {
		return Category{}, err
	}
	if err := validateCategory(f); err != nil {
		return Category{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Category{}, apperr.Internal(err)
	}
	var c Category
	err = s.tx.InTx(ctx, func(ctx context.Context) (err error) {
		if c, err = s.store.CreateCategory(ctx, id, f, slug.Make(f.Name)); err != nil {
			return categoryNameTaken(err)
		}
		return s.record(ctx, p, audit.CategoryCreated, audit.ResourceCategory, c.ID, audit.Changes{}.Set("name", c.Name))
	})
	return c, err
}

// Category returns a live category.
func (s *Service) Category(ctx context.Context, id uuid.UUID) (Category, error) {
	return s.store.Category(ctx, id)
}

// ListCategories returns categories by name.
func (s *Service) ListCategories(ctx context.Context, req page.Request) (page.Page[Category], error) {
	req, err := req.Sorted("name", "name")
	if err != nil {
		return page.Page[Category]{}, err
	}
	return s.store.ListCategories(ctx, req)
}

// UpdateCategory applies a partial change under a row lock.
func (s *Service) UpdateCategory(ctx context.Context, p access.Principal, id uuid.UUID, name, description *string, ifMatch etag.Condition) (Category, error) {
	if err := requireWriter(p); err != nil {
		return Category{}, err
	}
	var out Category
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.lockCategory(ctx, id, ifMatch)
		if err != nil {
			return err
		}
		before := c
		base := ""
		if name != nil && *name != c.Name {
			c.Name = *name
			base = slug.Make(c.Name)
		}
		if description != nil {
			c.Description = description
		}
		if err := validateCategory(CategoryFields{Name: c.Name, Description: c.Description}); err != nil {
			return err
		}
		if out, err = s.store.UpdateCategory(ctx, c, base); err != nil {
			return categoryNameTaken(err)
		}
		return s.record(ctx, p, audit.CategoryUpdated, audit.ResourceCategory, id, audit.Changes{}.Diff("name", before.Name, out.Name).
			Touched("description", text(before.Description) != text(out.Description)))
	})
	return out, err
}

// DeleteCategory soft-deletes an empty category.
func (s *Service) DeleteCategory(ctx context.Context, p access.Principal, id uuid.UUID, ifMatch etag.Condition) error {
	if err := requireWriter(p); err != nil {
		return err
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.lockCategory(ctx, id, ifMatch)
		if err != nil {
			return err
		}
		has, err := s.store.CategoryHasProducts(ctx, id)
		if err != nil {
			return err
		}
		if has {
			return apperr.New(apperr.KindConflict, "The category still has products; move or delete them first.")
		}
		if err := s.store.DeleteCategory(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, p, audit.CategoryDeleted, audit.ResourceCategory, id, audit.Changes{"name": c.Name})
	})
}

// CreateProduct adds a product with a slug derived from its name.
func (s *Service) CreateProduct(ctx context.Context, p access.Principal, f ProductFields) (Product, error) {
	if err := requireWriter(p); err != nil {
		return Product{}, err
	}
	f = withDefaults(f)
	if err := validateProduct(f); err != nil {
		return Product{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Product{}, apperr.Internal(err)
	}
	var pr Product
	err = s.tx.InTx(ctx, func(ctx context.Context) (err error) {
		if pr, err = s.store.CreateProduct(ctx, id, f, slug.Make(f.Name)); err != nil {
			return unknownCategory(err)
		}
		if err := s.record(ctx, p, audit.ProductCreated, audit.ResourceProduct, pr.ID, audit.Changes{}.Set("name", pr.Name).
			Set("price_cents", pr.PriceCents).Set("currency", pr.Currency).Set("stock", pr.Stock).Set("active", pr.Active)); err != nil {
			return err
		}
		return s.publish(ctx, events.ProductCreated, pr, nil)
	})
	return pr, err
}

func withDefaults(f ProductFields) ProductFields {
	if f.Currency == "" {
		f.Currency = DefaultCurrency
	}
	if f.Attributes == nil {
		f.Attributes = map[string]any{}
	}
	return f
}

// Product returns a live product; inactive ones only to those who may see them.
func (s *Service) Product(ctx context.Context, includeInactive bool, id uuid.UUID) (Product, error) {
	pr, err := s.store.Product(ctx, id)
	if err != nil {
		return Product{}, err
	}
	if !pr.Active && !includeInactive {
		return Product{}, apperr.NotFound("product")
	}
	return pr, nil
}

// ListProducts returns a page of products. With a search query the default order is relevance.
func (s *Service) ListProducts(ctx context.Context, f ProductFilter, req page.Request) (page.Page[Product], error) {
	req, err := req.SortedBySearch(f.Q, "-created_at", ProductSorts...)
	if err != nil {
		return page.Page[Product]{}, err
	}
	if f.PriceMin != nil && f.PriceMax != nil && *f.PriceMin > *f.PriceMax {
		return page.Page[Product]{}, apperr.InvalidField("price_min", "must not exceed price_max")
	}
	return s.store.ListProducts(ctx, f, req)
}

// ReplaceProduct writes every field (PUT).
func (s *Service) ReplaceProduct(ctx context.Context, p access.Principal, id uuid.UUID, f ProductFields, ifMatch etag.Condition) (Product, error) {
	return s.updateProduct(ctx, p, id, ifMatch, func(pr *Product) { set(pr, withDefaults(f)) })
}

// PatchProduct writes the fields sent (PATCH).
func (s *Service) PatchProduct(ctx context.Context, p access.Principal, id uuid.UUID, c ProductPatch, ifMatch etag.Condition) (Product, error) {
	return s.updateProduct(ctx, p, id, ifMatch, func(pr *Product) { apply(pr, c) })
}

func (s *Service) updateProduct(ctx context.Context, p access.Principal, id uuid.UUID, ifMatch etag.Condition, change func(*Product)) (Product, error) {
	if err := requireWriter(p); err != nil {
		return Product{}, err
	}
	var out Product
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		pr, err := s.lockProduct(ctx, id, ifMatch)
		if err != nil {
			return err
		}
		before := pr
		change(&pr)
		if err := validateProduct(fieldsOf(pr)); err != nil {
			return err
		}
		base := ""
		if pr.Name != before.Name {
			base = slug.Make(pr.Name)
		}
		if out, err = s.store.UpdateProduct(ctx, pr, base); err != nil {
			return unknownCategory(err)
		}
		if err := s.record(ctx, p, audit.ProductUpdated, audit.ResourceProduct, id, productChanges(before, out)); err != nil {
			return err
		}
		return s.publish(ctx, events.ProductUpdated, out, &before)
	})
	return out, err
}

// DeleteProduct soft-deletes a product; order lines keep referring to it.
func (s *Service) DeleteProduct(ctx context.Context, p access.Principal, id uuid.UUID, ifMatch etag.Condition) error {
	if err := requireWriter(p); err != nil {
		return err
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		pr, err := s.lockProduct(ctx, id, ifMatch)
		if err != nil {
			return err
		}
		if err := s.store.DeleteProduct(ctx, id); err != nil {
			return err
		}
		if err := s.record(ctx, p, audit.ProductDeleted, audit.ResourceProduct, id, audit.Changes{"name": pr.Name}); err != nil {
			return err
		}
		return s.publish(ctx, events.ProductDeleted, pr, nil) // the product as it was until deleted
	})
}

func fieldsOf(p Product) ProductFields {
	return ProductFields{Name: p.Name, Description: p.Description, PriceCents: p.PriceCents, Currency: p.Currency,
		Stock: p.Stock, CategoryID: p.CategoryID, Attributes: p.Attributes, Active: p.Active}
}

func set(p *Product, f ProductFields) {
	p.Name, p.Description, p.PriceCents, p.Currency = f.Name, f.Description, f.PriceCents, f.Currency
	p.Stock, p.CategoryID, p.Attributes, p.Active = f.Stock, f.CategoryID, f.Attributes, f.Active
}

func apply(p *Product, c ProductPatch) {
	if c.Name != nil {
		p.Name = *c.Name
	}
	if c.Description != nil {
		p.Description = c.Description
	}
	if c.PriceCents != nil {
		p.PriceCents = *c.PriceCents
	}
	if c.Currency != nil {
		p.Currency = *c.Currency
	}
	if c.Stock != nil {
		p.Stock = *c.Stock
	}
	if c.CategoryID != nil {
		p.CategoryID = c.CategoryID
	}
	if c.Attributes != nil {
		p.Attributes = c.Attributes
	}
	if c.Active != nil {
		p.Active = *c.Active
	}
}
