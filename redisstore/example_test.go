package redisstore_test

import (
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisstore"
)

// A Manager whose revocation marks live in Redis. A Sentinel or Cluster
// client (redis.NewFailoverClient, redis.NewClusterClient) works the same.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	store, err := redisstore.New(rdb, redisstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	key, err := cookiesession.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	m, err := cookiesession.New(kr, cookiesession.Config{
		Revocation: cookiesession.Revocation{Store: store, Bound: time.Minute},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = m // m.Middleware(handler)
}
