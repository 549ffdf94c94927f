package cookiesession

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// dbscSetup returns a manager with device binding on (device cookie
// lifetime 10 minutes), its clock, the hook's errors, and the test app.
func dbscSetup(t *testing.T) (*Manager, *testClock, *mwHook, http.Handler) {
	t.Helper()
	return dbscSetupWith(t, newTestClock(t0), Config{})
}

// dbscSetupWith is dbscSetup on clock, with the other fields of cfg.
func dbscSetupWith(t *testing.T, clock *testClock, cfg Config) (*Manager, *testClock, *mwHook, http.Handler) {
	t.Helper()
	log := &mwHook{}
	cfg.Now, cfg.ErrorHook, cfg.DeviceBinding = clock.Now, log.record, DeviceBinding{Enabled: true}
	m, err := New(oneKeyring(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, clock, log, dbscApp(m)
}

// has reports whether the hook got an error wrapping target.
func (l *mwHook) has(target error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		if errors.Is(e, target) {
			return true
		}
	}
	return false
}

func whoami(t *testing.T, b *fakeBrowser) string {
	t.Helper()
	_, body := b.do(http.MethodGet, "/whoami")
	return strings.TrimSpace(body)
}

const (
	loggedIn    = "You are logged in as alice."
	notLoggedIn = "You are not logged in."
)

// loginBound logs a DBSC browser in and checks that it registered.
func loginBound(t *testing.T, h http.Handler, clock *testClock) *fakeBrowser {
	t.Helper()
	b := newFakeBrowser(t, h, clock, true)
	b.do(http.MethodPost, "/login")
	if b.registrations != 1 {
		t.Fatalf("registrations = %d, want 1 (last answer %v)", b.registrations, b.lastRegistration)
	}
	return b
}

func TestDeviceRegistration(t *testing.T) {
	m, clock, _, h := dbscSetup(t)
	b := newFakeBrowser(t, h, clock, true)
	resp, _ := b.raw(http.MethodPost, "/login", nil)
	reg := resp.Header.Get("Secure-Session-Registration")
	if !regHeader.MatchString(reg) || !strings.Contains(reg, `path="/dbsc/start"`) {
		t.Fatalf("Secure-Session-Registration = %q", reg)
	}
	b.register(reg)
	if b.registrations != 1 {
		t.Fatal("registration failed")
	}
	ans := b.lastRegistration
	if got := ans.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	if b.refURL != "/dbsc/refresh" || b.cred != "__Host-dbsc" {
		t.Errorf("refresh_url %q, credential %q", b.refURL, b.cred)
	}
	// The answer sets the bound session and the device cookie, whose
	// attributes are those the JSON names.
	var sawSession, sawDevice bool
	for _, l := range ans.Header.Values("Set-Cookie") {
		switch {
		case strings.HasPrefix(l, "__Host-session="):
			sawSession = true
		case strings.HasPrefix(l, "__Host-dbsc="):
			sawDevice = true
			if !strings.Contains(l, "; "+m.dev.attrs+"; Max-Age=600") {
				t.Errorf("device cookie %q lacks attributes %q", l, m.dev.attrs)
			}
		}
	}
	if !sawSession || !sawDevice {
		t.Errorf("Set-Cookie %q", ans.Header.Values("Set-Cookie"))
	}
	if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
		t.Errorf("page says %q", body)
	}
	if got := whoami(t, b); got != loggedIn {
		t.Errorf("whoami %q", got)
	}
	// A browser without DBSC ignores the offer and keeps an unbound session.
	plain := newFakeBrowser(t, h, clock, false)
	plain.do(http.MethodPost, "/login")
	clock.Add(time.Hour)
	if got := whoami(t, plain); got != loggedIn {
		t.Errorf("browser without DBSC: whoami %q", got)
	}
}

func TestDeviceRefreshThroughChallenge(t *testing.T) {
	_, clock, _, h := dbscSetup(t)
	b := loginBound(t, h, clock)
	for range 5 {
		clock.Add(9 * time.Minute) // past the 2-minute refresh margin
		if got := whoami(t, b); got != loggedIn {
			t.Fatalf("after refresh: whoami %q", got)
		}
	}
	if b.refreshes != 5 || b.challenges != 5 {
		t.Errorf("refreshes %d, challenges %d, want 5 each", b.refreshes, b.challenges)
	}
}

// TestDeviceTheft is the attack the feature exists for: every cookie of a
// bound session copied to another machine works until the device cookie
// expires, then gives a fresh session; the refresh endpoint challenges the
// copy, which cannot answer.
func TestDeviceTheft(t *testing.T) {
	m, clock, log, h := dbscSetup(t)
	victim := loginBound(t, h, clock)
	thief := victim.steal()
	if got := whoami(t, thief); got != loggedIn {
		t.Fatalf("copy within the device cookie's life: whoami %q", got)
	}
	// The device cookie expires 600 s after registration, with no clock
	// skew allowance.
	clock.Add(599 * time.Second)
	if got := whoami(t, thief); got != loggedIn {
		t.Fatalf("copy a second before the device cookie expires: whoami %q", got)
	}
	clock.Add(time.Second)
	if got := whoami(t, thief); got != notLoggedIn {
		t.Fatalf("copy after the device cookie expired: whoami %q", got)
	}
	if !log.has(ErrDeviceBinding) {
		t.Error("the hook did not hear of the rejected bound session")
	}
	// The refresh endpoint challenges; a proof from the thief's own key
	// gets another challenge, and no cookie.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if code := thief.refreshWith(other); code != http.StatusForbidden {
		t.Fatalf("thief's refresh: %d, want 403", code)
	}
	if thief.challenges != 1 || thief.refreshes != 0 {
		t.Errorf("thief: %d challenges, %d refreshes", thief.challenges, thief.refreshes)
	}
	if got := whoami(t, thief); got != notLoggedIn {
		t.Fatalf("after the failed refresh: whoami %q", got)
	}
	// The victim goes on, through a refresh.
	if got := whoami(t, victim); got != loggedIn || victim.refreshes != 1 {
		t.Fatalf("victim: whoami %q, %d refreshes", got, victim.refreshes)
	}
	_ = m
}

func TestDeviceReplayedChallenge(t *testing.T) {
	m, clock, _, h := dbscSetup(t)
	b := newFakeBrowser(t, h, clock, true)
	resp, _ := b.raw(http.MethodPost, "/login", nil)
	reg := resp.Header.Get("Secure-Session-Registration")
	c := regHeader.FindStringSubmatch(reg)[2]
	b.register(reg)
	if b.registrations != 1 {
		t.Fatal("registration failed")
	}
	// The same registration, again: the session is bound already.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	resp, _ = b.raw(http.MethodPost, "/dbsc/start", map[string]string{"Secure-Session-Response": signProof(t, key, true, c)})
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("second registration: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	// A registration challenge is no refresh challenge.
	resp, _ = b.raw(http.MethodPost, "/dbsc/refresh", map[string]string{
		"Sec-Secure-Session-Id": b.id, "Secure-Session-Response": signProof(t, b.key, false, c)})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("registration challenge used for a refresh: %d", resp.StatusCode)
	}
	// A refresh challenge, answered once, replayed after its lifetime.
	resp, _ = b.raw(http.MethodPost, "/dbsc/refresh", map[string]string{"Sec-Secure-Session-Id": b.id})
	rc := challengeHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Challenge"))[1]
	proof := signProof(t, b.key, false, rc)
	hdr := map[string]string{"Sec-Secure-Session-Id": b.id, "Secure-Session-Response": proof}
	if resp, _ = b.raw(http.MethodPost, "/dbsc/refresh", hdr); resp.StatusCode != http.StatusOK {
		t.Fatalf("first use: %d", resp.StatusCode)
	}
	clock.Add(time.Duration(m.dev.challengeTTL)*time.Second + DefaultClockSkew)
	if resp, _ = b.raw(http.MethodPost, "/dbsc/refresh", hdr); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("replay after the challenge's lifetime: %d", resp.StatusCode)
	}
}

func TestDeviceChallengeFromAnotherSession(t *testing.T) {
	_, clock, _, h := dbscSetup(t)
	a := loginBound(t, h, clock)
	b := loginBound(t, h, clock)
	// b gets a refresh challenge for its session, and a signs it with its
	// own key for its own session.
	resp, _ := b.raw(http.MethodPost, "/dbsc/refresh", map[string]string{"Sec-Secure-Session-Id": b.id})
	cb := challengeHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Challenge"))[1]
	resp, _ = a.raw(http.MethodPost, "/dbsc/refresh", map[string]string{
		"Sec-Secure-Session-Id": a.id, "Secure-Session-Response": signProof(t, a.key, false, cb)})
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("challenge of another session: %d", resp.StatusCode)
	}
	// A registration challenge of another session does not register.
	c := newFakeBrowser(t, h, clock, true)
	resp, _ = c.raw(http.MethodPost, "/login", nil)
	chal := regHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Registration"))[2]
	d := newFakeBrowser(t, h, clock, true)
	d.raw(http.MethodPost, "/login", nil)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	resp, _ = d.raw(http.MethodPost, "/dbsc/start", map[string]string{"Secure-Session-Response": signProof(t, key, true, chal)})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("registration with another session's challenge: %d", resp.StatusCode)
	}
}

func TestDeviceWrongKey(t *testing.T) {
	_, clock, _, h := dbscSetup(t)
	b := loginBound(t, h, clock)
	clock.Add(9 * time.Minute)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if code := b.refreshWith(other); code != http.StatusForbidden {
		t.Fatalf("refresh signed by another key: %d", code)
	}
	// A jwk on refresh is refused even with the right key.
	resp, _ := b.raw(http.MethodPost, "/dbsc/refresh", map[string]string{"Sec-Secure-Session-Id": b.id})
	rc := challengeHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Challenge"))[1]
	resp, _ = b.raw(http.MethodPost, "/dbsc/refresh", map[string]string{
		"Sec-Secure-Session-Id": b.id, "Secure-Session-Response": signProof(t, b.key, true, rc)})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("refresh proof with a jwk: %d", resp.StatusCode)
	}
}

func TestDeviceExpiredCookie(t *testing.T) {
	_, clock, log, h := dbscSetup(t)
	b := loginBound(t, h, clock)
	clock.Add(11 * time.Minute)
	// Without refreshing: the expired device cookie gives a fresh session,
	// and the bound session's cookie is kept for the refresh to come.
	resp, body := b.raw(http.MethodGet, "/whoami", nil)
	if strings.TrimSpace(body) != notLoggedIn {
		t.Fatalf("expired device cookie: %q", body)
	}
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("rejected bound session deleted its cookies: %q", resp.Header.Values("Set-Cookie"))
	}
	if !log.has(ErrDeviceBinding) {
		t.Error("hook not told")
	}
	if got := whoami(t, b); got != loggedIn || b.refreshes != 1 {
		t.Errorf("after refresh: %q, %d refreshes", got, b.refreshes)
	}
}

func TestDeviceLogout(t *testing.T) {
	_, clock, _, h := dbscSetup(t)
	b := loginBound(t, h, clock)
	thief := b.steal()
	resp, _ := b.do(http.MethodPost, "/logout")
	var deleted bool
	for _, l := range resp.Header.Values("Set-Cookie") {
		deleted = deleted || strings.HasPrefix(l, "__Host-dbsc=;") && strings.Contains(l, "Max-Age=0")
	}
	if !deleted {
		t.Errorf("logout does not delete the device cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	if got := whoami(t, b); got != notLoggedIn {
		t.Fatalf("after logout: %q", got)
	}
	// The browser's DBSC session ends at its next refresh.
	resp, body := b.raw(http.MethodPost, "/dbsc/refresh", map[string]string{"Sec-Secure-Session-Id": b.id})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"continue":false`) {
		t.Errorf("refresh after logout: %d %s", resp.StatusCode, body)
	}
	// A copy taken before logout dies with its device cookie, and cannot
	// refresh with the victim's identifier either.
	clock.Add(11 * time.Minute)
	if got := whoami(t, thief); got != notLoggedIn {
		t.Errorf("copy from before logout: %q", got)
	}
	// Logging in again registers a new binding.
	b.do(http.MethodPost, "/login")
	if b.registrations != 2 || whoami(t, b) != loggedIn {
		t.Errorf("login after logout: %d registrations", b.registrations)
	}
}

func TestDeviceRenewKeepsBinding(t *testing.T) {
	_, clock, _, h := dbscSetup(t)
	b := loginBound(t, h, clock)
	old := b.jar["__Host-dbsc"]
	clock.Add(time.Minute)
	resp, _ := b.raw(http.MethodPost, "/renew", nil)
	newCookie := b.jar["__Host-dbsc"]
	if newCookie.value == old.value || !newCookie.expires.Equal(old.expires) {
		t.Errorf("renewal: device cookie %v -> %v, want a new value with the same expiry (%q)",
			old, newCookie, resp.Header.Values("Set-Cookie"))
	}
	if _, body := b.do(http.MethodGet, "/"); body != "bound=true\n" {
		t.Errorf("after renewal: %q", body)
	}
	clock.Add(9 * time.Minute)
	if got := whoami(t, b); got != loggedIn || b.refreshes != 1 {
		t.Errorf("refresh after renewal: %q, %d refreshes", got, b.refreshes)
	}
	// The renewed session is still bound: a copy dies.
	thief := b.steal()
	clock.Add(11 * time.Minute)
	if got := whoami(t, thief); got != notLoggedIn {
		t.Errorf("copy of the renewed session: %q", got)
	}
}

func TestDeviceBindingConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"insecure", Config{Insecure: true, DeviceBinding: DeviceBinding{Enabled: true}}},
		{"same paths", Config{DeviceBinding: DeviceBinding{Enabled: true, RegistrationPath: "/x", RefreshPath: "/x"}}},
		{"relative path", Config{DeviceBinding: DeviceBinding{Enabled: true, RegistrationPath: "x"}}},
		{"quote in path", Config{DeviceBinding: DeviceBinding{Enabled: true, RefreshPath: `/a"b`}}},
		{"short lifetime", Config{DeviceBinding: DeviceBinding{Enabled: true, CookieLifetime: 9 * time.Second}}},
		{"long lifetime", Config{DeviceBinding: DeviceBinding{Enabled: true, CookieLifetime: 25 * time.Hour}}},
		{"fractional", Config{DeviceBinding: DeviceBinding{Enabled: true, CookieLifetime: 10500 * time.Millisecond}}},
		{"challenge", Config{DeviceBinding: DeviceBinding{Enabled: true, ChallengeLifetime: time.Second}}},
		{"name clash", Config{DeviceBinding: DeviceBinding{Enabled: true, CookieName: "__Host-session.1"}}},
		{"bad name", Config{DeviceBinding: DeviceBinding{Enabled: true, CookieName: "a b"}}},
		{"origin", Config{DeviceBinding: DeviceBinding{Enabled: true, Origin: "http://x"}}},
	} {
		if _, err := New(oneKeyring(t), tc.cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", tc.name, err)
		}
	}
	m, err := New(oneKeyring(t), Config{DeviceBinding: DeviceBinding{Enabled: true, CookieLifetime: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if m.dev.ttl != 10 || m.dev.name != DefaultDeviceCookieName || m.dev.attrs != "Path=/; HttpOnly; Secure; SameSite=Lax" {
		t.Errorf("dev config %+v", *m.dev)
	}
	// Off by default: no route, no header.
	m, _ = New(oneKeyring(t), Config{})
	b := newFakeBrowser(t, dbscApp(m), newTestClock(t0), true)
	resp, _ := b.raw(http.MethodPost, "/login", nil)
	if resp.Header.Get("Secure-Session-Registration") != "" {
		t.Error("offer with device binding off")
	}
	if resp, _ := b.raw(http.MethodPost, "/dbsc/start", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("registration path with binding off: %d", resp.StatusCode)
	}
}

// TestDeviceRefreshPassingFault: a refresh that reaches an instance which
// cannot load the session for a reason that may pass (here, it lacks the
// session's key, as after a key file read mid-write) answers 503, so the
// browser keeps its DBSC session; it is not told that nothing is left to
// refresh. Back on an instance with the key, the refresh works.
func TestDeviceRefreshPassingFault(t *testing.T) {
	_, clock, _, h := dbscSetup(t)
	b := loginBound(t, h, clock)
	kr, err := NewKeyring(testKey(t, 9, 9))
	if err != nil {
		t.Fatal(err)
	}
	lagging, err := New(kr, Config{Now: clock.Now, ErrorHook: func(*http.Request, error) {}, DeviceBinding: DeviceBinding{Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(9 * time.Minute) // a refresh is due
	b.h = dbscApp(lagging)
	if code := b.refresh(); code != http.StatusServiceUnavailable {
		t.Fatalf("refresh on an instance without the key: %d, want 503", code)
	}
	b.h = h
	if got := whoami(t, b); got != loggedIn {
		t.Fatalf("after the fault passed: whoami %q", got)
	}
	if b.refreshes != 1 {
		t.Errorf("%d successful refreshes, want 1", b.refreshes)
	}
}
