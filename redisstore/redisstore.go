// Package redisstore is a [cookiesession.RevocationStore] on Redis, or on
// any server that speaks its protocol, such as Valkey. It takes a
// [redis.UniversalClient], so a single server, Sentinel and Cluster all
// work.
//
//	store, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}), redisstore.Options{})
//	m, err := cookiesession.New(kr, cookiesession.Config{
//		Revocation: cookiesession.Revocation{Store: store, Bound: time.Minute},
//	})
//
// # Keys
//
// Each mark is one string key with a time to live, so Redis drops it by
// itself once no session it names could still be valid:
//
//   - Prefix + "s:" + the session ID (32 hex digits), holding "1";
//   - Prefix + "u:" + the subject, holding the revocation time in Unix
//     nanoseconds, as 19 decimal digits.
//
// A second mark on the same key keeps the later time and the later expiry:
// a short Lua script does that in one step on the server. A check reads
// both keys in one pipelined round trip. Nothing else is stored, and no
// key is ever written without a time to live.
//
// # Deadlines
//
// Every call returns by its context's deadline, whatever the client's own
// timeouts. A call that times out may still hold a connection until the
// client's ReadTimeout (3 s by default); set
// redis.Options.ContextTimeoutEnabled to free it at the deadline too.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cookiesession/cookiesession"
)

// DefaultPrefix is the default Options.Prefix.
const DefaultPrefix = "cookiesession:revoked:"

// Options configures a Store.
type Options struct {
	// Prefix starts every key the store writes. Default: DefaultPrefix
	// ("cookiesession:revoked:"). In a Cluster, marks spread over slots by
	// the rest of the key.
	Prefix string
}

// Store holds revocation marks in Redis. It is safe for concurrent use.
type Store struct {
	c      redis.UniversalClient
	prefix string
}

var _ cookiesession.RevocationStore = (*Store)(nil)

// New returns a Store that keeps its marks through c.
func New(c redis.UniversalClient, o Options) (*Store, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: redisstore: nil client", cookiesession.ErrInvalidConfig)
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	return &Store{c: c, prefix: o.Prefix}, nil
}

// revokeSession sets KEYS[1] to "1" for ARGV[1] milliseconds, unless it
// already lives longer.
var revokeSession = redis.NewScript(`
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
	redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1`)

// revokeSubject sets KEYS[1] to the later of its time and ARGV[1] (both
// 19 decimal digits, so that they compare as strings), for the longer of
// its time to live and ARGV[2] milliseconds.
var revokeSubject = redis.NewScript(`
local v, ttl = ARGV[1], tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur and cur > v then v = cur end
local left = redis.call('PTTL', KEYS[1])
if left > ttl then ttl = left end
redis.call('SET', KEYS[1], v, 'PX', ttl)
return 1`)

// RevokeSession marks the session ID revoked for ttl, counted by the
// server's clock.
func (s *Store) RevokeSession(ctx context.Context, id string, ttl time.Duration) error {
	if err := args(id, ttl); err != nil {
		return err
	}
	_, err := within(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, revokeSession.Run(ctx, s.c, []string{s.prefix + "s:" + id}, millis(ttl)).Err()
	})
	return wrap(err)
}

// RevokeSubject marks the sessions of subject that logged in before before
// revoked for ttl, counted by the server's clock.
func (s *Store) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	if err := args(subject, ttl); err != nil {
		return err
	}
	ns := before.UnixNano()
	if ns <= 0 || before.Year() > 2261 {
		return fmt.Errorf("%w: redisstore: revocation time %v out of range", cookiesession.ErrInvalidConfig, before)
	}
	_, err := within(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, revokeSubject.Run(ctx, s.c, []string{s.prefix + "u:" + subject}, fmt.Sprintf("%019d", ns), millis(ttl)).Err()
	})
	return wrap(err)
}

// Check reads the marks on id and subject, in one round trip.
func (s *Store) Check(ctx context.Context, id, subject string) (cookiesession.RevocationMarks, error) {
	m, err := within(ctx, func(ctx context.Context) (cookiesession.RevocationMarks, error) {
		var ex *redis.IntCmd
		var get *redis.StringCmd
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			ex = p.Exists(ctx, s.prefix+"s:"+id)
			get = p.Get(ctx, s.prefix+"u:"+subject)
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return cookiesession.RevocationMarks{}, err
		}
		var m cookiesession.RevocationMarks
		n, err := ex.Result()
		if err != nil {
			return m, err
		}
		m.Session = n > 0
		v, err := get.Result()
		switch {
		case errors.Is(err, redis.Nil):
			return m, nil
		case err != nil:
			return m, err
		}
		ns, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ns <= 0 {
			return m, fmt.Errorf("redisstore: subject mark holds %.24q, not a time", v)
		}
		m.Before = time.Unix(0, ns)
		return m, nil
	})
	return m, wrap(err)
}

// within runs f, and returns by ctx's deadline even if f does not.
func within[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if _, ok := ctx.Deadline(); !ok {
		return f(ctx)
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redisstore: %w", err)
}

func args(name string, ttl time.Duration) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: redisstore: revocation mark on an empty ID or subject", cookiesession.ErrInvalidConfig)
	case ttl <= 0:
		return fmt.Errorf("%w: redisstore: revocation mark with a TTL of %v", cookiesession.ErrInvalidConfig, ttl)
	}
	return nil
}

// millis is ttl in whole milliseconds, rounded up.
func millis(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}
