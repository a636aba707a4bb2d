package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// QueryExecModes are the values of DATABASE_QUERY_EXEC_MODE, pgx's names for how a query is sent.
// cache_statement (pgx's default) prepares each statement once per connection: the fastest, and the
// one a transaction-mode pooler without prepared-statement support (PgBouncer before 1.21) breaks.
// cache_describe sends every query as an unnamed statement with a cached description: one round trip,
// safe behind any pooler, at the cost of the server parsing and planning each query again.
var QueryExecModes = []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"}

// Isolations are the values of DATABASE_ISOLATION.
var Isolations = []string{"read_committed", "repeatable_read", "serializable"}

// DefaultReplicaMaxLag is how far behind the primary a replica may be and still serve reads.
const DefaultReplicaMaxLag = 5 * time.Second

// loadScale reads the settings for running past one database.
func (c *Config) loadScale(getenv func(string) string) []error {
	var problems []error
	for _, u := range strings.Split(getenv("DATABASE_REPLICA_URLS"), ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		if _, err := url.Parse(u); err != nil || !strings.HasPrefix(u, "postgres") {
			problems = append(problems, fmt.Errorf("DATABASE_REPLICA_URLS entry %d is not a postgres:// URL", len(c.DatabaseReplicaURLs)+1))
			continue
		}
		c.DatabaseReplicaURLs = append(c.DatabaseReplicaURLs, u)
	}
	var err error
	if c.DatabaseReplicaMaxLag, err = duration(getenv, "DATABASE_REPLICA_MAX_LAG", DefaultReplicaMaxLag, 100*time.Millisecond, time.Hour); err != nil {
		problems = append(problems, err)
	}
	c.DatabaseDirectURL = strings.TrimSpace(getenv("DATABASE_DIRECT_URL"))
	if c.DatabaseDirectURL == "" {
		c.DatabaseDirectURL = c.DatabaseURL
	} else if _, err := url.Parse(c.DatabaseDirectURL); err != nil {
		problems = append(problems, fmt.Errorf("DATABASE_DIRECT_URL is not a URL: %v", err))
	}
	if c.DatabaseQueryExecMode, err = oneOf(getenv, "DATABASE_QUERY_EXEC_MODE", QueryExecModes); err != nil {
		problems = append(problems, err)
	}
	if c.DatabaseIsolation, err = oneOf(getenv, "DATABASE_ISOLATION", Isolations); err != nil {
		problems = append(problems, err)
	}
	return problems
}

// oneOf reads a setting that must be one of values; unset is the first.
func oneOf(getenv func(string) string, name string, values []string) (string, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return values[0], nil
	}
	if !slices.Contains(values, v) {
		return "", fmt.Errorf("%s must be one of %s, got %q", name, strings.Join(values, ", "), v)
	}
	return v, nil
}

func describeDatabases(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = describeDatabase(u)
	}
	return out
}
