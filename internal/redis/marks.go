package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// raiseMark sets KEYS[1] to ARGV[1] unless it holds a greater position, and (re)arms its expiry
// (ARGV[2] ms). Positions are fixed-width hex, so string order is numeric order.
var raiseMark = rueidis.NewLuaScript(`
local cur = redis.call("GET", KEYS[1])
if not cur or ARGV[1] > cur then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
else
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 1
`)

// WriteMarks keep each caller's last write position (the primary's WAL LSN after the commit) for
// every instance, for read-your-writes with read replicas (postgres.WriteMarks). One key per caller,
// so they spread over a cluster's slots.
type WriteMarks struct{ c *Client }

// NewWriteMarks returns the marks over the client.
func NewWriteMarks(c *Client) *WriteMarks { return &WriteMarks{c: c} }

func (m *WriteMarks) key(caller string) string { return m.c.Key("rw", caller) }

// Mark records that caller's writes reach lsn, for ttl.
func (m *WriteMarks) Mark(ctx context.Context, caller string, lsn uint64, ttl time.Duration) error {
	return m.c.do(ctx, "EVALSHA mark", func(ctx context.Context, client rueidis.Client) error {
		return raiseMark.Exec(ctx, client, []string{m.key(caller)},
			[]string{fmt.Sprintf("%016X", lsn), strconv.FormatInt(ttl.Milliseconds(), 10)}).Error()
	})
}

// Marked is caller's mark, 0 when none.
func (m *WriteMarks) Marked(ctx context.Context, caller string) (uint64, error) {
	var lsn uint64
	err := m.c.do(ctx, "GET mark", func(ctx context.Context, client rueidis.Client) error {
		s, err := client.Do(ctx, client.B().Get().Key(m.key(caller)).Build()).ToString()
		if rueidis.IsRedisNil(err) {
			return nil
		}
		if err != nil {
			return err
		}
		lsn, err = strconv.ParseUint(s, 16, 64)
		return err
	})
	return lsn, err
}
