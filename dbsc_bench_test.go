package cookiesession

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchDevice sets up the test app with device binding on, a bound
// browser and an unbound one (no DBSC), both logged in.
func benchDevice(b *testing.B) (m *Manager, h http.Handler, bound, unbound *fakeBrowser) {
	t := &testing.T{}
	m, clock, _, h := dbscSetup(t)
	bound = newFakeBrowser(t, h, clock, true)
	bound.do(http.MethodPost, "/login")
	unbound = newFakeBrowser(t, h, clock, false)
	unbound.do(http.MethodPost, "/login")
	if bound.registrations != 1 || t.Failed() {
		b.Fatal("setup failed")
	}
	return m, h, bound, unbound
}

// BenchmarkDeviceMiddleware is one GET /whoami through the middleware,
// which opens the session and, for a bound one, its device cookie. No
// refresh is due. "off" has device binding turned off altogether;
// "bound-uncached" opens the device cookie every time, as the first
// request after each refresh does on each instance (dbsc_cache.go).
func BenchmarkDeviceMiddleware(b *testing.B) {
	m, h, bound, unbound := benchDevice(b)
	devText := bound.jar["__Host-dbsc"].value
	clock := newTestClock(t0)
	off, err := New(oneKeyring(b), Config{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	offBrowser := newFakeBrowser(&testing.T{}, dbscApp(off), clock, false)
	offBrowser.do(http.MethodPost, "/login")
	for _, tc := range []struct {
		name string
		h    http.Handler
		b    *fakeBrowser
	}{
		{"off", dbscApp(off), offBrowser},
		{"unbound", h, unbound},
		{"bound", h, bound},
		{"bound-uncached", h, bound},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cookie := tc.b.cookieHeader()
			r := httptest.NewRequest(http.MethodGet, "https://localhost:8787/whoami", nil)
			r.Header.Set("Cookie", cookie)
			b.ReportAllocs()
			for b.Loop() {
				if tc.name == "bound-uncached" {
					m.devCache.slot(devText).Store(nil)
				}
				w := httptest.NewRecorder()
				tc.h.ServeHTTP(w, r)
				if !strings.HasPrefix(w.Body.String(), "You are logged in") {
					b.Fatal(w.Body.String())
				}
			}
			b.ReportMetric(float64(len(cookie)), "cookie-bytes")
		})
	}
}

// BenchmarkDeviceRegistration is the server's side of one registration:
// verify the proof (ES256), bind and seal the session, seal the device
// cookie and the session identifier, write the JSON. The same proof is
// replayed, which a stateless server accepts within the challenge's
// lifetime on a session that is not bound yet (SPEC.md §15.7).
func BenchmarkDeviceRegistration(b *testing.B) {
	t := &testing.T{}
	_, clock, _, h := dbscSetup(t)
	br := newFakeBrowser(t, h, clock, true)
	resp, _ := br.raw(http.MethodPost, "/login", nil)
	c := regHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Registration"))[2]
	key := proofKey(b)
	r := httptest.NewRequest(http.MethodPost, "https://localhost:8787/dbsc/start", nil)
	r.Header.Set("Cookie", br.cookieHeader())
	r.Header.Set("Secure-Session-Response", signProof(b, key, true, c))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkDeviceRefresh is the server's side of one refresh: "challenge"
// is the first POST, answered 403 with a sealed challenge; "proof" the
// retry, which verifies the proof and seals a new device cookie.
func BenchmarkDeviceRefresh(b *testing.B) {
	_, h, br, _ := benchDevice(b)
	challenge := httptest.NewRequest(http.MethodPost, "https://localhost:8787/dbsc/refresh", nil)
	challenge.Header.Set("Cookie", br.cookieHeader())
	challenge.Header.Set("Sec-Secure-Session-Id", br.id)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, challenge)
	c := challengeHeader.FindStringSubmatch(w.Header().Get("Secure-Session-Challenge"))[1]
	proof := challenge.Clone(challenge.Context())
	proof.Header.Set("Secure-Session-Response", signProof(b, br.key, false, c))
	for _, tc := range []struct {
		name   string
		r      *http.Request
		status int
	}{
		{"challenge", challenge, http.StatusForbidden},
		{"proof", proof, http.StatusOK},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, tc.r)
				if w.Code != tc.status {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
