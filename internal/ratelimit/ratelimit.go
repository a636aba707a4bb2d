// Package ratelimit is the contract between the HTTP rate limiting and the limiter that counts.
package ratelimit

import (
	"context"
	"time"
)

// Decision is the limiter's answer for one request.
type Decision struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      time.Duration // until the full limit is available again
	RetryAfter time.Duration // when refused: until one more request is allowed
}

// Limiter counts requests per key, shared by every instance.
type Limiter interface {
	Take(ctx context.Context, key string, limit int, period time.Duration) (Decision, error)
}
