package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisstore"
	"github.com/cookiesession/cookiesession/redisstore/redistest"
	"github.com/cookiesession/cookiesession/revocationtest"
)

// client returns a client of srv, closed when t ends.
func client(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func newStore(t testing.TB, c redis.UniversalClient) *redisstore.Store {
	s, err := redisstore.New(c, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the revocationtest suite against a real
// redis-server, with a closed port for the broken store and a listener
// that never answers for the hung one.
func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	revocationtest.Run(t, revocationtest.Harness{
		New: func(t *testing.T) cookiesession.RevocationStore { return newStore(t, client(t, srv.Addr)) },
		// Marks expire by the server's real clock: a TTL of 2 s leaves
		// room for a busy machine between a revoke and its check.
		TTL: 2 * time.Second,
		Broken: func(t *testing.T) cookiesession.RevocationStore {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			return newStore(t, client(t, addr))
		},
		Hung: func(t *testing.T) cookiesession.RevocationStore {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					t.Cleanup(func() { c.Close() }) // held open, never answered
				}
			}()
			return newStore(t, client(t, l.Addr().String()))
		},
	})
}

// TestKeys checks the keys a mark writes: their names and values, and
// that each has a time to live.
func TestKeys(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv.Addr)
	s := newStore(t, c)
	ctx := t.Context()
	id := strings.Repeat("ab", 16)
	before := time.Unix(1795305600, 5)
	if err := s.RevokeSession(ctx, id, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSubject(ctx, "user:42", before, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"cookiesession:revoked:s:" + id:   "1",
		"cookiesession:revoked:u:user:42": "1795305600000000005",
	} {
		v, err := c.Get(ctx, key).Result()
		if err != nil || v != want {
			t.Errorf("GET %s = %q, %v; want %q", key, v, err, want)
		}
		if ttl := c.PTTL(ctx, key).Val(); ttl <= 0 || ttl > 2*time.Hour {
			t.Errorf("PTTL %s = %v", key, ttl)
		}
	}
	if _, err := redisstore.New(nil, redisstore.Options{}); err == nil {
		t.Error("New(nil) gave no error")
	}
}

// TestMarkMemory measures what a mark costs in Redis: MEMORY USAGE of one
// key of each kind, and used_memory over 10,000 marks of each.
func TestMarkMemory(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv.Addr)
	s := newStore(t, c)
	ctx := t.Context()
	id := func(i int) string { return fmt.Sprintf("%032x", i*7919) }
	used := func() int64 {
		info := c.Info(ctx, "memory").Val()
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		t.Fatal("no used_memory in INFO memory")
		return 0
	}
	ttl := 14*24*time.Hour + 10*time.Second
	const n = 10000
	m0 := used()
	for i := range n {
		if err := s.RevokeSession(ctx, id(i), ttl); err != nil {
			t.Fatal(err)
		}
	}
	m1 := used()
	for i := range n {
		if err := s.RevokeSubject(ctx, fmt.Sprintf("user-%08d", i), time.Now(), 400*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	m2 := used()
	one := c.MemoryUsage(ctx, "cookiesession:revoked:s:"+id(1)).Val()
	sub := c.MemoryUsage(ctx, "cookiesession:revoked:u:user-00000001").Val()
	t.Logf("session mark: MEMORY USAGE %d bytes; used_memory %.1f bytes per mark over %d", one, float64(m1-m0)/n, n)
	t.Logf("subject mark (13-byte subject): MEMORY USAGE %d bytes; used_memory %.1f bytes per mark over %d", sub, float64(m2-m1)/n, n)
	if one <= 0 || sub <= 0 {
		t.Fatal("MEMORY USAGE gave nothing")
	}
}

// TestManagerOnRedis: two Managers (two instances) share one Redis; a
// logout on one refuses the stolen copy on the other at once (Bound 0).
func TestManagerOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	var ms []*cookiesession.Manager
	for range 2 {
		m, err := cookiesession.New(kr, cookiesession.Config{Name: "s", Insecure: true,
			Revocation: cookiesession.Revocation{Store: newStore(t, client(t, srv.Addr))}})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	ctx := context.Background()
	s, _ := ms[0].LoadHeader(ctx, "")
	s.SetSubject("u1")
	s.Set("n", 1)
	lines, err := ms[0].SetCookieHeaders(s)
	if err != nil {
		t.Fatal(err)
	}
	cookie := strings.Split(lines[0], ";")[0]
	s1, err := ms[1].LoadHeader(ctx, cookie)
	if err != nil || s1.Subject() != "u1" {
		t.Fatalf("before logout on instance 1: %q %v", s1.Subject(), err)
	}
	s0, _ := ms[0].LoadHeader(ctx, cookie)
	if err := s0.Revoke(ctx); err != nil {
		t.Fatal(err)
	}
	s1, err = ms[1].LoadHeader(ctx, cookie)
	if s1.Subject() != "" || err == nil {
		t.Fatalf("after logout on instance 0, instance 1 accepted the copy: %q %v", s1.Subject(), err)
	}
}

// TestConformanceCluster runs the suite against a Redis Cluster of three
// masters, through a redis.ClusterClient: a check's two keys fall in
// different slots, on different nodes.
func TestConformanceCluster(t *testing.T) {
	servers := redistest.StartCluster(t, 3)
	var addrs []string
	for _, s := range servers {
		addrs = append(addrs, s.Addr)
	}
	revocationtest.Run(t, revocationtest.Harness{
		New: func(t *testing.T) cookiesession.RevocationStore {
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRetries: -1})
			t.Cleanup(func() { c.Close() })
			return newStore(t, c)
		},
		TTL: 2 * time.Second,
	})
}
