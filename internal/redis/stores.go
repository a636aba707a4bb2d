package redis

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/aftercommit"

	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/orders"
)

// The decorators below cache single-resource reads of the stores they wrap and invalidate on every
// write. Inside a transaction (their own, or a request's) they never fill the cache (the row may not be committed, or may be rolled
// back); they collect the keys written and invalidate them once the transaction has committed.

// pending collects keys written inside one transaction.
type pending struct {
	mu   sync.Mutex
	keys []string
}

func (p *pending) add(keys ...string) {
	p.mu.Lock()
	p.keys = append(p.keys, keys...)
	p.mu.Unlock()
}

// written records keys written: inside a transaction for later, outside at once.
func (cache *Cache) written(ctx context.Context, tx *pending, keys ...string) {
	if tx != nil {
		tx.add(keys...)
		return
	}
	cache.invalidate(ctx, keys...)
}

// readThrough serves a single read from the cache, except inside a transaction (the decorator's own
// or a request's), where it reads the store and never fills.
func readThrough[T any](ctx context.Context, cache *Cache, tx *pending, key string, load func() (T, error)) (T, error) {
	if tx != nil || aftercommit.Active(ctx) {
		return load()
	}
	return getOrLoad(ctx, cache, key, load)
}

// committed invalidates what a finished transaction wrote, whatever its outcome: a failed COMMIT may
// still have been applied, and invalidating after a rollback is harmless.
func (cache *Cache) committed(ctx context.Context, tx *pending, err error) error {
	if len(tx.keys) > 0 {
		cache.invalidate(ctx, tx.keys...)
	}
	return err
}

func (cache *Cache) productKey(id uuid.UUID) string {
	return cache.c.Key(cacheNamespace, "product", id.String())
}
func (cache *Cache) categoryKey(id uuid.UUID) string {
	return cache.c.Key(cacheNamespace, "category", id.String())
}
func (cache *Cache) userKey(id uuid.UUID) string {
	return cache.c.Key(cacheNamespace, "user", id.String())
}
func (cache *Cache) postKey(id uuid.UUID) string {
	return cache.c.Key(cacheNamespace, "post", id.String())
}

// CatalogStore caches products and categories.
type CatalogStore struct {
	catalog.Store
	cache *Cache
	tx    *pending
}

var _ catalog.Store = (*CatalogStore)(nil)

// NewCatalogStore decorates a catalog store.
func NewCatalogStore(inner catalog.Store, cache *Cache) *CatalogStore {
	return &CatalogStore{Store: inner, cache: cache}
}

func (s *CatalogStore) InTx(ctx context.Context, fn func(catalog.Store) error) error {
	tx := &pending{}
	err := s.Store.InTx(ctx, func(inner catalog.Store) error { return fn(&CatalogStore{Store: inner, cache: s.cache, tx: tx}) })
	return s.cache.committed(ctx, tx, err)
}

func (s *CatalogStore) Category(ctx context.Context, id uuid.UUID) (catalog.Category, error) {
	return readThrough(ctx, s.cache, s.tx, s.cache.categoryKey(id), func() (catalog.Category, error) { return s.Store.Category(ctx, id) })
}

func (s *CatalogStore) UpdateCategory(ctx context.Context, c catalog.Category, baseSlug string) (catalog.Category, error) {
	out, err := s.Store.UpdateCategory(ctx, c, baseSlug)
	s.cache.written(ctx, s.tx, s.cache.categoryKey(c.ID))
	return out, err
}

func (s *CatalogStore) DeleteCategory(ctx context.Context, id uuid.UUID) error {
	err := s.Store.DeleteCategory(ctx, id)
	s.cache.written(ctx, s.tx, s.cache.categoryKey(id))
	return err
}

func (s *CatalogStore) Product(ctx context.Context, id uuid.UUID) (catalog.Product, error) {
	return readThrough(ctx, s.cache, s.tx, s.cache.productKey(id), func() (catalog.Product, error) { return s.Store.Product(ctx, id) })
}

func (s *CatalogStore) UpdateProduct(ctx context.Context, p catalog.Product, baseSlug string) (catalog.Product, error) {
	out, err := s.Store.UpdateProduct(ctx, p, baseSlug)
	s.cache.written(ctx, s.tx, s.cache.productKey(p.ID))
	return out, err
}

func (s *CatalogStore) DeleteProduct(ctx context.Context, id uuid.UUID) error {
	err := s.Store.DeleteProduct(ctx, id)
	s.cache.written(ctx, s.tx, s.cache.productKey(id))
	return err
}

// OrderStore invalidates the products whose stock orders take or give back.
type OrderStore struct {
	orders.Store
	cache *Cache
	tx    *pending
}

var _ orders.Store = (*OrderStore)(nil)

// NewOrderStore decorates an order store.
func NewOrderStore(inner orders.Store, cache *Cache) *OrderStore {
	return &OrderStore{Store: inner, cache: cache}
}

func (s *OrderStore) InTx(ctx context.Context, fn func(orders.Store) error) error {
	tx := &pending{}
	err := s.Store.InTx(ctx, func(inner orders.Store) error { return fn(&OrderStore{Store: inner, cache: s.cache, tx: tx}) })
	return s.cache.committed(ctx, tx, err)
}

func (s *OrderStore) AdjustStock(ctx context.Context, deltas map[uuid.UUID]int32) error {
	err := s.Store.AdjustStock(ctx, deltas)
	keys := make([]string, 0, len(deltas))
	for id := range deltas {
		keys = append(keys, s.cache.productKey(id))
	}
	s.cache.written(ctx, s.tx, keys...)
	return err
}

// IdentityStore caches users by ID. The cached copy carries no password hash: nothing that reads users
// by ID needs it, and it should not sit in Redis.
type IdentityStore struct {
	identity.Store
	cache *Cache
	tx    *pending
}

var _ identity.Store = (*IdentityStore)(nil)

// NewIdentityStore decorates an identity store.
func NewIdentityStore(inner identity.Store, cache *Cache) *IdentityStore {
	return &IdentityStore{Store: inner, cache: cache}
}

func (s *IdentityStore) InTx(ctx context.Context, fn func(identity.Store) error) error {
	tx := &pending{}
	err := s.Store.InTx(ctx, func(inner identity.Store) error { return fn(&IdentityStore{Store: inner, cache: s.cache, tx: tx}) })
	return s.cache.committed(ctx, tx, err)
}

func (s *IdentityStore) UserByID(ctx context.Context, id uuid.UUID) (identity.User, error) {
	return readThrough(ctx, s.cache, s.tx, s.cache.userKey(id), func() (identity.User, error) {
		u, err := s.Store.UserByID(ctx, id)
		u.PasswordHash = ""
		return u, err
	})
}

func (s *IdentityStore) UpdateUser(ctx context.Context, u identity.User) (identity.User, error) {
	out, err := s.Store.UpdateUser(ctx, u)
	s.cache.written(ctx, s.tx, s.cache.userKey(u.ID))
	return out, err
}

func (s *IdentityStore) DeleteUser(ctx context.Context, id uuid.UUID) error {
	err := s.Store.DeleteUser(ctx, id)
	s.cache.written(ctx, s.tx, s.cache.userKey(id))
	return err
}

// ContentStore caches posts.
type ContentStore struct {
	content.Store
	cache *Cache
	tx    *pending
}

var _ content.Store = (*ContentStore)(nil)

// NewContentStore decorates a content store.
func NewContentStore(inner content.Store, cache *Cache) *ContentStore {
	return &ContentStore{Store: inner, cache: cache}
}

func (s *ContentStore) InTx(ctx context.Context, fn func(content.Store) error) error {
	tx := &pending{}
	err := s.Store.InTx(ctx, func(inner content.Store) error { return fn(&ContentStore{Store: inner, cache: s.cache, tx: tx}) })
	return s.cache.committed(ctx, tx, err)
}

func (s *ContentStore) Post(ctx context.Context, id uuid.UUID) (content.Post, error) {
	return readThrough(ctx, s.cache, s.tx, s.cache.postKey(id), func() (content.Post, error) { return s.Store.Post(ctx, id) })
}

func (s *ContentStore) UpdatePost(ctx context.Context, p content.Post, baseSlug string) (content.Post, error) {
	out, err := s.Store.UpdatePost(ctx, p, baseSlug)
	s.cache.written(ctx, s.tx, s.cache.postKey(p.ID))
	return out, err
}

func (s *ContentStore) DeletePost(ctx context.Context, id uuid.UUID) error {
	err := s.Store.DeletePost(ctx, id)
	s.cache.written(ctx, s.tx, s.cache.postKey(id))
	return err
}
