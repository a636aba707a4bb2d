// Command storefront runs the Storefront API: serve (default), worker, migrate, seed, create-admin.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/config"
	"github.com/storefront/storefront/internal/httpapi/edge"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "storefront:", err)
		os.Exit(1)
	}
}

const usage = `usage: storefront [command]

commands:
  serve                                   run the HTTP server and WEBHOOK_WORKERS webhook workers (default)
  worker                                  run webhook workers only, no HTTP server (METRICS_ADDR serves /metrics)
  migrate                                 apply database migrations
  seed                                    create demo users
  create-admin --email E --password P     create an admin, or make an existing user admin
`

// run is main without globals, so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel})})
	switch cmd {
	case "serve":
		return serve(ctx, cfg, logger, nil)
	case "worker":
		return work(ctx, cfg, logger)
	case "migrate":
		return withApp(ctx, cfg, logger, func(a *app.App) error { return a.Migrate(ctx) })
	case "seed":
		return withApp(ctx, cfg, logger, func(a *app.App) error { return a.Seed(ctx) })
	case "create-admin":
		fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
		fs.SetOutput(stderr)
		email := fs.String("email", "", "admin email")
		password := fs.String("password", "", "admin password (8-128 characters)")
		name := fs.String("name", "Administrator", "display name")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *email == "" || *password == "" {
			return errors.New("create-admin needs --email and --password")
		}
		return withApp(ctx, cfg, logger, func(a *app.App) error {
			u, err := a.Identity.EnsureUser(ctx, identity.Registration{Email: *email, Password: *password, Name: *name, Role: identity.RoleAdmin})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "admin %s (%s) is ready\n", u.Email, u.ID)
			return nil
		})
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func withApp(ctx context.Context, cfg config.Config, logger *slog.Logger, fn func(*app.App) error) error {
	a, err := app.New(ctx, cfg, logger, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

// serveMetrics serves /metrics alone on its own listener (for an admin network), with the runtime's
// profiles under /debug/pprof/ when PPROF_ENABLED, and returns its stop.
func serveMetrics(addr string, pprofOn bool, a *app.App, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on METRICS_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Metrics.Registry, promhttp.HandlerOpts{}))
	write := 30 * time.Second
	if pprofOn {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		write = 2 * time.Minute // a CPU profile or trace takes ?seconds= to answer
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: write}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("metrics listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// serve listens first (so HTTP_ADDR=:0 works and the address is logged), then serves until ctx ends,
// and drains in-flight requests before returning. ready, when set, receives the bound address. It also
// runs WEBHOOK_WORKERS webhook workers.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, ready chan<- string) error {
	a, stop, err := startWithWorkers(ctx, cfg, logger)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			stop()
		}
	}()
	if cfg.JWTSecretGenerated {
		logger.Warn("JWT_SECRET is not set: using a random secret; tokens will not survive a restart")
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.HTTPAddr, err)
	}
	// Requests run under requestsCtx, which the drain cancels when its window runs out.
	requestsCtx, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return requestsCtx },
	}
	ln = edge.Guard(srv, ln)
	// Start-up (the spec parsed and its validators compiled) leaves megabytes of garbage the runtime
	// would return to the OS only slowly: return it now.
	debug.FreeOSMemory()
	logger.Info("listening", "addr", ln.Addr().String(), "config", cfg)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	janitorCtx, stopJanitor := context.WithCancel(ctx)
	defer stopJanitor()
	go a.RunJanitor(janitorCtx, 10*time.Minute)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopJanitor()
	closed = true
	return drain(srv, cancelRequests, stop, cfg.ShutdownTimeout, logger)
}

// drain stops the server within window, whatever the database does. New connections are refused at
// once; in-flight requests get most of the window to finish. Those still running then (blocked on a
// lock, or queued for a database connection) are cancelled: their database work is abandoned and they
// answer 503 UNAVAILABLE with Retry-After (an idempotent request's key stays usable, since nothing of
// it committed). What is left after a short grace is cut off, and the app (the webhook workers, the
// pools) closes under its own bound: attempts it abandons are taken up again by another instance.
func drain(srv *http.Server, cancelRequests context.CancelFunc, closeApp func(), window time.Duration, logger *slog.Logger) error {
	grace := min(2*time.Second, window/4)
	deadline := time.Now().Add(window)
	logger.Info("shutting down: draining in-flight requests", "timeout", window)
	drainCtx, cancel := context.WithDeadline(context.Background(), deadline.Add(-grace))
	err := srv.Shutdown(drainCtx)
	cancel()
	if err != nil {
		logger.Warn("drain window over: cancelling the requests still running; they answer 503")
		cancelRequests()
		graceCtx, cancel := context.WithDeadline(context.Background(), deadline.Add(-grace/4))
		err = srv.Shutdown(graceCtx)
		cancel()
		if err != nil {
			logger.Warn("requests still running after the grace period: closing their connections")
			_ = srv.Close()
		}
	}
	done := make(chan struct{})
	go func() { closeApp(); close(done) }()
	select {
	case <-done:
	case <-time.After(max(time.Until(deadline), 500*time.Millisecond)):
		logger.Warn("closing the database pool took longer than the drain window; exiting anyway")
	}
	logger.Info("stopped")
	return nil
}
