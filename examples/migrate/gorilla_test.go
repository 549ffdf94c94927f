package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gorilla/securecookie"
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

	// Tampered: one character of the MAC'd, encrypted value changed.
	b := []byte(valid)
	i := len(b) / 2
	b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']

	other := sessions.NewCookieStore([]byte("another application's hash key!!"), gorillaBlockKey)
	return legacyCookies{
		valid: map[string]string{"visits 41": valid},
		bad: map[string]badCookie{
			"tampered": {value: string(b), want: securecookie.ErrMacInvalid},
			"expired":  {value: expired, text: "expired timestamp"},
			"wrongkey": {value: gorillaSave(t, other, map[any]any{"visits": 41}), want: securecookie.ErrMacInvalid},
			// Authentic, but the new session has string keys only.
			"int key": {value: gorillaSave(t, store, map[any]any{7: "seven", "visits": 41}), want: errGorilla, text: "not string"},
		},
	}
}

// gorillaSave returns the value of the cookie that store.Save writes for a
// session holding values.
func gorillaSave(t *testing.T, store *sessions.CookieStore, values map[any]any) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	sess := sessions.NewSession(store, gorillaCookie)
	sess.Values = values
	sess.Options = store.Options
	rec := httptest.NewRecorder()
	if err := store.Save(req, rec, sess); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == gorillaCookie {
			return c.Value
		}
	}
	t.Fatal("gorilla wrote no cookie")
	return ""
}

// The recipe with key rotation, as gorilla does it: the old pair still
// opens cookies, and no cookie means nothing to migrate.
func TestGorillaKeyRotation(t *testing.T) {
	oldStore := sessions.NewCookieStore([]byte("the old hash key, retired soon!!"), nil)
	cookie := gorillaSave(t, oldStore, map[any]any{"visits": 41, "flags": []string{"a", "b"}})
	g := &gorillaSessions{Store: sessions.NewCookieStore(gorillaHashKey, gorillaBlockKey, []byte("the old hash key, retired soon!!"), nil)}
	s := newServer(t)
	sess, err := s.m.LoadHeader(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if err := g.load(req, sess); err != nil || sess.Len() != 0 {
		t.Fatalf("no cookie: error %v, %d keys", err, sess.Len())
	}
	req.Header.Set("Cookie", "session="+cookie)
	if err := g.load(req, sess); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sess.Keys(), ","); got != "flags,visits" {
		t.Errorf("keys %s, want flags,visits", got)
	}
}
