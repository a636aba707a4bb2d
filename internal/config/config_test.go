package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	secret := strings.Repeat("s", 32)
	t.Run("defaults", func(t *testing.T) {
		c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://localhost/db"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.HTTPAddr != ":8080" || c.AppEnv != EnvDevelopment || !c.JWTSecretGenerated || len(c.JWTSecret) < 32 {
			t.Fatalf("unexpected defaults: %+v", c)
		}
		if c.RateLimitAPIKey != 1000 || c.AuditRetentionDays != 400 {
			t.Fatalf("API key tier %d, audit retention %d", c.RateLimitAPIKey, c.AuditRetentionDays)
		}
	})
	t.Run("partner settings", func(t *testing.T) {
		c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://localhost/db", "RATE_LIMIT_API_KEY_PER_MINUTE": "50",
			"AUDIT_RETENTION_DAYS": "730"}))
		if err != nil || c.RateLimitAPIKey != 50 || c.AuditRetentionDays != 730 {
			t.Fatalf("config %+v, %v", c, err)
		}
		for _, bad := range []map[string]string{{"RATE_LIMIT_API_KEY_PER_MINUTE": "0"}, {"AUDIT_RETENTION_DAYS": "0"},
			{"AUDIT_RETENTION_DAYS": "36501"}, {"AUDIT_RETENTION_DAYS": "a year"}} {
			bad["DATABASE_URL"] = "postgres://localhost/db"
			if _, err := Load(env(bad)); err == nil {
				t.Errorf("%v accepted", bad)
			}
		}
	})
	t.Run("production needs a secret", func(t *testing.T) {
		_, err := Load(env(map[string]string{"DATABASE_URL": "postgres://localhost/db", "APP_ENV": "production"}))
		if err == nil || !strings.Contains(err.Error(), "JWT_SECRET is required") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("webhook settings", func(t *testing.T) {
		c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://localhost/db"}))
		if err != nil || c.WebhookWorkers != 10 || c.EventsRetention != 30*24*time.Hour || c.WebhooksAllowPrivateNetworks {
			t.Fatalf("defaults: %+v %v", c, err)
		}
		c, err = Load(env(map[string]string{"DATABASE_URL": "postgres://localhost/db", "WEBHOOK_WORKERS": "0",
			"EVENTS_RETENTION_DAYS": "90", "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"}))
		if err != nil || c.WebhookWorkers != 0 || c.EventsRetention != 90*24*time.Hour || !c.WebhooksAllowPrivateNetworks {
			t.Fatalf("set: %+v %v", c, err)
		}
		_, err = Load(env(map[string]string{"DATABASE_URL": "postgres://localhost/db", "WEBHOOK_WORKERS": "-1",
			"EVENTS_RETENTION_DAYS": "7", "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "maybe"}))
		for _, want := range []string{"WEBHOOK_WORKERS", "EVENTS_RETENTION_DAYS must be a whole number from 30", "WEBHOOKS_ALLOW_PRIVATE_NETWORKS"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error does not mention %s: %v", want, err)
			}
		}
	})
	t.Run("production refuses private webhook receivers", func(t *testing.T) {
		_, err := Load(env(map[string]string{"DATABASE_URL": "postgres://localhost/db", "APP_ENV": "production", "JWT_SECRET": secret,
			"WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"}))
		if err == nil || !strings.Contains(err.Error(), "WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true is refused when APP_ENV=production") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("every problem reported", func(t *testing.T) {
		_, err := Load(env(map[string]string{"APP_ENV": "staging", "JWT_SECRET": "short", "LOG_LEVEL": "loud",
			"CORS_ALLOWED_ORIGINS": "*,ftp://x", "REDIS_URL": "http://x"}))
		if err == nil {
			t.Fatal("expected an error")
		}
		for _, want := range []string{"APP_ENV", "DATABASE_URL", "JWT_SECRET", "LOG_LEVEL", `"*"`, "ftp://x", "REDIS_URL"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not mention %s: %v", want, err)
			}
		}
	})
	t.Run("secrets masked in logs", func(t *testing.T) {
		c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://u:hunter2@localhost/db?password=hunter2", "JWT_SECRET": secret,
			"CORS_ALLOWED_ORIGINS": "https://app.example.com/ , http://localhost:3000"}))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
		if strings.Contains(buf.String(), "hunter2") || strings.Contains(buf.String(), secret) {
			t.Fatalf("secret leaked: %s", buf.String())
		}
		if len(c.CORSAllowedOrigins) != 2 || c.CORSAllowedOrigins[0] != "https://app.example.com" {
			t.Fatalf("origins = %v", c.CORSAllowedOrigins)
		}
	})
}

func TestLoadScale(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://localhost/db"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.DatabaseReplicaURLs) != 0 || c.DatabaseReplicaMaxLag != DefaultReplicaMaxLag || c.DatabaseDirectURL != c.DatabaseURL ||
			c.DatabaseQueryExecMode != "cache_statement" || c.DatabaseIsolation != "read_committed" {
			t.Fatalf("defaults: %+v", c)
		}
	})
	t.Run("set", func(t *testing.T) {
		c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://pooler:6432/db", "DATABASE_DIRECT_URL": "postgres://db:5432/db",
			"DATABASE_REPLICA_URLS": "postgres://r1/db, postgres://r2/db", "DATABASE_REPLICA_MAX_LAG": "2s",
			"DATABASE_QUERY_EXEC_MODE": "cache_describe", "DATABASE_ISOLATION": "serializable"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.DatabaseReplicaURLs) != 2 || c.DatabaseReplicaURLs[1] != "postgres://r2/db" || c.DatabaseReplicaMaxLag.String() != "2s" ||
			c.DatabaseDirectURL != "postgres://db:5432/db" || c.DatabaseQueryExecMode != "cache_describe" || c.DatabaseIsolation != "serializable" {
			t.Fatalf("loaded: %+v", c)
		}
	})
	t.Run("every problem reported", func(t *testing.T) {
		_, err := Load(env(map[string]string{"DATABASE_URL": "postgres://localhost/db", "DATABASE_REPLICA_URLS": "mysql://x",
			"DATABASE_REPLICA_MAX_LAG": "forever", "DATABASE_QUERY_EXEC_MODE": "prepared", "DATABASE_ISOLATION": "snapshot"}))
		for _, want := range []string{"DATABASE_REPLICA_URLS", "DATABASE_REPLICA_MAX_LAG", "DATABASE_QUERY_EXEC_MODE", "DATABASE_ISOLATION"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error does not mention %s: %v", want, err)
			}
		}
	})
}
