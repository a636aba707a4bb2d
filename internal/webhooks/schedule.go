package webhooks

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// Schedule is the wait after each failed attempt before the next: the first attempt is immediate,
// after n failed attempts the next waits Schedule[n-1], and a delivery whose attempt len(Schedule)+1
// fails is failed.
type Schedule []time.Duration

// DefaultSchedule is Standard Webhooks' example: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
// 14 h, 20 h and 24 h after the previous attempt: ten attempts over about 3 days and 3 hours.
var DefaultSchedule = Schedule{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}

// Span is the time from the first attempt to the last, before jitter.
func (s Schedule) Span() time.Duration {
	var d time.Duration
	for _, x := range s {
		d += x
	}
	return d
}

// MaxRetryAfter caps how long a receiver's Retry-After can hold its next attempt back.
const MaxRetryAfter = 24 * time.Hour

// jitter spreads retries by up to ±10%, so a receiver that comes back is not hit by every delivery
// that failed at the same moment in the same second.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// next is the wait before the next attempt after the failed attempt number n (1-based), and whether
// there is one: the schedule's step, jittered, or the receiver's Retry-After when that is longer.
func (s Schedule) next(n int, retryAfter time.Duration) (time.Duration, bool) {
	if n < 1 || n > len(s) {
		return 0, false
	}
	d := jitter(s[n-1])
	if retryAfter > MaxRetryAfter {
		retryAfter = MaxRetryAfter
	}
	return max(d, retryAfter), true
}

// Response is what a receiver answered an attempt.
type Response struct {
	StatusCode int           // 0 when there was no HTTP response
	RetryAfter time.Duration // the Retry-After of a 429 or 503
	Duration   time.Duration
	Err        error // no response: refused by the policy, unreachable, timed out
}

// outcome classifies an answer: 2xx succeeded, 410 gone, anything else (3xx included: redirects are
// not followed) failed.
func (r Response) outcome() Outcome {
	switch {
	case r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300:
		return OutcomeSucceeded
	case r.Err == nil && r.StatusCode == http.StatusGone:
		return OutcomeGone
	default:
		return OutcomeFailed
	}
}

// honoursRetryAfter: Retry-After is read on 429 and 503 only.
func honoursRetryAfter(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}
