package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisstore"
	"github.com/cookiesession/cookiesession/redisstore/redistest"
)

// counting counts the store's round trips.
type counting struct {
	cookiesession.RevocationStore
	trips atomic.Int64
}

func (c *counting) Check(ctx context.Context, id, subject string) (cookiesession.RevocationMarks, error) {
	c.trips.Add(1)
	return c.RevocationStore.Check(ctx, id, subject)
}

func (c *counting) RevokeSession(ctx context.Context, id string, ttl time.Duration) error {
	c.trips.Add(1)
	return c.RevocationStore.RevokeSession(ctx, id, ttl)
}

func (c *counting) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	c.trips.Add(1)
	return c.RevocationStore.RevokeSubject(ctx, subject, before, ttl)
}

// clock is a fake clock for the Managers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// loggedIn returns a Manager on the store, a handler that reads the
// session's subject, and the Cookie header of a logged-in session.
func loggedIn(b testing.TB, store cookiesession.RevocationStore, bound time.Duration, now func() time.Time) (*cookiesession.Manager, http.Handler, string) {
	key, err := cookiesession.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(key)
	if err != nil {
		b.Fatal(err)
	}
	cfg := cookiesession.Config{Name: "s", Insecure: true, Now: now}
	if store != nil {
		cfg.Revocation = cookiesession.Revocation{Store: store, Bound: bound}
	}
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := m.LoadHeader(context.Background(), "")
	s.SetSubject("user-1042")
	s.Set("csrf", "9f86d081884c7d659a2feaa0c55ad015")
	lines, err := m.SetCookieHeaders(s)
	if err != nil {
		b.Fatal(err)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Subject()
	}))
	return m, h, strings.Split(lines[0], ";")[0]
}

// BenchmarkCheckDue is a request through the middleware whose revocation
// check is due (Bound 0), against a real redis-server on loopback: one
// pipelined round trip, and a new seal of the check's time. "off" is the
// same request with revocation off; "memory" with the in-memory store.
func BenchmarkCheckDue(b *testing.B) {
	srv := redistest.Start(b)
	for _, name := range []string{"off", "memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			var store cookiesession.RevocationStore
			switch name {
			case "memory":
				store = cookiesession.NewMemoryRevocationStore(nil)
			case "redis":
				store = newStore(b, client(b, srv.Addr))
			}
			_, h, cookie := loggedIn(b, store, 0, nil)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", cookie)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if name != "off" && len(rec.Result().Cookies()) != 1 {
					b.Fatal("the check was not sealed")
				}
			}
		})
	}
}

// BenchmarkRoundTrips runs a realistic mix on a fake clock against a real
// redis-server: 200 logged-in users, each with requests a random 1 to 60 s
// apart (30 s on average) for a simulated hour; one request in 200 a
// logout (a mark, then a new login) and one in 2000 a "log out everywhere".
// It reports the store's round trips per request for each bound.
func BenchmarkRoundTrips(b *testing.B) {
	srv := redistest.Start(b)
	for _, bound := range []time.Duration{0, 10 * time.Second, time.Minute, 5 * time.Minute} {
		b.Run("bound="+bound.String(), func(b *testing.B) {
			run := 0
			for b.Loop() {
				// A prefix of its own: every run starts its fake clock at
				// the same time, and must not meet an earlier run's marks.
				run++
				store, err := redisstore.New(client(b, srv.Addr), redisstore.Options{Prefix: fmt.Sprintf("bench:%d:%v:%d:", time.Now().UnixNano(), bound, run)})
				if err != nil {
					b.Fatal(err)
				}
				trips, requests := roundTrips(b, store, bound)
				b.ReportMetric(float64(trips)/float64(requests), "trips/request")
			}
		})
	}
}

func roundTrips(b *testing.B, store cookiesession.RevocationStore, bound time.Duration) (int64, int64) {
	const users, span = 200, time.Hour
	c := &clock{t: time.Unix(1795305600, 0)}
	cs := &counting{RevocationStore: store}
	m, h, _ := loggedIn(b, cs, bound, c.Now)
	rng := rand.New(rand.NewPCG(1, 2))
	type visitor struct {
		cookie string
		next   time.Time
		name   string
	}
	login := func(v *visitor) {
		s, _ := m.LoadHeader(context.Background(), "")
		s.SetSubject(v.name)
		s.Set("csrf", "9f86d081884c7d659a2feaa0c55ad015")
		lines, err := m.SetCookieHeaders(s)
		if err != nil {
			b.Fatal(err)
		}
		v.cookie = strings.Split(lines[0], ";")[0]
	}
	vs := make([]*visitor, users)
	start := c.Now()
	for i := range vs {
		vs[i] = &visitor{name: "user-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), next: start.Add(time.Duration(rng.Int64N(int64(60 * time.Second))))}
		login(vs[i])
	}
	cs.trips.Store(0)
	var requests int64
	for {
		// The visitor due first.
		v := vs[0]
		for _, w := range vs[1:] {
			if w.next.Before(v.next) {
				v = w
			}
		}
		if v.next.Sub(start) > span {
			break
		}
		c.Add(v.next.Sub(c.Now()))
		requests++
		switch r := rng.IntN(2000); {
		case r < 10: // logout, then a new login
			s, _ := m.LoadHeader(context.Background(), v.cookie)
			s.Revoke(context.Background())
			login(v)
		case r == 10: // log out everywhere
			m.RevokeSubject(context.Background(), v.name)
			login(v)
		default:
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", v.cookie)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			for _, ck := range rec.Result().Cookies() {
				if ck.MaxAge < 0 {
					b.Fatalf("a session was refused at %v", c.Now().Sub(start))
				}
				v.cookie = ck.Name + "=" + ck.Value
			}
		}
		v.next = c.Now().Add(time.Second + time.Duration(rng.Int64N(int64(59*time.Second))))
	}
	return cs.trips.Load(), requests
}
