package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PGServer is a private PostgreSQL cluster started from the installed binaries (initdb, pg_ctl), on a
// free loopback port, for tests that stop and start the database (as `make run` starts one under
// .data/). As root, the cluster runs as the postgres user, since initdb refuses to run as root.
type PGServer struct {
	t     testing.TB
	Port  int
	dir   string
	bin   string
	asPG  []string
	owner *user.User
}

// pgBinDir is the newest installed PostgreSQL's bin directory.
func pgBinDir(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(dirs) == 0 {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p)
		}
		t.Fatal("PostgreSQL's server binaries (initdb, pg_ctl) are required for this test and are not installed")
	}
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	return dirs[len(dirs)-1]
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartPostgres initialises a cluster in a temporary directory, starts it and stops it when the test ends.
func StartPostgres(t testing.TB) *PGServer {
	t.Helper()
	s := &PGServer{t: t, Port: FreePort(t), bin: pgBinDir(t)}
	base, err := os.MkdirTemp("", "sf-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	s.dir = filepath.Join(base, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user for the private cluster: %v", err)
		}
		s.owner, s.asPG = u, []string{"runuser", "-u", "postgres", "--"}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	s.run(30*time.Second, filepath.Join(s.bin, "initdb"), "-D", s.dir, "-U", "postgres", "--auth=trust", "--no-sync")
	s.Start()
	t.Cleanup(func() { s.stop("immediate") })
	return s
}

func (s *PGServer) run(timeout time.Duration, args ...string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, append(s.asPG, args...)[0], append(s.asPG, args...)[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// Start starts the cluster and waits until it accepts connections.
func (s *PGServer) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=100", s.Port, filepath.Dir(s.dir))
	s.run(60*time.Second, filepath.Join(s.bin, "pg_ctl"), "-D", s.dir, "-l", filepath.Join(filepath.Dir(s.dir), "server.log"),
		"-o", opts, "-w", "-t", "50", "start")
}

// Stop stops the cluster fast (disconnecting every client), as an outage would.
func (s *PGServer) Stop() {
	s.t.Helper()
	s.stop("fast")
}

func (s *PGServer) stop(mode string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(s.asPG, filepath.Join(s.bin, "pg_ctl"), "-D", s.dir, "-m", mode, "-w", "stop")
	_ = exec.CommandContext(ctx, args[0], args[1:]...).Run()
}

// URL is the URL of database name on the cluster.
func (s *PGServer) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, name)
}

// CreateDatabase creates a database on the cluster and returns its URL.
func (s *PGServer) CreateDatabase(name string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		s.t.Fatal(err)
	}
	return s.URL(name)
}
