package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// tossBrowser is a browser that holds the cookiesession cookies its
// responses set, and a legacy cookie "old2" that a sibling subdomain set
// with Domain=.example.com: the host-only deletion that Migration.Cookies
// describes does not match it, so the browser sends it on every request.
type tossBrowser struct {
	t       *testing.T
	m       *Manager
	h       http.Handler
	cookies map[string]string // the cookiesession cookies
	tossed  string
}

// legacyUser is a Migration.Load for "old2=user-NAME": it logs in NAME.
func legacyUser(calls *int) func(*http.Request, *Session) error {
	return func(r *http.Request, s *Session) error {
		*calls++
		c, err := r.Cookie("old2")
		if err != nil {
			return nil
		}
		name, ok := strings.CutPrefix(c.Value, "user-")
		if !ok {
			return errors.New("legacy cookie does not verify")
		}
		return s.Set("user", name)
	}
}

// whoApp logs in (POST /login?u=NAME), logs out (POST /logout, with
// Destroy) and says who is logged in (GET /).
func whoApp(w http.ResponseWriter, r *http.Request) {
	s := FromContext(r.Context())
	switch r.URL.Path {
	case "/login":
		s.Renew()
		s.Set("user", r.URL.Query().Get("u"))
	case "/logout":
		s.Destroy()
	}
	u, _, _ := Get[string](s, "user")
	fmt.Fprintf(w, "user=%q", u)
}

func newTossBrowser(t *testing.T, cfg Config) *tossBrowser {
	t.Helper()
	cfg.Name = "cs"
	if cfg.Now == nil {
		cfg.Now = newTestClock(t0).Now
	}
	if cfg.Migration.Cookies == nil {
		cfg.Migration.Cookies = []LegacyCookie{{Name: "old2"}}
	}
	m, err := New(oneKeyring(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &tossBrowser{t: t, m: m, h: m.Middleware(http.HandlerFunc(whoApp)), cookies: map[string]string{}}
}

// do sends a request and applies the response's Set-Cookie lines: the
// cookiesession ones by name; the legacy deletion does not reach the
// tossed cookie.
func (b *tossBrowser) do(method, path string) string {
	b.t.Helper()
	pairs := []string{}
	for k, v := range b.cookies {
		pairs = append(pairs, k+"="+v)
	}
	if b.tossed != "" {
		pairs = append(pairs, "old2="+b.tossed)
	}
	req := httptest.NewRequest(method, "https://www.example.com"+path, nil)
	req.Header.Set("Cookie", strings.Join(pairs, "; "))
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	for _, l := range rec.Result().Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(l)
		if err != nil {
			b.t.Fatal(err)
		}
		if strings.HasPrefix(c.Name, "cs") {
			if c.MaxAge < 0 {
				delete(b.cookies, c.Name)
			} else {
				b.cookies[c.Name] = c.Value
			}
		}
	}
	return rec.Body.String()
}

// TestMigrationTossedAfterDestroy is the attack: an attacker
// tosses their own valid legacy cookie at a victim from a sibling domain.
// The victim logs in, and out; the next request must not bring back the
// attacker's session. A browser is migrated at most once.
func TestMigrationTossedAfterDestroy(t *testing.T) {
	calls := 0
	b := newTossBrowser(t, Config{Migration: Migration{Load: legacyUser(&calls)}})
	b.tossed = "user-mallory"
	if got := b.do("POST", "/login?u=alice"); got != `user="alice"` {
		t.Fatalf("login: %s", got)
	}
	if got := b.do("GET", "/"); got != `user="alice"` {
		t.Fatalf("after login: %s", got)
	}
	if got := b.do("POST", "/logout"); got != `user=""` {
		t.Fatalf("logout: %s", got)
	}
	if _, ok := b.cookies["cs"]; !ok {
		t.Fatal("after logout the browser holds no cookiesession cookie")
	}
	for i := range 3 {
		if got := b.do("GET", "/"); got != `user=""` {
			t.Fatalf("request %d after logout: %s, want nobody logged in", i+1, got)
		}
	}
	if calls != 1 {
		t.Fatalf("Migration.Load called %d times, want once", calls)
	}
}

// TestMigrationNotAfterFailure: a request that carries a cookiesession
// cookie is never migrated, whatever made that cookie fail: Validate
// rejected it, it expired, it was altered, or its key is unknown here.
func TestMigrationNotAfterFailure(t *testing.T) {
	clock := newTestClock(t0)
	calls := 0
	cfg := Config{Now: clock.Now, Migration: Migration{Load: legacyUser(&calls)},
		Validate: func(_ context.Context, s *Session) error {
			if u, _, _ := Get[string](s, "user"); u == "revoked" {
				return errors.New("revoked")
			}
			return nil
		}}
	b := newTossBrowser(t, cfg)
	b.do("POST", "/login?u=revoked")
	calls = 0
	b.tossed = "user-mallory"
	if got := b.do("GET", "/"); got != `user=""` {
		t.Fatalf("rejected by Validate: %s, want nobody (not migrated)", got)
	}
	// The response sealed an empty session in place of the rejected one:
	// still not migrated.
	if got := b.do("GET", "/"); got != `user=""` {
		t.Fatalf("the request after: %s, want nobody", got)
	}

	// Altered and expired cookies: not migrated either.
	for name, header := range map[string]string{
		"altered": "cs=AgAAAAABgarbage",
		"expired": "",
	} {
		b := newTossBrowser(t, Config{Now: clock.Now, Migration: Migration{Load: legacyUser(&calls)}})
		if header == "" {
			b.do("POST", "/login?u=alice")
			clock.Add(15 * 24 * time.Hour)
		} else {
			b.cookies["cs"] = strings.TrimPrefix(header, "cs=")
		}
		b.tossed = "user-mallory"
		if got := b.do("GET", "/"); got != `user=""` {
			t.Errorf("%s: %s, want nobody", name, got)
		}
	}

	// A key this instance does not hold: not migrated, and the cookie is
	// not replaced (it may open on an instance that holds the key).
	kr, err := NewKeyring(testKey(t, 9, 9))
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(kr, Config{Name: "cs", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	sess := stLoad(t, other, "")
	sess.Set("user", "alice")
	b = newTossBrowser(t, Config{Now: clock.Now, Migration: Migration{Load: legacyUser(&calls)}})
	header := hdCookieHeader(t, stSave(t, other, sess)) + "; old2=user-mallory"
	s, err := b.m.LoadHeader(context.Background(), header)
	if !errors.Is(err, ErrUnknownKey) || s.Has("user") {
		t.Fatalf("unknown key: error %v, user %t; want ErrUnknownKey and no migration", err, s.Has("user"))
	}
	lines, _ := b.m.SetCookieHeaders(s)
	for _, l := range lines {
		if strings.HasPrefix(l, "cs=") && !strings.Contains(l, "Max-Age=0") {
			t.Fatalf("unknown key: a session was written in the cookie's place: %q", l)
		}
	}
}

// TestMigrationKeepsLegacyExpiry: a migrated session ends when the legacy
// one would have, capped by Config.Lifetime, and Config.IdleTimeout still
// applies to it.
func TestMigrationKeepsLegacyExpiry(t *testing.T) {
	clock := newTestClock(t0)
	now := time.Unix(t0, 0)
	for _, tt := range []struct {
		name   string
		legacy time.Time // the legacy session's end, as Load sets it
		cfg    Config
		want   time.Time // the migrated session's sealed expiry
	}{
		{"a minute left", now.Add(time.Minute), Config{}, now.Add(time.Minute)},
		{"a year left, capped by Lifetime", now.Add(365 * 24 * time.Hour), Config{}, now.Add(DefaultLifetime)},
		{"a day left, IdleTimeout 15m", now.Add(24 * time.Hour), Config{IdleTimeout: 15 * time.Minute}, now.Add(15 * time.Minute)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Name, cfg.Now = "cs", clock.Now
			cfg.Migration = Migration{Cookies: []LegacyCookie{{Name: "old2"}}, Load: func(_ *http.Request, s *Session) error {
				s.Set("user", "alice")
				return s.SetExpiry(Expiry{Deadline: tt.legacy})
			}}
			m, err := New(oneKeyring(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := m.LoadHeader(context.Background(), "old2=x")
			if err != nil || !s.Has("user") {
				t.Fatalf("migration: %v", err)
			}
			if got := s.Expiry(); !got.Equal(tt.want) {
				t.Fatalf("Expiry %v, want %v", got, tt.want)
			}
			back := stLoad(t, m, hdCookieHeader(t, stSave(t, m, s)))
			if got := back.Info().ExpiresAt; !got.Equal(tt.want) {
				t.Fatalf("sealed expiry %v, want %v", got, tt.want)
			}
		})
	}
}
