package redis

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/storefront/storefront/internal/ratelimit"
)

// gcra is the generic cell rate algorithm, atomic in Redis. The key holds the theoretical arrival time
// (TAT) in milliseconds by Redis's own clock, so every instance agrees. limit requests per period are
// allowed, all of them at once if none came before. Returns {allowed, remaining, reset_ms, retry_after_ms}.
var gcra = rueidis.NewLuaScript(`
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local interval = period / limit
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
if allow_at > now then
  return {0, 0, math.ceil(tat - now), math.ceil(allow_at - now)}
end
redis.call("SET", KEYS[1], tostring(new_tat), "PX", math.ceil(new_tat - now))
local remaining = math.floor((now + period - new_tat) / interval)
return {1, remaining, math.ceil(new_tat - now), 0}
`)

// script runs a limiter script on key and returns its n integers.
func (l *Limiter) script(ctx context.Context, op string, lua *rueidis.Lua, key string, n int, args ...string) ([]int64, error) {
	var vals []int64
	err := l.c.do(ctx, op, func(ctx context.Context, client rueidis.Client) error {
		var err error
		vals, err = lua.Exec(ctx, client, []string{l.c.Key("rl", key)}, args).AsIntSlice()
		if err == nil && len(vals) != n {
			err = fmt.Errorf("%s: %d values, want %d", op, len(vals), n)
		}
		return err
	})
	return vals, err
}

// Limiter applies limits shared by every instance using the same Redis.
type Limiter struct {
	c *Client
	// Decisions counts allow/deny/fail-open outcomes, for metrics.
	Allowed, Denied, FailedOpen atomic.Int64
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// NewLimiter returns a limiter over the client.
func NewLimiter(c *Client) *Limiter { return &Limiter{c: c} }

// Take counts one request against key's limit per period.
func (l *Limiter) Take(ctx context.Context, key string, limit int, period time.Duration) (ratelimit.Decision, error) {
	vals, err := l.script(ctx, "EVALSHA gcra", gcra, key, 4, strconv.FormatInt(period.Milliseconds(), 10), strconv.Itoa(limit))
	if err != nil {
		l.FailedOpen.Add(1)
		return ratelimit.Decision{}, err
	}
	d := ratelimit.Decision{Allowed: vals[0] == 1, Limit: limit, Remaining: int(vals[1]),
		Reset: time.Duration(vals[2]) * time.Millisecond, RetryAfter: time.Duration(vals[3]) * time.Millisecond}
	if d.Allowed {
		l.Allowed.Add(1)
	} else {
		l.Denied.Add(1)
	}
	return d, nil
}
