package fuzz

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cs "github.com/cookiesession/cookiesession"
)

// FuzzDeviceEndpoints sends the device-binding endpoints and an ordinary
// route of the middleware (Config.DeviceBinding on) requests whose
// attacker-controlled parts are arbitrary: the proof in
// Secure-Session-Response, the Sec-Secure-Session-Id, and the device
// cookie, beside an authentic unbound session. Nothing may panic or
// answer 5xx; a registration never succeeds (no proof can sign a challenge
// the fuzzer never saw); a refresh never issues a device cookie; and the
// ordinary route never finds the session bound. Every hook error wraps a
// sentinel of the package.
func FuzzDeviceEndpoints(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.AAAA", "x", "y", byte(0))
	f.Add("", "", "", byte(1))
	f.Add("a.b.c", strings.Repeat("A", 300), "", byte(2))
	f.Add("..", "AgAAAAA", "AgAAAAA", byte(3))
	var hookErrs []error
	m, err := cs.New(fixedKeyring(f), cs.Config{
		Now:           clock,
		DeviceBinding: cs.DeviceBinding{Enabled: true},
		ErrorHook:     func(_ *http.Request, err error) { hookErrs = append(hookErrs, err) },
	})
	if err != nil {
		f.Fatal(err)
	}
	var bound bool
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cs.FromContext(r.Context())
		if r.URL.Path == "/login" {
			s.Set("user", "ada")
			return
		}
		bound = s.DeviceBound()
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "https://example.com/login", nil))
	session := strings.Split(w.Header().Get("Set-Cookie"), ";")[0]
	sentinels := []error{cs.ErrDeviceProof, cs.ErrDeviceBinding, cs.ErrMalformed, cs.ErrUnsupportedVersion,
		cs.ErrUnknownKey, cs.ErrKeyDisabled, cs.ErrAuthFailed, cs.ErrExpired, cs.ErrTooLarge}

	f.Fuzz(func(t *testing.T, proof, id, device string, op byte) {
		hookErrs, bound = nil, false
		path := [...]string{"/dbsc/start", "/dbsc/refresh", "/page", "/dbsc/refresh"}[op%4]
		r := httptest.NewRequest(http.MethodPost, "https://example.com"+path, nil)
		r.Header.Set("Cookie", session+"; __Host-dbsc="+device)
		if proof != "" && op&4 == 0 {
			r.Header["Secure-Session-Response"] = []string{proof}
		}
		if id != "" {
			r.Header["Sec-Secure-Session-Id"] = []string{id}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("%s: %d", path, w.Code)
		case path == "/dbsc/start" && w.Code == http.StatusOK:
			t.Fatal("a registration succeeded with a fuzzed proof")
		case path == "/dbsc/refresh" && strings.Contains(strings.Join(w.Header().Values("Set-Cookie"), "\n"), "__Host-dbsc="):
			t.Fatal("a refresh issued a device cookie for a fuzzed proof")
		case bound:
			t.Fatal("a fuzzed device cookie bound the session")
		}
		for _, err := range hookErrs {
			found := false
			for _, s := range sentinels {
				found = found || errors.Is(err, s)
			}
			if !found {
				t.Fatalf("hook error %v wraps no sentinel", err)
			}
		}
	})
}
