package postgres_test

import (
	"context"
	"testing"

	"github.com/storefront/storefront/internal/postgres"
	"github.com/storefront/storefront/internal/storetest"
	"github.com/storefront/storefront/internal/testenv"
)

// pgStores are the PostgreSQL stores over a fresh database.
func pgStores(t *testing.T) storetest.Stores {
	pool, err := postgres.Connect(context.Background(), testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	d := postgres.NewDB(pool, nil)
	return storetest.Stores{Tx: d, Users: postgres.NewIdentityStore(d), Catalog: postgres.NewCatalogStore(d),
		Content: postgres.NewContentStore(d), Orders: postgres.NewOrderStore(d)}
}

// The storage contract, against the PostgreSQL stores (internal/redis runs it against the cached ones).
func TestStoreContract(t *testing.T) {
	n := storetest.Run(t, pgStores)
	t.Logf("%d contract cases against the PostgreSQL stores", n)
}
