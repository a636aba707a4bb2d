package testenv

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PgBouncer is a private PgBouncer (Debian's package; .ci/install-test-deps installs it) in
// transaction pool mode, in front of the PostgreSQL server at upstream, on a free loopback port.
type PgBouncer struct {
	Port int
	dir  string
	cmd  *exec.Cmd
}

// PoolerEnv names the variable that sends every testenv.Start through a pooler: host:port of a
// transaction-mode PgBouncer in front of the test PostgreSQL (see Start).
const PoolerEnv = "TEST_DATABASE_POOLER"

// StartPgBouncer starts PgBouncer in front of upstream (host:port) and stops it when the test ends.
// Any database name is passed through ("*"); authentication is trust, for the postgres user.
func StartPgBouncer(t testing.TB, upstream string) *PgBouncer {
	t.Helper()
	path, err := exec.LookPath("pgbouncer")
	if err != nil {
		for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"} {
			if _, err := os.Stat(p); err == nil {
				path = p
			}
		}
		if path == "" {
			t.Fatal("pgbouncer is required for this test and is not installed (.ci/install-test-deps installs it)")
		}
	}
	host, port, err := net.SplitHostPort(upstream)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "sf-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b := &PgBouncer{Port: FreePort(t), dir: dir}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
admin_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
server_lifetime = 3600
stats_period = 1
logfile = %s
pidfile = %s
`, host, port, b.Port, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	for name, body := range map[string]string{"pgbouncer.ini": ini, "users.txt": `"postgres" ""` + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 { // PgBouncer refuses to run as root
		args = append([]string{"-u", "postgres"}, args...)
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	b.cmd = exec.Command(path, args...)
	logf, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting pgbouncer: %v", err)
	}
	t.Cleanup(b.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, b.Via(AdminURL()))
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return b
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			out, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
			t.Fatalf("pgbouncer on %d does not answer: %v\n%s%s", b.Port, err, log, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Via is a PostgreSQL URL rewritten to reach its server through the pooler.
func (b *PgBouncer) Via(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.Host = "127.0.0.1:" + strconv.Itoa(b.Port)
	return u.String()
}

// Addr is the pooler's host:port.
func (b *PgBouncer) Addr() string { return "127.0.0.1:" + strconv.Itoa(b.Port) }

// Stats sums SHOW STATS over every database: transactions and queries the pooler carried.
func (b *PgBouncer) Stats(t testing.TB) (xacts, queries int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The admin console speaks the simple protocol only.
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/pgbouncer?sslmode=disable&default_query_exec_mode=simple_protocol", b.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SHOW STATS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols := rows.FieldDescriptions()
	for rows.Next() {
		raw := rows.RawValues() // text: the simple protocol
		for i, c := range cols {
			n, _ := strconv.ParseInt(string(raw[i]), 10, 64)
			switch c.Name {
			case "total_xact_count":
				xacts += n
			case "total_query_count":
				queries += n
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return xacts, queries
}

// Stop stops the pooler.
func (b *PgBouncer) Stop() {
	if b.cmd != nil && b.cmd.Process != nil {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
		b.cmd = nil
	}
}

// throughPooler sends the service's database through the pooler named by TEST_DATABASE_POOLER, as
// production behind PgBouncer is configured: the pooled URL, the direct one for migrations, and an
// exec mode that needs no prepared statements.
func throughPooler(vars map[string]string) {
	addr := os.Getenv(PoolerEnv)
	if addr == "" {
		return
	}
	u, err := url.Parse(vars["DATABASE_URL"])
	if err != nil {
		panic(err)
	}
	admin, err := url.Parse(AdminURL())
	if err != nil {
		panic(err)
	}
	if u.Host == admin.Host { // the test PostgreSQL: reach it through the pooler
		vars["DATABASE_DIRECT_URL"] = u.String()
		u.Host = addr
		vars["DATABASE_URL"] = u.String()
	}
	if u.Host == addr && vars["DATABASE_QUERY_EXEC_MODE"] == "" {
		vars["DATABASE_QUERY_EXEC_MODE"] = "cache_describe"
	}
}

// QueryErrors runs the same query 20 times on each of two connections through the pooler, taking
// turns, with pgx's query exec mode (config.QueryExecModes), and counts the failures, with the first.
// Taking turns makes the pooler hand both connections the same server connection in turn.
func (b *PgBouncer) QueryErrors(t testing.TB, mode string) (failed int, first error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conns []*pgx.Conn
	for range 2 {
		c, err := pgx.Connect(ctx, b.Via(AdminURL())+"&default_query_exec_mode="+mode)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		conns = append(conns, c)
	}
	for i := range 20 {
		for _, c := range conns {
			var n int
			if err := c.QueryRow(ctx, "SELECT $1::int + 1", i).Scan(&n); err != nil {
				failed++
				if first == nil {
					first = err
				}
			}
		}
	}
	return failed, first
}
