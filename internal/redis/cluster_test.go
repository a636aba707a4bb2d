package redis_test

import (
	"strconv"
	"testing"

	"github.com/storefront/storefront/internal/redis"
	"github.com/storefront/storefront/internal/testenv"
)

// The owed-invalidation overflow on a three-primary Redis Cluster: the cached keys live on different
// nodes, SCAN sees one node at a time, and the drop covers every node.
func TestOverflowOnRedisCluster(t *testing.T) {
	cluster := testenv.StartRedisCluster(t)
	redis.OverflowDropsEveryCachedKey(t, "127.0.0.1:"+strconv.Itoa(cluster.Ports[0]))
}
