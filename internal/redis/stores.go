package redis

import (
	"context"
	"encoding/hex"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/uow"
)

// The decorators below cache single-resource reads of the stores they wrap and invalidate on every
// write. Inside a unit of work they never fill the cache (the row may not be committed, or may be
// rolled back), and their invalidations wait for the end of the outermost transaction (see invalidate).

// readThrough serves a single read from the cache, except inside a unit of work, where it reads the
// store and never fills.
func readThrough[T any](ctx context.Context, cache *Cache, key string, load func(context.Context) (T, error)) (T, error) {
	if uow.Active(ctx) {
		return load(ctx)
	}
	return getOrLoad(ctx, cache, key, load)
}

// wrote invalidates keys after a write, whatever its error (invalidating what did not change is
// harmless), and passes the error on.
func (cache *Cache) wrote(ctx context.Context, err error, keys ...string) error {
	cache.invalidate(ctx, keys...)
	return err
}

func (cache *Cache) key(kind string, id uuid.UUID) string {
	return cache.c.Key(cacheNamespace, kind, id.String())
}

func (cache *Cache) productKey(id uuid.UUID) string  { return cache.key("product", id) }
func (cache *Cache) categoryKey(id uuid.UUID) string { return cache.key("category", id) }
func (cache *Cache) userKey(id uuid.UUID) string     { return cache.key("user", id) }
func (cache *Cache) postKey(id uuid.UUID) string     { return cache.key("post", id) }

// credentialKey names an API key's credential by the SHA-256 of its secret (never the secret).
func (cache *Cache) credentialKey(secretHash []byte) string {
	return cache.c.Key(cacheNamespace, "apikey", hex.EncodeToString(secretHash))
}

// CatalogStore caches products and categories.
type CatalogStore struct {
	catalog.Store
	cache *Cache
}

var _ catalog.Store = (*CatalogStore)(nil)

// NewCatalogStore decorates a catalog store.
func NewCatalogStore(inner catalog.Store, cache *Cache) *CatalogStore {
	return &CatalogStore{Store: inner, cache: cache}
}

func (s *CatalogStore) Category(ctx context.Context, id uuid.UUID) (catalog.Category, error) {
	return readThrough(ctx, s.cache, s.cache.categoryKey(id), func(ctx context.Context) (catalog.Category, error) { return s.Store.Category(ctx, id) })
}

func (s *CatalogStore) UpdateCategory(ctx context.Context, c catalog.Category, baseSlug string) (catalog.Category, error) {
	out, err := s.Store.UpdateCategory(ctx, c, baseSlug)
	return out, s.cache.wrote(ctx, err, s.cache.categoryKey(c.ID))
}

func (s *CatalogStore) DeleteCategory(ctx context.Context, id uuid.UUID) error {
	return s.cache.wrote(ctx, s.Store.DeleteCategory(ctx, id), s.cache.categoryKey(id))
}

func (s *CatalogStore) Product(ctx context.Context, id uuid.UUID) (catalog.Product, error) {
	return readThrough(ctx, s.cache, s.cache.productKey(id), func(ctx context.Context) (catalog.Product, error) { return s.Store.Product(ctx, id) })
}

func (s *CatalogStore) UpdateProduct(ctx context.Context, p catalog.Product, baseSlug string) (catalog.Product, error) {
	out, err := s.Store.UpdateProduct(ctx, p, baseSlug)
	return out, s.cache.wrote(ctx, err, s.cache.productKey(p.ID))
}

func (s *CatalogStore) DeleteProduct(ctx context.Context, id uuid.UUID) error {
	return s.cache.wrote(ctx, s.Store.DeleteProduct(ctx, id), s.cache.productKey(id))
}

// OrderStore invalidates the products whose stock orders take or give back.
type OrderStore struct {
	orders.Store
	cache *Cache
}

var _ orders.Store = (*OrderStore)(nil)

// NewOrderStore decorates an order store.
func NewOrderStore(inner orders.Store, cache *Cache) *OrderStore {
	return &OrderStore{Store: inner, cache: cache}
}

func (s *OrderStore) AdjustStock(ctx context.Context, deltas map[uuid.UUID]int32) error {
	keys := make([]string, 0, len(deltas))
	for id := range deltas {
		keys = append(keys, s.cache.productKey(id))
	}
	return s.cache.wrote(ctx, s.Store.AdjustStock(ctx, deltas), keys...)
}

// IdentityStore caches users by ID and API key credentials by secret hash. The cached user carries no
// password hash: nothing that reads users by ID needs it, and it should not sit in Redis. A credential
// holds its owner's role and status, so a write to a user also invalidates the credentials of the
// user's live keys (listed in the write's transaction, under the user's row lock, which a concurrent
// key creation waits for).
type IdentityStore struct {
	identity.Store
	cache *Cache
}

var _ identity.Store = (*IdentityStore)(nil)

// NewIdentityStore decorates an identity store.
func NewIdentityStore(inner identity.Store, cache *Cache) *IdentityStore {
	return &IdentityStore{Store: inner, cache: cache}
}

func (s *IdentityStore) UserByID(ctx context.Context, id uuid.UUID) (identity.User, error) {
	return readThrough(ctx, s.cache, s.cache.userKey(id), func(ctx context.Context) (identity.User, error) {
		u, err := s.Store.UserByID(ctx, id)
		u.PasswordHash = ""
		return u, err
	})
}

func (s *IdentityStore) UpdateUser(ctx context.Context, u identity.User) (identity.User, error) {
	out, err := s.Store.UpdateUser(ctx, u)
	return out, s.wroteUser(ctx, err, u.ID)
}

func (s *IdentityStore) DeleteUser(ctx context.Context, id uuid.UUID) error {
	return s.wroteUser(ctx, s.Store.DeleteUser(ctx, id), id)
}

// wroteUser invalidates a written user and the credentials of its live keys.
func (s *IdentityStore) wroteUser(ctx context.Context, err error, id uuid.UUID) error {
	keys := []string{s.cache.userKey(id)}
	hashes, listErr := s.Store.LiveAPIKeyHashes(ctx, id)
	for _, h := range hashes {
		keys = append(keys, s.cache.credentialKey(h))
	}
	if err == nil {
		err = listErr // the write must not commit with credentials it could not invalidate
	}
	return s.cache.wrote(ctx, err, keys...)
}

func (s *IdentityStore) KeyCredential(ctx context.Context, secretHash []byte) (identity.KeyCredential, error) {
	return readThrough(ctx, s.cache, s.cache.credentialKey(secretHash), func(ctx context.Context) (identity.KeyCredential, error) {
		return s.Store.KeyCredential(ctx, secretHash)
	})
}

func (s *IdentityStore) UpdateAPIKey(ctx context.Context, k identity.APIKey) (identity.APIKey, error) {
	out, err := s.Store.UpdateAPIKey(ctx, k)
	return out, s.cache.wrote(ctx, err, s.cache.credentialKey(k.SecretHash))
}

// ContentStore caches posts.
type ContentStore struct {
	content.Store
	cache *Cache
}

var _ content.Store = (*ContentStore)(nil)

// NewContentStore decorates a content store.
func NewContentStore(inner content.Store, cache *Cache) *ContentStore {
	return &ContentStore{Store: inner, cache: cache}
}

func (s *ContentStore) Post(ctx context.Context, id uuid.UUID) (content.Post, error) {
	return readThrough(ctx, s.cache, s.cache.postKey(id), func(ctx context.Context) (content.Post, error) { return s.Store.Post(ctx, id) })
}

func (s *ContentStore) UpdatePost(ctx context.Context, p content.Post, baseSlug string) (content.Post, error) {
	out, err := s.Store.UpdatePost(ctx, p, baseSlug)
	return out, s.cache.wrote(ctx, err, s.cache.postKey(p.ID))
}

func (s *ContentStore) DeletePost(ctx context.Context, id uuid.UUID) error {
	return s.cache.wrote(ctx, s.Store.DeletePost(ctx, id), s.cache.postKey(id))
}
