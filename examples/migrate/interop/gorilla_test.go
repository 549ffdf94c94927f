package interop

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cookiesession/cookiesession/examples/migrate/internal/server"
	"github.com/cookiesession/cookiesession/legacy"
	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/sessions"
)

// gorillaCookies makes cookies with gorilla/sessions itself: a CookieStore
// saving session.Values, as the legacy application did.
func gorillaCookies(t *testing.T) legacyCookies {
	store := sessions.NewCookieStore(gorillaHashKey, gorillaBlockKey)
	valid := gorillaSave(t, store, map[any]any{"visits": 41, "user": "ada"})

	// Expired: saved inside a synctest bubble, whose clock starts in 2000,
	// so the timestamp is far older than the store's MaxAge of 30 days.
	var expired string
	synctest.Test(t, func(t *testing.T) {
		expired = gorillaSave(t, store, map[any]any{"visits": 41, "user": "ada"})
	})

	other := sessions.NewCookieStore([]byte("another application's hash key!!"), gorillaBlockKey)
	return legacyCookies{
		valid: map[string]string{"visits 41": valid},
		bad: map[string]badCookie{
			// One character of the MAC'd, encrypted value changed.
			"tampered": {value: flip(valid), want: legacy.ErrSignature},
			"expired":  {value: expired, want: legacy.ErrExpired},
			"wrongkey": {value: gorillaSave(t, other, map[any]any{"visits": 41}), want: legacy.ErrSignature},
			// Authentic, but the new session has string keys only.
			"int key": {value: gorillaSave(t, store, map[any]any{7: "seven", "visits": 41}), want: legacy.ErrPayload, text: "not string"},
		},
	}
}

// flip changes one character in the middle of a base64 value.
func flip(v string) string {
	b := []byte(v)
	i := len(b) / 2
	b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
	return string(b)
}

// gorillaSave returns the value of the cookie that store.Save writes for a
// session holding values.
func gorillaSave(t *testing.T, store *sessions.CookieStore, values map[any]any) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	sess := sessions.NewSession(store, server.GorillaCookie)
	sess.Values = values
	sess.Options = store.Options
	rec := httptest.NewRecorder()
	if err := store.Save(req, rec, sess); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == server.GorillaCookie {
			return c.Value
		}
	}
	t.Fatal("gorilla wrote no cookie")
	return ""
}

// The reader agrees with gorilla's own CookieStore on every cookie gorilla
// made: it accepts the same ones, and reads the same values. Stores with
// and without a block key, and with a retired key pair still accepted.
func TestGorillaAgreesWithGorilla(t *testing.T) {
	values := map[any]any{"visits": 41, "user": "ada", "flags": []string{"a", "b"}, "admin": false, "ratio": 0.5}
	oldHash := []byte("the old hash key, retired soon!!")
	withBlock := sessions.NewCookieStore(gorillaHashKey, gorillaBlockKey)
	hashOnly := sessions.NewCookieStore(gorillaHashKey, nil)
	aes128 := sessions.NewCookieStore(gorillaHashKey, gorillaBlockKey[:16])
	retired := sessions.NewCookieStore(oldHash, nil)
	var expired string
	synctest.Test(t, func(t *testing.T) { expired = gorillaSave(t, withBlock, values) })

	for _, tc := range []struct {
		name   string
		cookie string
		store  *sessions.CookieStore // as the reading application made it
		keys   []legacy.GorillaKeys  // the same keys, for the reader
	}{
		{"block key", gorillaSave(t, withBlock, values), withBlock, []legacy.GorillaKeys{{Hash: gorillaHashKey, Block: gorillaBlockKey}}},
		{"no block key", gorillaSave(t, hashOnly, values), hashOnly, []legacy.GorillaKeys{{Hash: gorillaHashKey}}},
		{"AES-128", gorillaSave(t, aes128, values), aes128, []legacy.GorillaKeys{{Hash: gorillaHashKey, Block: gorillaBlockKey[:16]}}},
		{"rotated: made with the old pair",
			gorillaSave(t, retired, values),
			sessions.NewCookieStore(gorillaHashKey, gorillaBlockKey, oldHash, nil),
			[]legacy.GorillaKeys{{Hash: gorillaHashKey, Block: gorillaBlockKey}, {Hash: oldHash}}},
		{"rotated: old pair dropped",
			gorillaSave(t, retired, values),
			sessions.NewCookieStore(gorillaHashKey, gorillaBlockKey),
			[]legacy.GorillaKeys{{Hash: gorillaHashKey, Block: gorillaBlockKey}}},
		{"expired", expired, withBlock, []legacy.GorillaKeys{{Hash: gorillaHashKey, Block: gorillaBlockKey}}},
		{"tampered", flip(gorillaSave(t, withBlock, values)), withBlock, []legacy.GorillaKeys{{Hash: gorillaHashKey, Block: gorillaBlockKey}}},
		{"wrong hash key", gorillaSave(t, retired, values), hashOnly, []legacy.GorillaKeys{{Hash: gorillaHashKey}}},
		{"wrong block key", gorillaSave(t, withBlock, values),
			sessions.NewCookieStore(gorillaHashKey, []byte("another block key, AES-256 key!!")),
			[]legacy.GorillaKeys{{Hash: gorillaHashKey, Block: []byte("another block key, AES-256 key!!")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.AddCookie(&http.Cookie{Name: server.GorillaCookie, Value: tc.cookie})
			want, wantErr := tc.store.New(req, server.GorillaCookie)
			g, err := legacy.NewGorilla(legacy.GorillaConfig{Keys: tc.keys})
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Decode(tc.cookie)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("reader error %v, gorilla error %v", err, wantErr)
			}
			if err != nil {
				t.Logf("both reject it: %v; gorilla: %v", err, wantErr)
				return
			}
			if diff := cmp.Diff(want.Values, anyKeys(got)); diff != "" {
				t.Errorf("values (-gorilla +reader):\n%s", diff)
			}
		})
	}
}

func anyKeys(m map[string]any) map[any]any {
	out := make(map[any]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// The reader with key rotation, through Load: the old pair still opens
// cookies, and no cookie means nothing to migrate.
func TestGorillaKeyRotation(t *testing.T) {
	oldStore := sessions.NewCookieStore([]byte("the old hash key, retired soon!!"), nil)
	cookie := gorillaSave(t, oldStore, map[any]any{"visits": 41, "flags": []string{"a", "b"}})
	g, err := legacy.NewGorilla(legacy.GorillaConfig{Keys: []legacy.GorillaKeys{
		{Hash: gorillaHashKey, Block: gorillaBlockKey},
		{Hash: []byte("the old hash key, retired soon!!")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t)
	sess, err := s.m.LoadHeader(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if err := g.Load(req, sess); err != nil || sess.Len() != 0 {
		t.Fatalf("no cookie: error %v, %d keys", err, sess.Len())
	}
	req.Header.Set("Cookie", "session="+cookie)
	if err := g.Load(req, sess); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sess.Keys(), ","); got != "flags,visits" {
		t.Errorf("keys %s, want flags,visits", got)
	}
}

// Inside a synctest bubble, the reader's clock and gorilla's agree: a cookie
// is good up to the store's MaxAge and expired a second later.
func TestGorillaMaxAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := sessions.NewCookieStore(gorillaHashKey, gorillaBlockKey)
		store.MaxAge(3600)
		cookie := gorillaSave(t, store, map[any]any{"visits": 41})
		g, err := legacy.NewGorilla(legacy.GorillaConfig{
			Keys:   []legacy.GorillaKeys{{Hash: gorillaHashKey, Block: gorillaBlockKey}},
			MaxAge: time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			wait time.Duration
			ok   bool
		}{{time.Hour, true}, {time.Second, false}} {
			time.Sleep(step.wait) // the bubble's clock: no real wait
			_, err := g.Decode(cookie)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.AddCookie(&http.Cookie{Name: server.GorillaCookie, Value: cookie})
			_, gerr := store.New(req, server.GorillaCookie)
			if (err == nil) != step.ok || (gerr == nil) != step.ok {
				t.Errorf("after %v more: reader %v, gorilla %v; want ok %v", step.wait, err, gerr, step.ok)
			}
		}
	})
}
