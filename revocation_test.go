package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// rvEnv is a Manager with revocation, on a fake clock, serving rvApp.
type rvEnv struct {
	clock *testClock
	store *countingStore
	m     *Manager
	h     http.Handler
	mu    sync.Mutex
	errs  []error // what the error hook heard
}

// countingStore counts the calls to Check, and fails while down is set;
// it records the TTL of every mark on a session ID.
type countingStore struct {
	RevocationStore
	checks atomic.Int64
	down   atomic.Bool
	mu     sync.Mutex
	ttls   []time.Duration
}

var errStoreDown = errors.New("store down")

func (c *countingStore) Check(ctx context.Context, id, subject string) (RevocationMarks, error) {
	c.checks.Add(1)
	if c.down.Load() {
		return RevocationMarks{}, errStoreDown
	}
	return c.RevocationStore.Check(ctx, id, subject)
}

func (c *countingStore) RevokeSession(ctx context.Context, id string, ttl time.Duration) error {
	c.mu.Lock()
	c.ttls = append(c.ttls, ttl)
	c.mu.Unlock()
	return c.RevocationStore.RevokeSession(ctx, id, ttl)
}

// sessionTTLs returns the TTLs of the marks on session IDs so far.
func (c *countingStore) sessionTTLs() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ttls)
}

func (c *countingStore) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	if c.down.Load() {
		return errStoreDown
	}
	return c.RevocationStore.RevokeSubject(ctx, subject, before, ttl)
}

func newRVEnv(t *testing.T, rv Revocation) *rvEnv {
	t.Helper()
	e := &rvEnv{clock: newTestClock(t0)}
	e.store = &countingStore{RevocationStore: NewMemoryRevocationStore(e.clock.Now)}
	rv.Store = e.store
	m, err := New(oneKeyring(t), Config{Name: "s", Insecure: true, Now: e.clock.Now, Revocation: rv,
		ErrorHook: func(_ *http.Request, err error) {
			e.mu.Lock()
			e.errs = append(e.errs, err)
			e.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	e.h = m.Middleware(http.HandlerFunc(e.app))
	return e
}

// app: /login?user=U logs in (a new ID, subject U, a counter at 0); /visit
// counts, and answers "subject n"; /extend ends the session 30 days from
// now, and answers its subject; /logout revokes this session;
// /everywhere logs the subject out everywhere; /rotate renews the ID and
// revokes the old one; /renew only renews the ID.
func (e *rvEnv) app(w http.ResponseWriter, r *http.Request) {
	s := FromContext(r.Context())
	switch r.URL.Path {
	case "/login":
		s.Renew()
		if err := s.SetSubject(r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.Set("n", 0)
	case "/visit":
		n := GetOr(s, "n", 0) + 1
		s.Set("n", n)
		fmt.Fprintf(w, "%s %d", s.Subject(), n)
	case "/logout":
		if err := s.Revoke(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	case "/everywhere":
		if err := e.m.RevokeSubject(r.Context(), s.Subject()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		s.Destroy()
	case "/extend":
		s.SetExpiry(Expiry{Lifetime: 30 * 24 * time.Hour})
		fmt.Fprint(w, s.Subject())
	case "/renew":
		s.Renew()
	case "/rotate":
		old := s.ID()
		s.Renew()
		if err := e.store.RevokeSession(r.Context(), old, time.Hour); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}
}

// heard returns what the hook heard since the last call, and forgets it.
func (e *rvEnv) heard() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	errs := e.errs
	e.errs = nil
	return errs
}

// browser is one cookie jar.
type browser struct{ jar map[string]string }

func newBrowser() *browser { return &browser{jar: map[string]string{}} }

// steal returns a copy of b's cookies, as a thief would take them.
func (b *browser) steal() *browser { return &browser{jar: maps.Clone(b.jar)} }

// do sends a request to path and applies the response's cookies; it
// returns the body and the number of Set-Cookie lines.
func (e *rvEnv) do(t *testing.T, b *browser, path string) (string, int) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://x"+path, nil)
	var pairs []string
	for k, v := range b.jar {
		pairs = append(pairs, k+"="+v)
	}
	if len(pairs) > 0 {
		req.Header.Set("Cookie", strings.Join(pairs, "; "))
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	res := rec.Result()
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, res.StatusCode, rec.Body)
	}
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c.Value
		}
	}
	return rec.Body.String(), len(res.Cookies())
}

// at sets the clock to t0 plus d.
func (e *rvEnv) at(d time.Duration) { e.clock.Set(time.Unix(t0, 0).Add(d)) }

func errorsAre(errs []error, target error) bool {
	for _, err := range errs {
		if !errors.Is(err, target) {
			return false
		}
	}
	return len(errs) > 0
}

// TestRevokeWithinBound: a stolen copy of a session is accepted until the
// logout, never refused before it, and refused from at most Bound after it
// on; the logout's own browser is logged out at once.
func TestRevokeWithinBound(t *testing.T) {
	const bound = 30 * time.Second
	for _, logoutAt := range []time.Duration{45 * time.Second, 61 * time.Second, 89 * time.Second} {
		t.Run(fmt.Sprint(logoutAt), func(t *testing.T) {
			e := newRVEnv(t, Revocation{Bound: bound})
			user := newBrowser()
			e.do(t, user, "/login?user=alice")
			thief := user.steal()
			// Before the logout the copy works every second, and is
			// checked at most once per bound.
			for d := time.Second; d < logoutAt; d += time.Second {
				e.at(d)
				if body, _ := e.do(t, thief, "/visit"); !strings.HasPrefix(body, "alice ") {
					t.Fatalf("at %v, before the logout: %q", d, body)
				}
			}
			if n := e.store.checks.Load(); n > int64(logoutAt/bound)+1 {
				t.Errorf("%d checks in %v with a bound of %v", n, logoutAt, bound)
			}
			if errs := e.heard(); len(errs) > 0 {
				t.Fatalf("before the logout, the hook heard %v", errs)
			}
			e.at(logoutAt)
			e.do(t, user, "/logout")
			if body, _ := e.do(t, user, "/visit"); body != " 1" {
				t.Fatalf("the user's browser after logout: %q", body)
			}
			// After it, the copy is refused from logoutAt+bound on at the
			// latest, and then for good.
			var lastOK time.Duration = -1
			for d := logoutAt; d <= logoutAt+2*bound; d += 500 * time.Millisecond {
				e.at(d)
				body, _ := e.do(t, thief, "/visit")
				if strings.HasPrefix(body, "alice ") {
					if lastOK < d-500*time.Millisecond && lastOK >= 0 {
						t.Fatalf("copy accepted again at %v after a refusal", d)
					}
					lastOK = d
				}
			}
			if lastOK >= logoutAt+bound {
				t.Fatalf("copy accepted %v after the logout, bound %v", lastOK-logoutAt, bound)
			}
			if !errorsAre(e.heard(), ErrRevoked) {
				t.Fatal("the hook did not hear ErrRevoked alone")
			}
		})
	}
}

// TestRevokeSubjectSameSecond: log out everywhere refuses a session that
// logged in 0.4 s before it and spares one that logged in 0.4 s after, in
// the same second, and the sessions of other subjects.
func TestRevokeSubjectSameSecond(t *testing.T) {
	e := newRVEnv(t, Revocation{}) // Bound 0: every request is checked
	before, other, admin := newBrowser(), newBrowser(), newBrowser()
	e.at(100 * time.Millisecond)
	e.do(t, before, "/login?user=bob")
	e.do(t, other, "/login?user=carol")
	e.do(t, admin, "/login?user=bob")
	e.at(500 * time.Millisecond)
	e.do(t, admin, "/everywhere")
	e.at(900 * time.Millisecond)
	after := newBrowser()
	e.do(t, after, "/login?user=bob")
	got := map[string]string{}
	for name, b := range map[string]*browser{"before": before, "other": other, "admin": admin, "after": after} {
		got[name], _ = e.do(t, b, "/visit")
	}
	want := map[string]string{"before": " 1", "other": "carol 1", "admin": " 1", "after": "bob 1"}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	// The next login works at once, and keeps working.
	e.at(3 * time.Second)
	if body, _ := e.do(t, after, "/visit"); body != "bob 2" {
		t.Fatalf("the login after the revoke, later: %q", body)
	}
}

// TestRenewedIDNotCaughtByOldMark: a session that renews its ID and revokes
// the old one keeps working; a copy under the old ID is refused.
func TestRenewedIDNotCaughtByOldMark(t *testing.T) {
	e := newRVEnv(t, Revocation{})
	user := newBrowser()
	e.do(t, user, "/login?user=dan")
	old := user.steal()
	e.at(time.Second)
	e.do(t, user, "/rotate")
	for _, d := range []time.Duration{2 * time.Second, time.Hour} {
		e.at(d)
		if body, _ := e.do(t, user, "/visit"); !strings.HasPrefix(body, "dan ") {
			t.Fatalf("renewed session at %v: %q", d, body)
		}
	}
	if body, _ := e.do(t, old, "/visit"); body != " 1" {
		t.Fatalf("copy under the old ID: %q", body)
	}
}

// TestRenewThenLogout: a cookie stolen before a Renew (a privilege change)
// must not outlive the logout that follows, which marks the new ID: the
// save after Renew revoked the old one. The renewed session itself goes
// on until the logout.
func TestRenewThenLogout(t *testing.T) {
	e := newRVEnv(t, Revocation{})
	user := newBrowser()
	e.do(t, user, "/login?user=fay")
	stolen := user.steal()
	e.at(time.Second)
	e.do(t, user, "/renew")
	if body, _ := e.do(t, user, "/visit"); body != "fay 1" {
		t.Fatalf("renewed session: %q", body)
	}
	e.do(t, user, "/logout")
	e.at(2 * time.Second)
	if body, _ := e.do(t, stolen, "/visit"); body != " 1" {
		t.Fatalf("the copy stolen before Renew, after logout: %q, want a fresh session", body)
	}
	if errs := e.heard(); len(errs) == 0 || !errors.Is(errs[len(errs)-1], ErrRevoked) {
		t.Fatalf("hook heard %v, want ErrRevoked last", errs)
	}
}

// TestRevocationNoCheckDue: within the bound a request makes no round trip
// and writes no cookie; the check that falls due is sealed, once.
func TestRevocationNoCheckDue(t *testing.T) {
	e := newRVEnv(t, Revocation{Bound: time.Minute})
	b := newBrowser()
	e.do(t, b, "/login?user=erin")
	read := func(d time.Duration) (int64, int) {
		e.at(d)
		before := e.store.checks.Load()
		req := httptest.NewRequest(http.MethodGet, "http://x/", nil)
		for k, v := range b.jar {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		rec := httptest.NewRecorder()
		e.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			FromContext(r.Context()).Subject()
		})).ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			b.jar[c.Name] = c.Value
		}
		return e.store.checks.Load() - before, len(rec.Result().Cookies())
	}
	type step struct {
		Checks  int64
		Cookies int
	}
	var got []step
	for _, d := range []time.Duration{10 * time.Second, 59 * time.Second, 60 * time.Second, 61 * time.Second, 119 * time.Second, 120 * time.Second} {
		c, n := read(d)
		got = append(got, step{c, n})
	}
	want := []step{{0, 0}, {0, 0}, {1, 1}, {0, 0}, {0, 0}, {1, 1}}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// TestRevocationReplayCost: once a cookie's check is due, a browser that
// keeps the re-sealed cookie makes one round trip per bound, and a client
// that replays the same cookie one per request, never more.
func TestRevocationReplayCost(t *testing.T) {
	e := newRVEnv(t, Revocation{Bound: time.Minute})
	user := newBrowser()
	e.do(t, user, "/login?user=lee")
	fixed := user.steal()
	e.at(2 * time.Minute) // the check is due
	got := map[string]int64{}
	for name, next := range map[string]func() *browser{
		"browser": func() *browser { return user },
		"replay":  func() *browser { return fixed.steal() },
	} {
		before := e.store.checks.Load()
		for range 10 {
			if body, _ := e.do(t, next(), "/visit"); !strings.HasPrefix(body, "lee ") {
				t.Fatalf("%s: %q", name, body)
			}
		}
		got[name] = e.store.checks.Load() - before
	}
	if diff := gocmp.Diff(map[string]int64{"browser": 1, "replay": 10}, got); diff != "" {
		t.Fatalf("checks in 10 requests (-want +got):\n%s", diff)
	}
}

// TestRevocationConfig: settings out of range, or without a store.
func TestRevocationConfig(t *testing.T) {
	store := NewMemoryRevocationStore(nil)
	for _, rv := range []Revocation{
		{Bound: time.Second},
		{FailOpen: true},
		{Timeout: time.Second},
		{Store: store, Bound: -1},
		{Store: store, Bound: 401 * 24 * time.Hour},
		{Store: store, Timeout: -1},
		{LoginLifetime: time.Hour},
		{Store: store, LoginLifetime: -time.Second},
		{Store: store, LoginLifetime: 1500 * time.Millisecond},
		{Store: store, LoginLifetime: 401 * 24 * time.Hour},
	} {
		if _, err := New(oneKeyring(t), Config{Revocation: rv}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", rv, err)
		}
	}
	m, err := New(oneKeyring(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeSubject(t.Context(), "x"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("RevokeSubject without a store: %v", err)
	}
	s, _ := m.LoadHeader(t.Context(), "")
	s.Set("a", 1)
	if err := s.Revoke(t.Context()); !errors.Is(err, ErrInvalidConfig) || s.Len() != 0 {
		t.Errorf("Revoke without a store: %v, %d values left", err, s.Len())
	}
}
