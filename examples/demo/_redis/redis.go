package main

// The demo's Redis client. This file is not in the demo's package on disk:
// the Redis build adds it with -overlay (see README.md here), so that the
// main module, which holds the demo, needs only golang.org/x/crypto.

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisstore"
)

func init() { openRedis = openRedisStore }

// openRedisStore connects to the Redis server at url, as
// redis://[user:password@]host:port/db, and checks that it answers.
func openRedisStore(ctx context.Context, url string) (cookiesession.RevocationStore, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts.ContextTimeoutEnabled = true
	c := redis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, err
	}
	s, err := redisstore.New(c, redisstore.Options{})
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}
