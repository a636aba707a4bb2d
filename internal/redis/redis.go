// Package redis holds the rueidis client. Connecting is lazy and retried, so the service starts and
// serves while Redis is down and picks it up when it returns.
package redis

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/rueidis"
)

// Client is a lazily connected rueidis client.
type Client struct {
	opt rueidis.ClientOption

	mu     sync.Mutex
	client rueidis.Client
}

// New parses the URL; it does not connect.
func New(url string) (*Client, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parsing REDIS_URL: %w", err)
	}
	return &Client{opt: opt}, nil
}

// get returns the connected client, connecting on first use and after a failed attempt.
func (c *Client) get() (rueidis.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	client, err := rueidis.NewClient(c.opt)
	if err != nil {
		return nil, fmt.Errorf("connecting to Redis: %w", err)
	}
	c.client = client
	return client, nil
}

// Ping checks that Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	client, err := c.get()
	if err != nil {
		return err
	}
	return client.Do(ctx, client.B().Ping().Build()).Error()
}

// Close releases the connections.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		c.client.Close()
		c.client = nil
	}
}
