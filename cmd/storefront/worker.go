package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/config"
	"github.com/storefront/storefront/internal/telemetry"
)

// withTracing turns tracing on when OTEL_EXPORTER_OTLP_ENDPOINT is set; the returned function flushes
// pending spans.
func withTracing(ctx context.Context, cfg config.Config, logger *slog.Logger, opts *app.Options) (func(), error) {
	if cfg.OTLPEndpoint == "" {
		return func() {}, nil
	}
	tp, err := telemetry.NewTracerProvider(ctx, cfg.OTLPEndpoint)
	if err != nil {
		return nil, err
	}
	opts.TracerProvider = tp
	logger.Info("tracing on: exporting spans over OTLP", "endpoint", cfg.OTLPEndpoint)
	return func() {
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(flush); err != nil {
			logger.Warn("flushing traces", "error", err)
		}
	}, nil
}

// startWithWorkers builds the app with its webhook workers running, tracing when configured and /metrics
// on METRICS_ADDR when set; stop undoes all of it (the workers let attempts under way finish).
func startWithWorkers(ctx context.Context, cfg config.Config, logger *slog.Logger) (a *app.App, stop func(), err error) {
	opts := app.Options{RunWorkers: true}
	flush, err := withTracing(ctx, cfg, logger, &opts)
	if err != nil {
		return nil, nil, err
	}
	if a, err = app.New(ctx, cfg, logger, opts); err != nil {
		flush()
		return nil, nil, err
	}
	stopMetrics := func() {}
	if cfg.MetricsAddr != "" {
		if stopMetrics, err = serveMetrics(cfg.MetricsAddr, cfg.PprofEnabled, a, logger); err != nil {
			a.Close()
			flush()
			return nil, nil, err
		}
	}
	return a, func() { stopMetrics(); a.Close(); flush() }, nil
}

// work runs webhook workers (and the janitor) without an HTTP server until ctx ends, then lets the
// attempts under way finish. Any number of worker processes may run beside the servers.
func work(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if cfg.WebhookWorkers < 1 {
		return errors.New("storefront worker needs WEBHOOK_WORKERS of at least 1")
	}
	a, stop, err := startWithWorkers(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer stop()
	logger.Info("webhook workers running", "workers", cfg.WebhookWorkers, "config", cfg)
	go a.RunJanitor(ctx, 10*time.Minute)
	<-ctx.Done()
	logger.Info("stopping: letting attempts under way finish")
	return nil
}
