// Package config loads and validates the service configuration from the environment, once, at start.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

const (
	EnvDevelopment = "development"
	EnvProduction  = "production"

	minSecretBytes = 32
)

// Config is every setting the service reads. Secrets are masked by String and LogValue.
type Config struct {
	DatabaseURL        string
	RedisURL           string
	HTTPAddr           string
	MetricsAddr        string // when set, /metrics is served here and not on HTTPAddr
	PprofEnabled       bool   // /debug/pprof/ on MetricsAddr (never on HTTPAddr)
	JWTSecret          []byte
	AppEnv             string
	LogLevel           slog.Level
	CORSAllowedOrigins []string
	OTLPEndpoint       string
	RedisKeyPrefix     string
	TrustedProxies     []*net.IPNet
	// Requests per minute: per client address when anonymous, per user when signed in, per API key
	// (unless an admin set the key's own).
	RateLimitAnonymous int
	RateLimitUser      int
	RateLimitAPIKey    int
	// AuditRetentionDays is how long audit entries are kept before the janitor prunes them.
	AuditRetentionDays int

	// DatabaseMaxConns is the pool size (DATABASE_MAX_CONNS; the URL's pool_max_conns wins when given).
	DatabaseMaxConns int
	// Past one database (see README "Scale"): read replicas, the lag past which one is skipped, a
	// direct (session) connection for migrations and LISTEN/NOTIFY, pgx's query exec mode (for a
	// transaction-mode pooler) and the isolation level of every transaction.
	DatabaseReplicaURLs   []string
	DatabaseReplicaMaxLag time.Duration
	DatabaseDirectURL     string
	DatabaseQueryExecMode string
	DatabaseIsolation     string

	// WebhookWorkers is how many webhook attempts `serve` runs at once (0: none; `storefront worker` runs them).
	WebhookWorkers int
	// WebhooksAllowPrivateNetworks lets webhooks reach loopback and private addresses (development only).
	WebhooksAllowPrivateNetworks bool
	// EventsRetention is how long events (and their deliveries) are kept.
	EventsRetention time.Duration

	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// ShutdownTimeout is the drain window: the process exits within it whatever the database does.
	ShutdownTimeout time.Duration
	// RequestTimeout bounds one request's work; past it the request answers 503.
	RequestTimeout time.Duration

	// JWTSecretGenerated is true when development mode made up a secret because none was set.
	JWTSecretGenerated bool
}

// Load reads the configuration through getenv and reports every problem at once.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:     strings.TrimSpace(getenv("DATABASE_URL")),
		RedisURL:        strings.TrimSpace(getenv("REDIS_URL")),
		HTTPAddr:        strings.TrimSpace(getenv("HTTP_ADDR")),
		MetricsAddr:     strings.TrimSpace(getenv("METRICS_ADDR")),
		AppEnv:          strings.TrimSpace(getenv("APP_ENV")),
		OTLPEndpoint:    strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")),
		AccessTokenTTL:  15 * time.Minute,
		RefreshTokenTTL: 30 * 24 * time.Hour,
	}
	var problems []error
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	if c.AppEnv == "" {
		c.AppEnv = EnvDevelopment
	}
	if c.AppEnv != EnvDevelopment && c.AppEnv != EnvProduction {
		problems = append(problems, fmt.Errorf("APP_ENV must be %q or %q, got %q", EnvDevelopment, EnvProduction, c.AppEnv))
	}
	if c.DatabaseURL == "" {
		problems = append(problems, errors.New("DATABASE_URL is required (for example postgres://postgres@127.0.0.1:5432/storefront)"))
	} else if _, err := url.Parse(c.DatabaseURL); err != nil {
		problems = append(problems, fmt.Errorf("DATABASE_URL is not a URL: %v", err))
	}
	c.RedisKeyPrefix = strings.TrimSpace(getenv("REDIS_KEY_PREFIX"))
	if c.RedisKeyPrefix == "" {
		c.RedisKeyPrefix = "sf:"
	}
	var err error
	if c.RateLimitAnonymous, err = positiveInt(getenv, "RATE_LIMIT_ANONYMOUS_PER_MINUTE", 100); err != nil {
		problems = append(problems, err)
	}
	if c.RateLimitUser, err = positiveInt(getenv, "RATE_LIMIT_USER_PER_MINUTE", 1000); err != nil {
		problems = append(problems, err)
	}
	if c.DatabaseMaxConns, err = boundedInt(getenv, "DATABASE_MAX_CONNS", DefaultDatabaseMaxConns, 1, 1000); err != nil {
		problems = append(problems, err)
	}
	if c.ShutdownTimeout, err = duration(getenv, "SHUTDOWN_TIMEOUT", 20*time.Second, time.Second, 10*time.Minute); err != nil {
		problems = append(problems, err)
	}
	if c.RequestTimeout, err = duration(getenv, "REQUEST_TIMEOUT", 25*time.Second, 100*time.Millisecond, 10*time.Minute); err != nil {
		problems = append(problems, err)
	}
	if c.RateLimitAPIKey, err = positiveInt(getenv, "RATE_LIMIT_API_KEY_PER_MINUTE", 1000); err != nil {
		problems = append(problems, err)
	}
	if c.AuditRetentionDays, err = boundedInt(getenv, "AUDIT_RETENTION_DAYS", 400, 1, 36500); err != nil {
		problems = append(problems, err)
	}
	if c.WebhookWorkers, err = boundedInt(getenv, "WEBHOOK_WORKERS", 10, 0, 1000); err != nil {
		problems = append(problems, err)
	}
	days, err := boundedInt(getenv, "EVENTS_RETENTION_DAYS", 30, 30, 3650)
	if err != nil {
		problems = append(problems, err)
	}
	c.EventsRetention = time.Duration(days) * 24 * time.Hour
	if v := strings.TrimSpace(getenv("WEBHOOKS_ALLOW_PRIVATE_NETWORKS")); v != "" {
		if c.WebhooksAllowPrivateNetworks, err = strconv.ParseBool(v); err != nil {
			problems = append(problems, fmt.Errorf("WEBHOOKS_ALLOW_PRIVATE_NETWORKS must be true or false, got %q", v))
		}
	}
	if v := strings.TrimSpace(getenv("PPROF_ENABLED")); v != "" {
		if c.PprofEnabled, err = strconv.ParseBool(v); err != nil {
			problems = append(problems, fmt.Errorf("PPROF_ENABLED must be true or false, got %q", v))
		} else if c.PprofEnabled && c.MetricsAddr == "" {
			problems = append(problems, errors.New("PPROF_ENABLED=true needs METRICS_ADDR: profiles are served only on that separate listener"))
		}
	}
	if c.WebhooksAllowPrivateNetworks && c.AppEnv == EnvProduction {
		problems = append(problems, errors.New("WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true is refused when APP_ENV=production: "+
			"it would let webhooks reach the internal network"))
	}
	problems = append(problems, c.loadScale(getenv)...)
	for _, cidr := range strings.Split(getenv("TRUSTED_PROXIES"), ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		if !strings.Contains(cidr, "/") {
			if strings.Contains(cidr, ":") {
				cidr += "/128"
			} else {
				cidr += "/32"
			}
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			problems = append(problems, fmt.Errorf("TRUSTED_PROXIES entry %q is not an address or CIDR", cidr))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			problems = append(problems, errors.New("REDIS_URL must look like redis://host:6379/0"))
		}
	}
	if err := c.loadSecret(getenv("JWT_SECRET")); err != nil {
		problems = append(problems, err)
	}
	level := strings.TrimSpace(getenv("LOG_LEVEL"))
	if level == "" {
		level = "info"
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		problems = append(problems, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", level))
	}
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			problems = append(problems, errors.New("CORS_ALLOWED_ORIGINS must list origins; \"*\" is not allowed"))
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			problems = append(problems, fmt.Errorf("CORS_ALLOWED_ORIGINS entry %q is not an origin like https://app.example.com", o))
			continue
		}
		c.CORSAllowedOrigins = append(c.CORSAllowedOrigins, strings.TrimSuffix(o, "/"))
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("invalid configuration: %w", errors.Join(problems...))
	}
	return c, nil
}

// DefaultDatabaseMaxConns is the pool size without DATABASE_MAX_CONNS: enough that a few dozen
// concurrent requests (each holding a connection for a transaction) do not queue, small enough that
// several instances stay under PostgreSQL's default max_connections (100).
const DefaultDatabaseMaxConns = 20

func positiveInt(getenv func(string) string, name string, def int) (int, error) {
	return boundedInt(getenv, name, def, 1, 1000000)
}

func boundedInt(getenv func(string) string, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be a whole number from %d to %d, got %q", name, lo, hi, v)
	}
	return n, nil
}

// duration reads a Go duration (such as 20s or 1m30s) between lo and hi.
func duration(getenv func(string) string, name string, def, lo, hi time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("%s must be a duration from %s to %s (such as 20s), got %q", name, lo, hi, v)
	}
	return d, nil
}

func (c *Config) loadSecret(secret string) error {
	if secret != "" {
		if len(secret) < minSecretBytes {
			return fmt.Errorf("JWT_SECRET must be at least %d bytes", minSecretBytes)
		}
		c.JWTSecret = []byte(secret)
		return nil
	}
	if c.AppEnv == EnvProduction {
		return errors.New("JWT_SECRET is required when APP_ENV=production")
	}
	// Development without a secret: a random one keeps tokens unforgeable; they just do not
	// survive a restart or work across instances.
	b := make([]byte, minSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("generating a development JWT secret: %w", err)
	}
	c.JWTSecret = []byte(base64.RawURLEncoding.EncodeToString(b))
	c.JWTSecretGenerated = true
	return nil
}

// Production reports whether the service runs in production mode.
func (c Config) Production() bool { return c.AppEnv == EnvProduction }

// LogValue masks secrets and credentials when the config is logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("app_env", c.AppEnv),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Bool("pprof", c.PprofEnabled),
		slog.String("database", describeDatabase(c.DatabaseURL)),
		slog.String("redis_url", maskURL(c.RedisURL)),
		slog.String("jwt_secret", "[masked]"),
		slog.Bool("jwt_secret_generated", c.JWTSecretGenerated),
		slog.String("log_level", c.LogLevel.String()),
		slog.Any("cors_allowed_origins", c.CORSAllowedOrigins),
		slog.String("otel_exporter_otlp_endpoint", c.OTLPEndpoint),
		slog.String("redis_key_prefix", c.RedisKeyPrefix),
		slog.Int("rate_limit_anonymous_per_minute", c.RateLimitAnonymous),
		slog.Int("rate_limit_user_per_minute", c.RateLimitUser),
		slog.Int("rate_limit_api_key_per_minute", c.RateLimitAPIKey),
		slog.Int("audit_retention_days", c.AuditRetentionDays),
		slog.Int("trusted_proxies", len(c.TrustedProxies)),
		slog.Int("database_max_conns", c.DatabaseMaxConns),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("request_timeout", c.RequestTimeout.String()),
		slog.Int("webhook_workers", c.WebhookWorkers),
		slog.Bool("webhooks_allow_private_networks", c.WebhooksAllowPrivateNetworks),
		slog.Int("events_retention_days", int(c.EventsRetention/(24*time.Hour))),
		slog.Any("database_replicas", describeDatabases(c.DatabaseReplicaURLs)),
		slog.String("database_replica_max_lag", c.DatabaseReplicaMaxLag.String()),
		slog.String("database_direct", describeDatabase(c.DatabaseDirectURL)),
		slog.String("database_query_exec_mode", c.DatabaseQueryExecMode),
		slog.String("database_isolation", c.DatabaseIsolation),
	)
}

// describeDatabase names host, port, database and user only: a connection string may carry its password
// in places a URL mask would miss (keyword form, query parameters).
func describeDatabase(raw string) string {
	cfg, err := pgconn.ParseConfig(raw)
	if err != nil {
		return "[unparseable]"
	}
	return fmt.Sprintf("host=%s port=%d dbname=%s user=%s", cfg.Host, cfg.Port, cfg.Database, cfg.User)
}

func maskURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparseable]"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.Redacted()
}
