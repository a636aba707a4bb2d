package testenv

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/internal/postgres"
)

// StartReplica makes a streaming replica of s (pg_basebackup over the replication connection that
// initdb's default pg_hba.conf allows from 127.0.0.1, with standby.signal and primary_conninfo
// written by -R) and starts it on a free port. It is a hot standby: it answers reads, and its replay
// can be paused (SELECT pg_wal_replay_pause()). It stops when the test ends.
func (s *PGServer) StartReplica() *PGServer {
	s.t.Helper()
	r := &PGServer{t: s.t, Port: FreePort(s.t), bin: s.bin, asPG: s.asPG, owner: s.owner}
	base, err := os.MkdirTemp("", "sf-pg-replica-")
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { os.RemoveAll(base) })
	if s.owner != nil {
		uid, _ := strconv.Atoi(s.owner.Uid)
		gid, _ := strconv.Atoi(s.owner.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			s.t.Fatal(err)
		}
	}
	r.dir = filepath.Join(base, "data")
	r.run(60*time.Second, filepath.Join(s.bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "postgres",
		"-D", r.dir, "-X", "stream", "-R", "--checkpoint=fast", "--no-sync")
	r.Start()
	s.t.Cleanup(func() { r.stop("immediate") })
	return r
}

// Exec runs sql on database name of the server.
func (s *PGServer) Exec(name, sql string) {
	s.t.Helper()
	s.withConn(name, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, sql)
		return err
	})
}

// QueryInt runs sql, which returns one integer, on database name of the server.
func (s *PGServer) QueryInt(name, sql string) int64 {
	s.t.Helper()
	var n int64
	s.withConn(name, func(ctx context.Context, conn *pgx.Conn) error { return conn.QueryRow(ctx, sql).Scan(&n) })
	return n
}

// withConn runs fn on a connection to database name, failing the test on its error.
func (s *PGServer) withConn(name string, fn func(context.Context, *pgx.Conn) error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL(name))
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := fn(ctx, conn); err != nil {
		s.t.Fatal(err)
	}
}

// CreateMigratedDatabase creates a database on the cluster, applies the migrations and returns its URL.
func (s *PGServer) CreateMigratedDatabase(name string) string {
	s.t.Helper()
	url := s.CreateDatabase(name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := postgres.Connect(ctx, url)
	if err != nil {
		s.t.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		s.t.Fatal(err)
	}
	return url
}
