package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/storefront/storefront/internal/postgres"
	"github.com/storefront/storefront/internal/redis"
	"github.com/storefront/storefront/internal/storetest"
	"github.com/storefront/storefront/internal/testenv"
)

// cachedStores are the Redis-cached stores over the PostgreSQL ones, on a fresh database and key prefix.
func cachedStores(t *testing.T) storetest.Stores {
	pool, err := postgres.Connect(context.Background(), testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	c, err := redis.New(redis.Options{URL: testenv.RedisURL(), Prefix: "test:" + hex.EncodeToString(b) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(context.Background()); err != nil {
		t.Fatalf("Redis is required for this test: %v", err)
	}
	t.Cleanup(c.Close)
	cache := redis.NewCache(c)
	d := postgres.NewDB(pool, nil)
	return storetest.Stores{Tx: d,
		Users:   redis.NewIdentityStore(postgres.NewIdentityStore(d), cache),
		Catalog: redis.NewCatalogStore(postgres.NewCatalogStore(d), cache),
		Content: redis.NewContentStore(postgres.NewContentStore(d), cache),
		Orders:  redis.NewOrderStore(postgres.NewOrderStore(d), cache),
	}
}

// The storage contract, against the cached stores: the same assertions as for PostgreSQL alone.
func TestStoreContract(t *testing.T) {
	n := storetest.Run(t, cachedStores)
	t.Logf("%d contract cases against the Redis-cached stores", n)
}
