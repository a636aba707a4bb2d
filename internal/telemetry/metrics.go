// Package telemetry holds the service's Prometheus metrics, its OpenTelemetry tracing setup, and the
// log handler that ties log lines to requests and traces.
package telemetry

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const namespace = "storefront"

// Metrics is the service's own registry (not the global one, so tests and several apps in one process
// never collide) and the instruments the code updates directly.
type Metrics struct {
	Registry *prometheus.Registry

	requestDuration  *prometheus.HistogramVec
	requestsInFlight prometheus.Gauge
	idemReplays      prometheus.Counter
	orderTransitions *prometheus.CounterVec

	webhookAttempts        *prometheus.CounterVec
	webhookDeliveries      *prometheus.CounterVec
	webhookAttemptDuration prometheus.Histogram
}

// NewMetrics registers the HTTP, idempotency and order instruments and the Go and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time to serve an HTTP request, by method, route template and status class.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "route", "status_class"})
	m.requestsInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_in_flight", Help: "HTTP requests being served.",
	})
	m.idemReplays = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "idempotency_replays_total", Help: "Responses replayed for a repeated Idempotency-Key.",
	})
	m.orderTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "order_transitions_total", Help: "Orders placed and moved through their states, by transition.",
	}, []string{"transition"})
	m.webhookAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "webhook", Name: "attempts_total",
		Help: "Webhook delivery attempts, by outcome: succeeded (2xx), failed (anything else, or no answer), gone (410).",
	}, []string{"outcome"})
	m.webhookDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "webhook", Name: "deliveries_total",
		Help: "Webhook deliveries that ended, by outcome: succeeded, or failed after their last attempt.",
	}, []string{"outcome"})
	m.webhookAttemptDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "webhook", Name: "attempt_duration_seconds",
		Help:    "Time from sending a webhook attempt to the receiver's answer (or the failure).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
	})
	m.Registry.MustRegister(m.requestDuration, m.requestsInFlight, m.idemReplays, m.orderTransitions,
		m.webhookAttempts, m.webhookDeliveries, m.webhookAttemptDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WebhookAttempt records one attempt: its outcome, where it left the delivery (pending, succeeded or
// failed) and how long the receiver took.
func (m *Metrics) WebhookAttempt(outcome, delivery string, d time.Duration) {
	m.webhookAttempts.WithLabelValues(outcome).Inc()
	if delivery != "pending" {
		m.webhookDeliveries.WithLabelValues(delivery).Inc()
	}
	m.webhookAttemptDuration.Observe(d.Seconds())
}

// QueueStats is the webhook queue's state at scrape time.
type QueueStats struct {
	Due, Waiting, Running int64
	Lag                   time.Duration
}

// RegisterWebhookQueue exports the webhook queue's depth and lag, read at scrape time.
func (m *Metrics) RegisterWebhookQueue(read func(context.Context) (QueueStats, error)) {
	m.Registry.MustRegister(queueCollector{read})
}

var (
	queueDepth = prometheus.NewDesc(namespace+"_webhook_queue_depth",
		"Webhook attempts in the queue: due (waiting for a worker), waiting (a retry scheduled for later), running.",
		[]string{"state"}, nil)
	queueLag = prometheus.NewDesc(namespace+"_webhook_queue_oldest_pending_age_seconds",
		"How long the oldest due webhook attempt has waited for a worker (0 when none waits).", nil, nil)
)

type queueCollector struct {
	read func(context.Context) (QueueStats, error)
}

func (queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepth; ch <- queueLag }

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepth, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(s.Due), "due")
	ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(s.Waiting), "waiting")
	ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(s.Running), "running")
	ch <- prometheus.MustNewConstMetric(queueLag, prometheus.GaugeValue, s.Lag.Seconds())
}

// ObserveRequest records one served request.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	switch method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
	default:
		method = "OTHER" // any token is a method: keep the label bounded
	}
	class := "other"
	if status >= 100 && status < 600 {
		class = statusClasses[status/100-1]
	}
	m.requestDuration.WithLabelValues(method, route, class).Observe(d.Seconds())
}

var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// InFlight tracks requests being served: call the returned function when the request ends.
func (m *Metrics) InFlight() func() {
	m.requestsInFlight.Inc()
	return m.requestsInFlight.Dec
}

// IdempotencyReplayed counts one replayed response.
func (m *Metrics) IdempotencyReplayed() { m.idemReplays.Inc() }

// OrderTransition counts one order transition (place, pay, ship, deliver, cancel).
func (m *Metrics) OrderTransition(name string) { m.orderTransitions.WithLabelValues(name).Inc() }

// CounterFunc exports a counter kept elsewhere (an atomic) under the service's namespace.
func (m *Metrics) CounterFunc(name, help string, labels prometheus.Labels, read func() float64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: name, Help: help, ConstLabels: labels,
	}, read))
}

// GaugeFunc exports a gauge read at scrape time under the service's namespace.
func (m *Metrics) GaugeFunc(name, help string, read func() float64) {
	m.LabeledGaugeFunc(name, help, nil, read)
}

// LabeledGaugeFunc is GaugeFunc with constant labels (one gauge per labelled thing).
func (m *Metrics) LabeledGaugeFunc(name, help string, labels prometheus.Labels, read func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help, ConstLabels: labels}, read))
}

// RegisterPool exports the PostgreSQL pool's statistics.
func (m *Metrics) RegisterPool(pool *pgxpool.Pool) { m.Registry.MustRegister(poolCollector{pool}) }

var (
	poolAcquired  = prometheus.NewDesc(namespace+"_db_pool_acquired_connections", "Connections in use.", nil, nil)
	poolIdle      = prometheus.NewDesc(namespace+"_db_pool_idle_connections", "Idle connections.", nil, nil)
	poolTotal     = prometheus.NewDesc(namespace+"_db_pool_total_connections", "Open connections.", nil, nil)
	poolMax       = prometheus.NewDesc(namespace+"_db_pool_max_connections", "Most connections the pool opens.", nil, nil)
	poolWaits     = prometheus.NewDesc(namespace+"_db_pool_acquire_waits_total", "Acquires that had to wait for a connection.", nil, nil)
	poolWaitTime  = prometheus.NewDesc(namespace+"_db_pool_acquire_wait_seconds_total", "Time spent waiting for a connection.", nil, nil)
	poolAcquireds = prometheus.NewDesc(namespace+"_db_pool_acquires_total", "Connections acquired.", nil, nil)
)

type poolCollector struct{ pool *pgxpool.Pool }

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolWaits, poolWaitTime, poolAcquireds} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaitTime, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(poolAcquireds, prometheus.CounterValue, float64(s.AcquireCount()))
}
