// Command benchceiling serves the ceilings `make bench-http` measures the service against, on the same
// machine in the same run: "json" answers GET /v1/products/{id} with one product's JSON, encoded once;
// "pgx" runs the same primary-key SELECT as the service (sqlc's GetProduct) on a pgxpool for every
// request and encodes the same response type. Neither does routing, validation, authentication, limits,
// logging or metrics: they are what the machine can do at best.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/gen/db"
)

func main() {
	mode := flag.String("mode", "json", "json (a recorded product) or pgx (the product's SELECT per request)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	dbURL := flag.String("db", os.Getenv("DATABASE_URL"), "PostgreSQL URL")
	id := flag.String("product", "", "the product's id")
	conns := flag.Int("conns", 20, "pool size (mode pgx)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *mode, *addr, *dbURL, *id, *conns); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, mode, addr, dbURL, rawID string, conns int) error {
	productID, err := uuid.Parse(rawID)
	if err != nil {
		return fmt.Errorf("-product: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	q := db.New(pool)
	load := func(ctx context.Context) ([]byte, error) {
		r, err := q.GetProduct(ctx, productID)
		if err != nil {
			return nil, err
		}
		var attrs map[string]any
		_ = json.Unmarshal(r.Attributes, &attrs)
		return json.Marshal(api.ProductResponse{Data: api.Product{Id: r.PublicID, Name: r.Name, Slug: r.Slug,
			Description: r.Description, PriceCents: r.PriceCents, Currency: r.Currency, Stock: r.Stock,
			CategoryId: r.CategoryPublicID, Attributes: attrs, Active: r.Active, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}})
	}
	recorded, err := load(ctx)
	if err != nil {
		return fmt.Errorf("reading the product: %w", err)
	}
	prefix := "/v1/products/"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		body := recorded
		if mode == "pgx" {
			b, err := load(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			body = b
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		_, _ = w.Write(body)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String()) // the harness reads the address
	srv := &http.Server{Handler: h}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
