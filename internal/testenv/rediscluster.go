package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// RedisCluster is a private Redis Cluster of three primaries (no replicas) started from the installed
// redis-server and redis-cli on free loopback ports, for tests of the service on a cluster.
type RedisCluster struct {
	t     testing.TB
	Ports []int
	cmds  []*exec.Cmd
}

// clusterPort is a free port whose cluster bus port (port + 10000) is free too.
func clusterPort(t testing.TB, taken map[int]bool) int {
	t.Helper()
	for range 100 {
		p := FreePort(t)
		if p+10000 > 65535 || taken[p] || taken[p+10000] {
			continue
		}
		if bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000)); err == nil {
			bus.Close()
			taken[p], taken[p+10000] = true, true
			return p
		}
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// StartRedisCluster starts three cluster-enabled redis-servers, joins them with
// `redis-cli --cluster create` (the 16384 slots split three ways), waits until every node reports
// cluster_state:ok, and stops them when the test ends. A node that stops is declared failing after
// cluster-node-timeout (2 s).
func StartRedisCluster(t testing.TB) *RedisCluster {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is required for this test: %v", err)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli is required for this test: %v", err)
	}
	dir, err := os.MkdirTemp("", "sf-redis-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &RedisCluster{t: t}
	t.Cleanup(c.stop)
	taken := map[int]bool{}
	for range 3 {
		p := clusterPort(t, taken)
		cmd := exec.Command(server, "--port", strconv.Itoa(p), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", p)), "--cluster-node-timeout", "2000",
			"--dir", dir, "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c.Ports, c.cmds = append(c.Ports, p), append(c.cmds, cmd)
	}
	for _, p := range c.Ports {
		c.waitNode(p, func(string) bool { return true }, "PING")
	}
	args := []string{"--cluster", "create"}
	for _, p := range c.Ports {
		args = append(args, "127.0.0.1:"+strconv.Itoa(p))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, append(args, "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, p := range c.Ports {
		c.waitNode(p, func(info string) bool { return strings.Contains(info, "cluster_state:ok") }, "CLUSTER", "INFO")
	}
	return c
}

// waitNode sends cmd to the node on port until ok accepts its answer (10 s at most).
func (c *RedisCluster) waitNode(port int, ok func(string) bool, cmd ...string) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:" + strconv.Itoa(port)},
			DisableCache: true, ForceSingleClient: true})
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			last, err = client.Do(ctx, client.B().Arbitrary(cmd...).Build()).ToString()
			cancel()
			client.Close()
			if err == nil && ok(last) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("cluster node %d: %v never answered as expected; last answer %q", port, cmd, last)
}

// URL is the cluster as REDIS_URL: one seed address and the others as addr parameters (rueidis's
// form; any one address would do, the client discovers the rest from CLUSTER SLOTS).
func (c *RedisCluster) URL() string {
	u := fmt.Sprintf("redis://127.0.0.1:%d", c.Ports[0])
	for i, p := range c.Ports[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += fmt.Sprintf("%saddr=127.0.0.1:%d", sep, p)
	}
	return u
}

// Kill stops node i (a primary) as a crash would.
func (c *RedisCluster) Kill(i int) {
	if cmd := c.cmds[i]; cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		c.cmds[i] = nil
	}
}

func (c *RedisCluster) stop() {
	for i := range c.cmds {
		c.Kill(i)
	}
}
