// Package catalog owns categories and products: their rules, and the Store they need.
package catalog

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/page"
)

// Category groups products.
type Category struct {
	ID          uuid.UUID
	Name        string
	Slug        string
	Description *string
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Product is something for sale. Money is integer minor units of Currency.
type Product struct {
	ID          uuid.UUID
	CategoryID  *uuid.UUID
	Name        string
	Slug        string
	Description *string
	PriceCents  int64
	Currency    string
	Stock       int32
	Attributes  map[string]any
	Active      bool
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Limits shared with the spec (TestDomainBoundsMatchSpec in internal/httpapi checks them).
const (
	MaxProductName         = 200
	MaxProductDescription  = 10000
	MaxCategoryName        = 100
	MaxCategoryDescription = 2000
	MaxPriceCents          = 100_000_000_000
	MaxStock               = 1_000_000
	MaxAttributes          = 50
	MaxAttributeBytes      = 16 << 10
	DefaultCurrency        = "USD"
)

// CategoryFields is the writable part of a category.
type CategoryFields struct {
	Name        string
	Description *string
}

// ProductFields is the writable part of a product, as a PUT sends it.
type ProductFields struct {
	Name        string
	Description *string
	PriceCents  int64
	Currency    string
	Stock       int32
	CategoryID  *uuid.UUID
	Attributes  map[string]any
	Active      bool
}

// ProductPatch changes only the non-nil fields.
type ProductPatch struct {
	Name        *string
	Description *string
	PriceCents  *int64
	Currency    *string
	Stock       *int32
	CategoryID  *uuid.UUID
	Attributes  map[string]any
	Active      *bool
}

// ProductFilter narrows a product list; zero fields do not filter.
type ProductFilter struct {
	CategoryID      *uuid.UUID
	PriceMin        *int64
	PriceMax        *int64
	InStock         *bool
	Q               string
	IncludeInactive bool
}

// Store is what the catalog rules need from storage. Create and update pick a free slug for the
// given base; a missing row is KindNotFound; an unknown category is KindUnprocessable.
type Store interface {
	CreateCategory(ctx context.Context, id uuid.UUID, f CategoryFields, baseSlug string) (Category, error)
	Category(ctx context.Context, id uuid.UUID) (Category, error)
	LockCategory(ctx context.Context, id uuid.UUID) (Category, error)
	UpdateCategory(ctx context.Context, c Category, baseSlug string) (Category, error)
	DeleteCategory(ctx context.Context, id uuid.UUID) error
	CategoryHasProducts(ctx context.Context, id uuid.UUID) (bool, error)
	ListCategories(ctx context.Context, req page.Request) (page.Page[Category], error)

	CreateProduct(ctx context.Context, id uuid.UUID, f ProductFields, baseSlug string) (Product, error)
	Product(ctx context.Context, id uuid.UUID) (Product, error)
	LockProduct(ctx context.Context, id uuid.UUID) (Product, error)
	UpdateProduct(ctx context.Context, p Product, baseSlug string) (Product, error)
	DeleteProduct(ctx context.Context, id uuid.UUID) error
	ListProducts(ctx context.Context, f ProductFilter, req page.Request) (page.Page[Product], error)
}

// categoryNameTaken answers a category name another live category has.
func categoryNameTaken(err error) error {
	if apperr.IsDuplicate(err, "category", "name") {
		e := apperr.New(apperr.KindConflict, "A category with this name already exists.")
		e.Details = []apperr.Detail{{Field: "name", Message: "is already taken"}}
		e.Cause = err
		return e
	}
	return err
}

// unknownCategory answers a product that names a category that does not exist: the request is well
// formed, but refers to nothing (422 on the field).
func unknownCategory(err error) error {
	if apperr.IsNotFound(err, "category") {
		e := apperr.New(apperr.KindUnprocessable, "The category does not exist.")
		e.Details = []apperr.Detail{{Field: "category_id", Message: "is not an existing category"}}
		return e
	}
	return err
}

// ProductSorts are the keys a product list can be ordered by; with a search query also "relevance".
var ProductSorts = []string{"created_at", "name", "price"}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

func invalid(field, msg string) *apperr.Detail { return &apperr.Detail{Field: field, Message: msg} }

func validateText(field, s string, min, max int) *apperr.Detail {
	n := utf8.RuneCountInString(s)
	if n < min || n > max || (min > 0 && strings.TrimSpace(s) == "") {
		return invalid(field, "must be "+itoa(min)+" to "+itoa(max)+" characters and not blank")
	}
	return nil
}

func validateOptionalText(field string, s *string, max int) *apperr.Detail {
	if s != nil && utf8.RuneCountInString(*s) > max {
		return invalid(field, "must be at most "+itoa(max)+" characters")
	}
	return nil
}

func validateCategory(f CategoryFields) error {
	return apperr.Collect(validateText("name", f.Name, 1, MaxCategoryName), validateOptionalText("description", f.Description, MaxCategoryDescription))
}

func validateProduct(f ProductFields) error {
	var d []*apperr.Detail
	d = append(d, validateText("name", f.Name, 1, MaxProductName), validateOptionalText("description", f.Description, MaxProductDescription))
	if f.PriceCents < 0 || f.PriceCents > MaxPriceCents {
		d = append(d, invalid("price_cents", "must be between 0 and 100000000000"))
	}
	if !currencyPattern.MatchString(f.Currency) {
		d = append(d, invalid("currency", "must be an ISO 4217 code such as USD"))
	}
	if f.Stock < 0 || f.Stock > MaxStock {
		d = append(d, invalid("stock", "must be between 0 and 1000000"))
	}
	if len(f.Attributes) > MaxAttributes {
		d = append(d, invalid("attributes", "must have at most 50 members"))
	} else if b, err := json.Marshal(f.Attributes); err != nil || len(b) > MaxAttributeBytes {
		d = append(d, invalid("attributes", "must be at most 16 KiB as JSON"))
	}
	return apperr.Collect(d...)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
