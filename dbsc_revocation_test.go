package cookiesession

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Device binding with revocation (SPEC.md §13.6, §15.4, §15.7): a revoked
// bound session, and a bound session whose check cannot reach the store.

// switchStore is a revocation store that fails while down is set.
type switchStore struct {
	RevocationStore
	down atomic.Bool
}

var errSwitchedDown = errors.New("store switched down")

func (s *switchStore) Check(ctx context.Context, id, subject string) (RevocationMarks, error) {
	if s.down.Load() {
		return RevocationMarks{}, errSwitchedDown
	}
	return s.RevocationStore.Check(ctx, id, subject)
}

func (s *switchStore) RevokeSession(ctx context.Context, id string, ttl time.Duration) error {
	if s.down.Load() {
		return errSwitchedDown
	}
	return s.RevocationStore.RevokeSession(ctx, id, ttl)
}

func (s *switchStore) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	if s.down.Load() {
		return errSwitchedDown
	}
	return s.RevocationStore.RevokeSubject(ctx, subject, before, ttl)
}

// dbscRevocationSetup is dbscSetup with Config.Revocation on a memory
// store behind a switchStore, with rv's other fields; the app's login
// records the subject "alice".
func dbscRevocationSetup(t *testing.T, rv Revocation) (*Manager, *testClock, *mwHook, http.Handler, *switchStore) {
	t.Helper()
	clock := newTestClock(t0)
	store := &switchStore{RevocationStore: NewMemoryRevocationStore(clock.Now)}
	rv.Store = store
	m, _, log, h := dbscSetupWith(t, clock, Config{Revocation: rv})
	return m, clock, log, h, store
}

// refreshEnds checks that b's refresh, with b's cookies and DBSC session
// identifier, answers that there is nothing left to refresh
// (continue:false), and sets no cookie.
func refreshEnds(t *testing.T, who string, b *fakeBrowser) {
	t.Helper()
	resp, body := b.raw(http.MethodPost, b.refURL, map[string]string{"Sec-Secure-Session-Id": b.id})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"continue":false`) || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("%s's refresh: %d %q, Set-Cookie %q; want 200 with continue:false, no cookie",
			who, resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
}

// TestDeviceSessionRevoke: Session.Revoke on a bound session (logout)
// refuses a full copy of its cookies once the revocation bound has passed
// since the copy's last check, though its device cookie is still valid,
// and the refresh ends the DBSC session of the browser and of the copy.
func TestDeviceSessionRevoke(t *testing.T) {
	for _, bound := range []time.Duration{0, 2 * time.Minute} {
		t.Run("bound "+bound.String(), func(t *testing.T) {
			_, clock, log, h, _ := dbscRevocationSetup(t, Revocation{Bound: bound})
			b := loginBound(t, h, clock) // checked at login
			clock.Add(30 * time.Second)
			thief := b.steal()
			dev := b.jar["__Host-dbsc"]
			if resp, body := b.do(http.MethodPost, "/revoke"); resp.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %d %s", resp.StatusCode, body)
			}
			if got := whoami(t, b); got != notLoggedIn {
				t.Errorf("browser after Revoke: whoami %q", got)
			}
			if bound > 0 {
				// Within the bound the copy is not checked again: it works.
				clock.Add(bound - 30*time.Second - time.Second)
				if got := whoami(t, thief.steal()); got != loggedIn {
					t.Errorf("copy within the bound: whoami %q", got)
				}
				clock.Add(time.Second)
			}
			if !clock.Now().Before(dev.expires) {
				t.Fatal("the copy's device cookie should still be valid here")
			}
			refreshEnds(t, "copy", thief.steal())
			if got := whoami(t, thief); got != notLoggedIn {
				t.Errorf("copy once the bound has passed: whoami %q", got)
			}
			if !log.has(ErrRevoked) {
				t.Error("the hook did not hear of the revoked copy")
			}
			refreshEnds(t, "browser", b)
		})
	}
}

// TestDeviceRevokeSubject: Manager.RevokeSubject (log out everywhere) ends
// every bound session of the subject, and a full copy of one, within the
// bound; their refreshes end their DBSC sessions. A login afterwards binds
// and works.
func TestDeviceRevokeSubject(t *testing.T) {
	const bound = time.Minute
	m, clock, log, h, _ := dbscRevocationSetup(t, Revocation{Bound: bound})
	laptop := loginBound(t, h, clock)
	phone := loginBound(t, h, clock)
	thief := laptop.steal()
	clock.Add(10 * time.Second)
	if err := m.RevokeSubject(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	clock.Add(bound)
	for _, c := range []struct {
		who string
		b   *fakeBrowser
	}{{"laptop", laptop}, {"phone", phone}, {"copy", thief}} {
		refreshEnds(t, c.who, c.b.steal())
		if got := whoami(t, c.b); got != notLoggedIn {
			t.Errorf("%s after RevokeSubject: whoami %q", c.who, got)
		}
	}
	if !log.has(ErrRevoked) {
		t.Error("the hook did not hear of the revoked sessions")
	}
	again := loginBound(t, h, clock)
	clock.Add(11 * time.Minute)
	if got := whoami(t, again); got != loggedIn || again.refreshes != 1 {
		t.Errorf("login after RevokeSubject: whoami %q, %d refreshes", got, again.refreshes)
	}
}

// TestDeviceRevocationStoreDown: with the store down and failing closed
// (the default), a bound session whose check is due gets 503 from the
// refresh, not the end of its DBSC session, and a fresh session on a
// page, with its cookies kept; once the store is back, the browser
// refreshes and is logged in again. Failing open, it refreshes at once.
func TestDeviceRevocationStoreDown(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		name := "fail closed"
		if failOpen {
			name = "fail open"
		}
		t.Run(name, func(t *testing.T) {
			_, clock, log, h, store := dbscRevocationSetup(t, Revocation{Bound: time.Minute, FailOpen: failOpen})
			b := loginBound(t, h, clock)
			clock.Add(11 * time.Minute) // device cookie expired, check due
			session := b.jar["__Host-session"]
			store.down.Store(true)
			code := b.refresh()
			if failOpen {
				if code != http.StatusOK || b.refreshes != 1 {
					t.Fatalf("refresh failing open: %d, %d refreshes", code, b.refreshes)
				}
				if got := whoami(t, b); got != loggedIn {
					t.Errorf("failing open: whoami %q", got)
				}
				return
			}
			if code != http.StatusServiceUnavailable {
				t.Fatalf("refresh with the store down: %d, want 503", code)
			}
			if !log.has(ErrRevocationUnavailable) {
				t.Error("the hook did not hear of the store")
			}
			resp, body := b.raw(http.MethodGet, "/whoami", nil)
			if strings.TrimSpace(body) != notLoggedIn || len(resp.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("page with the store down: %q, Set-Cookie %q", body, resp.Header.Values("Set-Cookie"))
			}
			if b.jar["__Host-session"] != session || b.id == "" {
				t.Fatal("the session cookie was not kept")
			}
			store.down.Store(false)
			if got := whoami(t, b); got != loggedIn || b.refreshes != 1 {
				t.Errorf("store back: whoami %q, %d refreshes", got, b.refreshes)
			}
			if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
				t.Errorf("store back: page says %q", body)
			}
		})
	}
}

// TestDeviceRevocation: a session that Config.Validate rejects (a revoked
// ID) is not refreshed: the refresh ends the browser's DBSC session.
func TestDeviceRevocation(t *testing.T) {
	clock := newTestClock(t0)
	var mu sync.Mutex
	revoked := map[string]bool{}
	m, err := New(oneKeyring(t), Config{
		Now:           clock.Now,
		ErrorHook:     (&mwHook{}).record,
		DeviceBinding: DeviceBinding{Enabled: true},
		Validate: func(_ context.Context, s *Session) error {
			mu.Lock()
			defer mu.Unlock()
			if revoked[s.ID()] {
				return errors.New("revoked")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := dbscApp(m)
	b := loginBound(t, h, clock)
	s, err := m.LoadHeader(t.Context(), b.cookieHeader())
	if err != nil || !s.DeviceBound() {
		t.Fatalf("Load of the bound session: %v, bound %v", err, s.DeviceBound())
	}
	// Load, like the middleware, refuses a bound session without its
	// device cookie.
	copied := b.steal()
	copied.jar["__Host-dbsc"] = jarCookie{value: "x"}
	if s, err := m.LoadHeader(t.Context(), copied.cookieHeader()); !errors.Is(err, ErrDeviceBinding) || !s.IsNew() {
		t.Errorf("Load without a device cookie: %v", err)
	}
	mu.Lock()
	revoked[s.ID()] = true
	mu.Unlock()
	if got := whoami(t, b); got != notLoggedIn {
		t.Errorf("revoked: %q", got)
	}
	resp, body := b.raw(http.MethodPost, "/dbsc/refresh", map[string]string{"Sec-Secure-Session-Id": b.id})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"continue":false`) {
		t.Errorf("refresh of a revoked session: %d %s", resp.StatusCode, body)
	}
}

// renewOnceBound is the recipe of SPEC.md §15.7 that closes the window of
// the cookies from before registration, with revocation on: on the first
// request on which the session is bound, renew its ID (the save revokes the
// old one) and remember that in the session.
func renewOnceBound(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if s.DeviceBound() && !s.Has("bound-renewed") {
			s.Renew()
			s.Set("bound-renewed", true)
		}
		next.ServeHTTP(w, r)
	})
}

// TestDeviceRenewOnceBound: with the recipe, a copy of the session cookie
// taken at login opens, unbound, until the browser's next request after
// the race, 3 hours later here, and is refused within the revocation bound
// of it, whichever answer of the race landed last. Without the recipe it
// would open until the session's end (TestDeviceConcurrentSave).
func TestDeviceRenewOnceBound(t *testing.T) {
	const bound = time.Minute
	for _, pageLast := range []bool{false, true} {
		name := "registration last"
		if pageLast {
			name = "page last"
		}
		t.Run(name, func(t *testing.T) {
			m, clock, _, _, _ := dbscRevocationSetup(t, Revocation{Bound: bound})
			b, reg, page := loginRace(t, m.Middleware(renewOnceBound(dbscMux(m))), clock)
			early := b.stealSession() // the login's cookies
			if pageLast {
				b.store(reg)
				b.store(page)
			} else {
				b.store(page)
				b.store(reg)
			}
			clock.Add(3 * time.Hour)
			if got := whoami(t, early); got != loggedIn {
				t.Fatalf("copy before the browser's next request: whoami %q", got)
			}
			if got := whoami(t, b); got != loggedIn || b.refreshes != 1 {
				t.Fatalf("browser: whoami %q, %d refreshes", got, b.refreshes)
			}
			if sessionID(t, m, b) == sessionID(t, m, early) {
				t.Fatal("the session was not renewed")
			}
			clock.Add(bound)
			if got := whoami(t, early); got != notLoggedIn {
				t.Errorf("copy from before registration, the bound after the renewal: whoami %q", got)
			}
			if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
				t.Errorf("browser after the renewal: page says %q", body)
			}
			if got := whoami(t, b.stealSession()); got != notLoggedIn {
				t.Errorf("copy of the renewed session cookie: whoami %q", got)
			}
			clock.Add(11 * time.Minute)
			if got := whoami(t, b); got != loggedIn || b.refreshes != 2 {
				t.Errorf("refresh after the renewal: whoami %q, %d refreshes", got, b.refreshes)
			}
		})
	}
}

// sessionID is the ID of the session b's cookies hold.
func sessionID(t *testing.T, m *Manager, b *fakeBrowser) string {
	t.Helper()
	s, err := m.LoadHeader(t.Context(), b.cookieHeader())
	if err != nil || s.IsNew() {
		t.Fatalf("load: %v", err)
	}
	return s.ID()
}

// TestDeviceRegistrationStoreDown: a registration that arrives while the
// revocation store is down (failing closed, with Bound 0 every request
// checks) is a passing fault: it answers 503, as a refresh does, not the
// 403 of a registration without a session, and the same challenge
// registers once the store is back.
func TestDeviceRegistrationStoreDown(t *testing.T) {
	_, clock, log, h, store := dbscRevocationSetup(t, Revocation{})
	b := newFakeBrowser(t, h, clock, true)
	resp, _ := b.raw(http.MethodPost, "/login", nil)
	reg := resp.Header.Get("Secure-Session-Registration")
	session := b.jar["__Host-session"]
	store.down.Store(true)
	b.register(reg)
	if got := b.lastRegistration.StatusCode; got != http.StatusServiceUnavailable || b.registrations != 0 {
		t.Fatalf("registration with the store down: %d, %d registrations; want 503, 0", got, b.registrations)
	}
	if !log.has(ErrRevocationUnavailable) {
		t.Error("the hook did not hear of the store")
	}
	if b.jar["__Host-session"] != session {
		t.Fatal("the session cookie was not kept")
	}
	store.down.Store(false)
	clock.Add(time.Second)
	b.register(reg)
	if b.registrations != 1 {
		t.Fatalf("registration once the store is back: %d", b.lastRegistration.StatusCode)
	}
	if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
		t.Errorf("after the registration the page says %q", body)
	}
}
