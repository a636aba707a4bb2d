package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/storefront/storefront/internal/config"
	"github.com/storefront/storefront/internal/telemetry"
)

// serveForTest runs serve with a config from getenv and reports the bound address on ready.
func serveForTest(ctx context.Context, getenv func(string) string, logs io.Writer, ready chan<- string) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(logs, nil)}), ready)
}
