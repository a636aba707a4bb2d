package redis

import (
	"context"
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

// window counts attempts in a window that opens with the first one: {count, milliseconds left}.
var window = rueidis.NewLuaScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return {n, redis.call("PTTL", KEYS[1])}
`)

// CountInWindow counts one attempt against "limit per period, counted from the first attempt" and
// refuses past the limit until the period has passed (the failed sign-in rule).
func (l *Limiter) CountInWindow(ctx context.Context, key string, limit int, period time.Duration) (ratelimit.Decision, error) {
	client, err := l.c.get()
	if err != nil {
		l.c.failed("login throttle", err)
		return ratelimit.Decision{}, err
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	ctx, end := l.c.span(ctx, "EVALSHA window")
	vals, err := window.Exec(ctx, client, []string{l.c.Key("rl", key)}, []string{strconv.FormatInt(period.Milliseconds(), 10)}).AsIntSlice()
	end(err)
	if err != nil || len(vals) != 2 {
		l.c.failed("login throttle", err)
		if err == nil {
			err = ErrUnavailable
		}
		return ratelimit.Decision{}, err
	}
	left := time.Duration(vals[1]) * time.Millisecond
	d := ratelimit.Decision{Allowed: vals[0] <= int64(limit), Limit: limit, Remaining: max(limit-int(vals[0]), 0), Reset: left}
	if !d.Allowed {
		d.RetryAfter = left
	}
	return d, nil
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

	client, err := l.c.get()
	if err != nil {
		l.FailedOpen.Add(1)
		l.c.failed("rate limit", err)
		return ratelimit.Decision{}, err
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	ctx, end := l.c.span(ctx, "EVALSHA gcra")
	vals, err := gcra.Exec(ctx, client, []string{l.c.Key("rl", key)},
		[]string{strconv.FormatInt(period.Milliseconds(), 10), strconv.Itoa(limit)}).AsIntSlice()
	end(err)
	if err != nil || len(vals) != 4 {
		l.FailedOpen.Add(1)
		l.c.failed("rate limit", err)
		if err == nil {
			err = ErrUnavailable
		}
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

// Reset forgets key's history.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	client, err := l.c.get()
	if err != nil {
		return err
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	return client.Do(ctx, client.B().Del().Key(l.c.Key("rl", key)).Build()).Error()
}
