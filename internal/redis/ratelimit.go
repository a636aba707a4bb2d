package redis

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/storefront/storefront/internal/ratelimit"
)

// The rate limiter is global without a Redis round trip per request. Redis keeps one GCRA state per key
// (the theoretical arrival time, by Redis's clock, so every instance agrees); an instance leases a small
// batch of allowance from it in one atomic script, spends the batch in memory, and hands back what it did
// not spend when the lease ends. So:
//   - it never admits more than an exact GCRA limiter would: every admitted request was granted by Redis;
//   - it admits at most the leased-but-unspent allowance fewer: each instance holds at most one batch per
//     key, of limit/40 (at most 64), for at most leaseTTL. With two instances that is within 5% of the
//     limit (exactly the limit below 40 per period, where a batch is one);
//   - a client hammering one instance is refused at its limit exactly, and its refusals are answered from
//     memory until Redis said more allowance frees up, so a refused flood costs Redis nothing;
//   - the headers are truthful within the same bound: remaining is Redis's remaining after the lease
//     plus what this instance still holds.
// When Redis cannot answer, requests are admitted (fail open) and counted.

// lease takes up to ARGV[3] allowances for the key after handing back ARGV[4] unspent ones. Returns
// {granted, remaining, reset_ms, retry_after_ms}: retry_after_ms is set when nothing was granted.
var lease = rueidis.NewLuaScript(`
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local back = tonumber(ARGV[4])
local interval = period / limit
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then tat = now end
if back > 0 then tat = math.max(now, tat - back * interval) end
local granted = math.min(want, math.floor((now + period - tat) / interval))
if granted < 0 then granted = 0 end
tat = tat + granted * interval
if tat > now then
  redis.call("SET", KEYS[1], tostring(tat), "PX", math.ceil(tat - now))
else
  redis.call("DEL", KEYS[1])
end
local remaining = math.floor((now + period - tat) / interval)
local retry = 0
if granted == 0 then retry = math.ceil(tat + interval - period - now) end
return {granted, remaining, math.ceil(tat - now), retry}
`)

const (
	// leaseTTL is how long an instance may hold unspent allowance before handing it back.
	leaseTTL = 500 * time.Millisecond
	// maxBatch bounds a lease.
	maxBatch = 64
)

// batchFor is the allowance one lease takes: 1/40 of the limit, so two instances holding a full batch
// each leave at most 5% of the limit unspent.
func batchFor(limit int) int { return max(1, min(limit/40, maxBatch)) }

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
	// Leases counts the round trips to Redis (for the benchmark and the tests).
	Leases atomic.Int64

	mu   sync.Mutex
	keys map[string]*held
	now  func() time.Time
}

// held is one key's allowance on this instance.
type held struct {
	mu          sync.Mutex
	limit       int
	period      time.Duration
	tokens      int       // granted by Redis, not yet spent
	expires     time.Time // the lease ends: unspent tokens go back
	remaining   int       // Redis's remaining after the last lease
	resetAt     time.Time // when the full limit is available again, as of the last lease
	deniedUntil time.Time // Redis refused: refuse from memory until then
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// NewLimiter returns a limiter over the client. It hands back unspent allowance in the background until
// the client is closed.
func NewLimiter(c *Client) *Limiter {
	l := &Limiter{c: c, keys: map[string]*held{}, now: time.Now}
	go l.sweep(c.life)
	return l
}

func (l *Limiter) held(key string) *held {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.keys[key]
	if !ok {
		h = &held{}
		l.keys[key] = h
	}
	return h
}

// Take counts one request against key's limit per period.
func (l *Limiter) Take(ctx context.Context, key string, limit int, period time.Duration) (ratelimit.Decision, error) {
	h := l.held(key)
	h.mu.Lock()
	defer h.mu.Unlock()
	now := l.now()
	if h.limit != limit || h.period != period { // another limit for this key: start afresh
		h.limit, h.period, h.tokens, h.deniedUntil = limit, period, 0, time.Time{}
	}
	if now.Before(h.deniedUntil) {
		l.Denied.Add(1)
		return ratelimit.Decision{Limit: limit, Reset: h.resetAt.Sub(now), RetryAfter: h.deniedUntil.Sub(now)}, nil
	}
	if h.tokens == 0 || !now.Before(h.expires) {
		back := h.tokens
		h.tokens = 0
		vals, err := l.script(ctx, "EVALSHA lease", lease, key, 4, strconv.FormatInt(period.Milliseconds(), 10),
			strconv.Itoa(limit), strconv.Itoa(batchFor(limit)), strconv.Itoa(back))
		if err != nil {
			l.FailedOpen.Add(1)
			return ratelimit.Decision{}, err
		}
		l.Leases.Add(1)
		granted := int(vals[0])
		h.remaining, h.resetAt = int(vals[1]), now.Add(time.Duration(vals[2])*time.Millisecond)
		if granted == 0 {
			h.deniedUntil = now.Add(time.Duration(vals[3]) * time.Millisecond)
			l.Denied.Add(1)
			return ratelimit.Decision{Limit: limit, Reset: h.resetAt.Sub(now), RetryAfter: h.deniedUntil.Sub(now)}, nil
		}
		h.tokens, h.expires = granted, now.Add(leaseTTL)
	}
	h.tokens--
	l.Allowed.Add(1)
	return ratelimit.Decision{Allowed: true, Limit: limit, Remaining: h.remaining + h.tokens, Reset: h.resetAt.Sub(now)}, nil
}

// sweep hands back the unspent allowance of ended leases, and forgets keys with nothing left to tell.
func (l *Limiter) sweep(life context.Context) {
	t := time.NewTicker(leaseTTL)
	defer t.Stop()
	for {
		select {
		case <-life.Done():
			return
		case <-t.C:
		}
		l.handBack(life)
	}
}

// handBack returns every ended lease's unspent allowance to Redis.
func (l *Limiter) handBack(ctx context.Context) {
	now := l.now()
	l.mu.Lock()
	var ended []string
	for key, h := range l.keys {
		h.mu.Lock()
		switch {
		case h.tokens > 0 && !now.Before(h.expires):
			ended = append(ended, key)
		case h.tokens == 0 && !now.Before(h.deniedUntil) && !now.Before(h.expires):
			delete(l.keys, key)
		}
		h.mu.Unlock()
	}
	l.mu.Unlock()
	for _, key := range ended {
		h := l.held(key)
		h.mu.Lock()
		if back := h.tokens; back > 0 && !now.Before(h.expires) {
			h.tokens = 0
			_, _ = l.script(ctx, "EVALSHA lease", lease, key, 4, strconv.FormatInt(h.period.Milliseconds(), 10),
				strconv.Itoa(h.limit), "0", strconv.Itoa(back))
		}
		h.mu.Unlock()
	}
}
