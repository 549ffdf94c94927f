package cookiesession

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestModified checks which calls mark a session modified, on a session
// loaded from a cookie holding "a": 1 and "s": "text".
func TestModified(t *testing.T) {
	e := stNew(t, Config{})
	s0 := stLoad(t, e.m, "")
	if err := s0.Set("a", 1); err != nil {
		t.Fatal(err)
	}
	if err := s0.Set("s", "text"); err != nil {
		t.Fatal(err)
	}
	header := stHeader(t, stSave(t, e.m, s0))

	tests := []struct {
		name string
		do   func(s *Session)
		want bool
	}{
		{"nothing", func(s *Session) {}, false},
		{"Get", func(s *Session) { Get[int](s, "a") }, false},
		{"GetOr of the wrong type", func(s *Session) { GetOr(s, "s", 0) }, false},
		{"Has, Keys, Len, ID, Info, IsNew, Expiry", func(s *Session) {
			s.Has("a")
			s.Keys()
			s.Len()
			s.ID()
			s.Info()
			s.IsNew()
			s.Expiry()
		}, false},
		{"Set", func(s *Session) { s.Set("b", 2) }, true},
		{"Set to the same value", func(s *Session) { s.Set("a", 1) }, true},
		{"Set of a value that does not serialize", func(s *Session) { s.Set("f", func() {}) }, false},
		{"Delete of a key that is there", func(s *Session) { s.Delete("a") }, true},
		{"Delete of a missing key", func(s *Session) { s.Delete("zz") }, false},
		{"Pop of a key that is there", func(s *Session) { Pop[int](s, "a") }, true},
		{"Pop of a missing key", func(s *Session) { Pop[int](s, "zz") }, false},
		{"Pop of the wrong type", func(s *Session) { Pop[int](s, "s") }, false},
		{"Clear", func(s *Session) { s.Clear() }, true},
		{"Destroy", func(s *Session) { s.Destroy() }, true},
		{"Renew", func(s *Session) { s.Renew() }, true},
		{"SetExpiry", func(s *Session) { s.SetExpiry(Expiry{Lifetime: time.Hour}) }, true},
		{"SetExpiry out of range", func(s *Session) { s.SetExpiry(Expiry{Lifetime: -time.Hour}) }, false},
		{"ResetExpiry", func(s *Session) { s.ResetExpiry() }, true},
		{"AddFlash", func(s *Session) { s.AddFlash("info", "hi") }, true},
		{"Flashes with none", func(s *Session) { s.Flashes() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stLoad(t, e.m, header)
			if s.IsNew() {
				t.Fatal("the cookie did not open")
			}
			tt.do(s)
			if got := s.Modified(); got != tt.want {
				t.Errorf("Modified() = %v; want %v", got, tt.want)
			}
			// A save clears it.
			stSave(t, e.m, s)
			if s.Modified() {
				t.Errorf("Modified() after SetCookieHeaders = true; want false")
			}
		})
	}

	// A new, empty session: Clear and Destroy mark it too; Flashes with
	// messages as well.
	for name, do := range map[string]func(s *Session){
		"Clear":   func(s *Session) { s.Clear() },
		"Destroy": func(s *Session) { s.Destroy() },
		"Flashes": func(s *Session) {
			s.AddFlash("info", "hi")
			stSave(t, e.m, s)
			s.Flashes()
		},
	} {
		s := stLoad(t, e.m, "")
		do(s)
		if !s.Modified() {
			t.Errorf("new session, %s: Modified() = false; want true", name)
		}
	}
}

// TestModifiedMiddleware checks Modified under the middleware: set by a
// change, cleared once the session is saved before the header goes out,
// and set by a migration; and that it does not open the cookie.
func TestModifiedMiddleware(t *testing.T) {
	e := stNew(t, Config{
		Migration: Migration{
			Cookies: []LegacyCookie{{Name: "old"}},
			Load: func(r *http.Request, s *Session) error {
				c, err := r.Cookie("old")
				if err != nil {
					return nil
				}
				return s.Set("user", c.Value)
			},
		},
	})
	var got []bool
	h := e.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		got = append(got, s.Modified()) // does not open the cookie
		got = append(got, s.Has("user") && s.Modified())
		if err := s.Set("visits", 1); err != nil {
			t.Error(err)
		}
		got = append(got, s.Modified())
		w.WriteHeader(http.StatusOK) // saves the session
		got = append(got, s.Modified())
	}))
	for _, cookie := range []string{"", "old=ada"} {
		got = nil
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		migrated := cookie != ""
		if diff := cmp.Diff([]bool{false, migrated, true, false}, got); diff != "" {
			t.Errorf("Cookie %q: Modified() before use, after use, after Set, after the header (-want +got):\n%s", cookie, diff)
		}
		if v := rec.Header().Get("Vary"); v != "Cookie" {
			t.Errorf("Cookie %q: Vary %q; want Cookie", cookie, v)
		}
	}
}
