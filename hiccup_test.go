package cookiesession

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 19 item 3: a key file read mid-write, or an instance that lags a
// rotation, must not log users out for good.

// hiccupTexts returns a keyring text after a rotation (key 2 primary, key
// 1 decrypt-only, one entry a line) and what a read of it mid-write can
// give: its first line, a valid keyring without key 1.
func hiccupTexts(t testing.TB) (full, partial string) {
	t.Helper()
	kr, err := NewKeyring(testKey(t, 2, 2), testKey(t, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	full = strings.ReplaceAll(kr.Marshal(), ",", "\n") + "\n"
	partial = full[:strings.IndexByte(full, '\n')+1]
	if _, err := ParseKeyring(partial); err != nil {
		t.Fatal(err)
	}
	return full, partial
}

// cookieJar is a browser's cookies for one site: name to value.
type cookieJar map[string]string

// header returns the Cookie header the browser sends.
func (j cookieJar) header() string {
	var pairs []string
	for n, v := range j {
		pairs = append(pairs, n+"="+v)
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "; ")
}

// apply stores a response's Set-Cookie lines, as a browser does.
func (j cookieJar) apply(t testing.TB, lines []string) {
	t.Helper()
	for _, l := range lines {
		c, err := http.ParseSetCookie(l)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", l, err)
		}
		if c.MaxAge < 0 {
			delete(j, c.Name)
		} else {
			j[c.Name] = c.Value
		}
	}
}

// visit sends a request with j's cookies to h and applies the response.
func (j cookieJar) visit(t testing.TB, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if c := j.header(); c != "" {
		r.Header.Set("Cookie", c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	j.apply(t, w.Result().Header.Values("Set-Cookie"))
	return w
}

// login returns a browser that holds a session of m with user set, and
// blob if it is not empty (a long blob spans two cookies).
func login(t testing.TB, m *Manager, user, blob string) cookieJar {
	t.Helper()
	s := stLoad(t, m, "")
	s.Set("user", user)
	if blob != "" {
		s.Set("blob", blob)
	}
	j := cookieJar{}
	j.apply(t, stSave(t, m, s))
	return j
}

// userOf returns the user that j's session holds for m, or "".
func userOf(t testing.TB, m *Manager, j cookieJar) string {
	t.Helper()
	s, _ := m.LoadHeader(context.Background(), j.header())
	return GetOr(s, "user", "")
}

// randomText returns n bytes of incompressible base64url text.
func randomText(n int) string {
	b := make([]byte, n*3/4)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestUnknownKeyCookieKept: a cookie under a key the keyring lacks gives a
// fresh session and an ErrUnknownKey for the hook, and is deleted only
// when the response writes a new session in its place, or Destroy asks.
// Once the key is back, the kept cookie opens again.
func TestUnknownKeyCookieKept(t *testing.T) {
	full, partial := hiccupTexts(t)
	for _, tt := range []struct {
		name     string
		cfg      Config
		chunks   int
		handler  func(*Session)
		wantKept bool
	}{
		{"read-only", Config{}, 1, func(s *Session) { s.Has("user") }, true},
		{"read-only, two cookies", Config{}, 2, func(s *Session) { s.Has("user") }, true},
		{"Clear", Config{}, 1, func(s *Session) { s.Clear() }, true},
		{"Delete of an absent key", Config{}, 1, func(s *Session) { s.Delete("user") }, true},
		{"untouched, SaveEveryRequest", Config{SaveEveryRequest: true}, 1, func(*Session) {}, true},
		{"read-only, SaveEveryRequest, two cookies", Config{SaveEveryRequest: true}, 2, func(s *Session) { s.Has("user") }, true},
		{"Set writes a new session in its place", Config{}, 2, func(s *Session) { s.Set("user", "guest") }, false},
		{"Destroy", Config{}, 2, func(s *Session) { s.Destroy() }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeyring(full)
			if err != nil {
				t.Fatal(err)
			}
			var hook mwHook
			tt.cfg.ErrorHook = hook.record
			m, err := New(kr, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			// A session sealed while key 1 was primary.
			sealer, err := New(oneKeyring(t), Config{})
			if err != nil {
				t.Fatal(err)
			}
			blob := ""
			if tt.chunks == 2 {
				blob = randomText(5000)
			}
			j := login(t, sealer, "ada", blob)
			if len(j) != tt.chunks {
				t.Fatalf("session spans %d cookies, want %d", len(j), tt.chunks)
			}
			before := j.header()

			// The hiccup: this instance loses key 1.
			if err := kr.Reload(partial); err != nil {
				t.Fatal(err)
			}
			var fresh bool
			h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := FromContext(r.Context())
				fresh = !s.Has("user") && s.IsNew()
				tt.handler(s)
			}))
			j.visit(t, h)
			if !fresh {
				t.Error("the handler did not get a fresh session")
			}
			hook.mwWantErrs(t, ErrUnknownKey)

			if err := kr.Reload(full); err != nil {
				t.Fatal(err)
			}
			if tt.wantKept {
				if got := j.header(); got != before {
					t.Fatalf("cookies changed from %s to %s", before, got)
				}
				if u := userOf(t, m, j); u != "ada" {
					t.Fatalf("after the hiccup the session holds user %q, want ada", u)
				}
				return
			}
			// Replaced: no chunk of the old session is left.
			want := 0
			if _, ok := j[m.names[0]]; ok {
				want = 1
			}
			if len(j) != want || userOf(t, m, j) == "ada" {
				t.Fatalf("cookies after the response: %v", j)
			}
		})
	}
}

// TestUnknownKeyCookieKeptByHand: the same without the middleware, through
// Manager.Load and Manager.Save.
func TestUnknownKeyCookieKeptByHand(t *testing.T) {
	full, partial := hiccupTexts(t)
	kr, _ := ParseKeyring(full)
	m, err := New(kr, Config{SaveEveryRequest: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Promote(1); err != nil { // sealed under 1 from now on
		t.Fatal(err)
	}
	j := login(t, m, "ada", "")
	if err := kr.Reload(partial); err != nil {
		t.Fatal(err)
	}
	s, err := m.LoadHeader(context.Background(), j.header())
	if !errors.Is(err, ErrUnknownKey) || !s.IsNew() {
		t.Fatalf("LoadHeader: %v, IsNew %v", err, s.IsNew())
	}
	w := httptest.NewRecorder()
	if err := m.Save(w, s); err != nil {
		t.Fatal(err)
	}
	if lines := w.Header().Values("Set-Cookie"); len(lines) != 0 {
		t.Fatalf("Save of the untouched fresh session wrote %q", lines)
	}
	s.Set("user", "guest")
	j.apply(t, stSave(t, m, s))
	if u := userOf(t, m, j); u != "guest" {
		t.Fatalf("after Set, the cookie holds user %q", u)
	}
}

// TestLaggingInstance: instance A has promoted key 2; instance B has not
// loaded it yet. A visit to B gives a fresh session there and keeps the
// cookie, so the user is still logged in on A.
func TestLaggingInstance(t *testing.T) {
	full, _ := hiccupTexts(t)
	krA, _ := ParseKeyring(full)
	krB, err := NewKeyring(testKey(t, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	var hookB mwHook
	a, _ := New(krA, Config{})
	b, _ := New(krB, Config{ErrorHook: hookB.record})
	j := login(t, a, "ada", "")
	seen := "?"
	j.visit(t, b.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = GetOr(FromContext(r.Context()), "user", "")
	})))
	if seen != "" {
		t.Fatalf("lagging instance saw user %q", seen)
	}
	hookB.mwWantErrs(t, ErrUnknownKey)
	if u := userOf(t, a, j); u != "ada" {
		t.Fatalf("back on the up-to-date instance, user %q, want ada", u)
	}
}

// TestKeyFileHiccupSessions measures how many of n logged-in users are
// still logged in after a key file is read mid-write once, each making one
// read-only request while the read lasts. Through Watch, and with the
// keyring reloaded from the partial text directly (as a hand-written
// reload loop, or a lagging instance, would).
func TestKeyFileHiccupSessions(t *testing.T) {
	const n = 200
	full, partial := hiccupTexts(t)
	survivors := func(t *testing.T, kr *Keyring, hiccup, recover func()) int {
		t.Helper()
		m, err := New(kr, Config{ErrorHook: func(*http.Request, error) {}})
		if err != nil {
			t.Fatal(err)
		}
		sealer, _ := New(oneKeyring(t), Config{}) // key 1, before the rotation
		users := make([]cookieJar, n)
		for i := range users {
			users[i] = login(t, sealer, "ada", "")
		}
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			FromContext(r.Context()).Has("user")
		}))
		hiccup()
		for _, j := range users {
			j.visit(t, h)
		}
		recover()
		alive := 0
		for _, j := range users {
			if userOf(t, m, j) == "ada" {
				alive++
			}
		}
		return alive
	}

	t.Run("Reload", func(t *testing.T) {
		kr, _ := ParseKeyring(full)
		alive := survivors(t, kr, func() {
			if err := kr.Reload(partial); err != nil {
				t.Fatal(err)
			}
		}, func() {
			if err := kr.Reload(full); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%d of %d sessions survived", alive, n)
		if alive != n {
			t.Errorf("%d of %d sessions survived the hiccup", alive, n)
		}
	})

	t.Run("Watch", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys")
			write := func(text string) { // in place, as an editor or a naive script does
				if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write(full)
			kr, _ := ParseKeyring(full)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go kr.Watch(ctx, FileKeySource(path), WatchConfig{Interval: time.Second, ErrorHook: func(error) {}, OnChange: func(*Keyring) {}})
			synctest.Wait()
			alive := survivors(t, kr, func() {
				write(partial)            // the first line written, the rest not yet
				<-time.After(time.Second) // the bubble's clock: one poll
				synctest.Wait()
			}, func() {
				write(full)
				<-time.After(time.Second) // the bubble's clock: one poll
				synctest.Wait()
			})
			t.Logf("%d of %d sessions survived", alive, n)
			if alive != n {
				t.Errorf("%d of %d sessions survived the hiccup", alive, n)
			}
			cancel()
			synctest.Wait()
		})
	})
}
