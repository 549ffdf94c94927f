package cookiesession

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every response that carries a session Set-Cookie has Vary: Cookie and is
// private to the browser, whatever the handler asked of shared caches;
// a response without one is left as the handler made it.
func TestCacheHeaders(t *testing.T) {
	kr := oneKeyring(t)
	for _, tt := range []struct {
		name      string
		cfg       Config
		touch     bool   // the handler sets a value
		cc        string // the handler's Cache-Control
		wantCC    []string
		wantVary  []string
		wantSaved bool
	}{
		{"SaveEveryRequest, untouched, public", Config{SaveEveryRequest: true}, false, "public, max-age=600",
			[]string{"private, max-age=600"}, []string{"Cookie"}, true},
		{"modified, no Cache-Control", Config{}, true, "",
			[]string{"private"}, []string{"Cookie"}, true},
		{"modified, s-maxage", Config{}, true, "s-maxage=60, PUBLIC",
			[]string{"private, s-maxage=60"}, []string{"Cookie"}, true},
		{"modified, no-store kept", Config{}, true, "no-store",
			[]string{"no-store"}, []string{"Cookie"}, true},
		{"modified, private kept", Config{}, true, "private, max-age=60",
			[]string{"private, max-age=60"}, []string{"Cookie"}, true},
		// Issue 19 item 9: a qualified private lets a shared cache store
		// the response without the named fields; it is no opt-out.
		{"modified, qualified private", Config{}, true, `private="X-User"`,
			[]string{"private"}, []string{"Cookie"}, true},
		{"modified, qualified private naming two fields, public", Config{}, true, `public, Private="X-User, Set-Cookie", max-age=60`,
			[]string{"private, max-age=60"}, []string{"Cookie"}, true},
		{"modified, qualified private with an escaped quote", Config{}, true, `private="a\",b", s-maxage=5`,
			[]string{"private, s-maxage=5"}, []string{"Cookie"}, true},
		{"modified, no-store with a value is no no-store", Config{}, true, `no-store="x"`,
			[]string{`private, no-store="x"`}, []string{"Cookie"}, true},
		{"modified, unqualified private after a qualified one kept", Config{}, true, `private="X-User", private`,
			[]string{`private="X-User", private`}, []string{"Cookie"}, true},
		{"untouched, public kept", Config{}, false, "public, max-age=600",
			[]string{"public, max-age=600"}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.ErrorHook = func(_ *http.Request, err error) { t.Error(err) }
			m, err := New(kr, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			// The request carries a session, so SaveEveryRequest re-seals it.
			seed := stLoad(t, m, "")
			seed.Set("u", "ada")
			cookie := stHeader(t, stSave(t, m, seed))
			h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.cc != "" {
					w.Header().Set("Cache-Control", tt.cc)
				}
				if tt.touch {
					FromContext(r.Context()).Set("n", 1)
				}
				w.Write([]byte("page"))
			}))
			w := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Cookie", cookie)
			h.ServeHTTP(w, req)
			if saved := len(w.Header().Values("Set-Cookie")) > 0; saved != tt.wantSaved {
				t.Fatalf("Set-Cookie %q, want saved %v", w.Header().Values("Set-Cookie"), tt.wantSaved)
			}
			if diff := cmp.Diff(tt.wantCC, w.Header().Values("Cache-Control")); diff != "" {
				t.Errorf("Cache-Control (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantVary, w.Header().Values("Vary")); diff != "" {
				t.Errorf("Vary (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSaveHeaderPrivate: saving by hand (Manager.Save, Manager.SaveHeader),
// as a serverless handler does, makes a response with session cookies
// private and varying by Cookie, as the middleware does, so that no
// adapter has to remember to (issue 19, examples/lambda).
func TestSaveHeaderPrivate(t *testing.T) {
	m, err := New(oneKeyring(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		cc       string
		use      func(*Session)
		wantCC   []string
		wantVary []string
		cookies  bool
	}{
		{"set, public", "public, max-age=60", func(s *Session) { s.Set("u", "ada") }, []string{"private, max-age=60"}, []string{"Cookie"}, true},
		{"set, no Cache-Control", "", func(s *Session) { s.Set("u", "ada") }, []string{"private"}, []string{"Cookie"}, true},
		{"set, qualified private", `private="X-User"`, func(s *Session) { s.Set("u", "ada") }, []string{"private"}, []string{"Cookie"}, true},
		{"set, no-store", "no-store", func(s *Session) { s.Set("u", "ada") }, []string{"no-store"}, []string{"Cookie"}, true},
		{"read only", "public", func(s *Session) { s.Has("u") }, []string{"public"}, []string{"Cookie"}, false},
		{"untouched", "public", func(*Session) {}, []string{"public"}, nil, false},
	} {
		for _, viaSave := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, Save %v", tt.name, viaSave), func(t *testing.T) {
				s, err := m.LoadCookies(t.Context(), nil)
				if err != nil {
					t.Fatal(err)
				}
				tt.use(s)
				w := httptest.NewRecorder()
				if tt.cc != "" {
					w.Header().Set("Cache-Control", tt.cc)
				}
				if viaSave {
					err = m.Save(w, s)
				} else {
					err = m.SaveHeader(w.Header(), s)
				}
				if err != nil {
					t.Fatal(err)
				}
				h := w.Header()
				if got := len(h.Values("Set-Cookie")) > 0; got != tt.cookies {
					t.Fatalf("Set-Cookie %q, want some: %v", h.Values("Set-Cookie"), tt.cookies)
				}
				if diff := cmp.Diff(tt.wantCC, h.Values("Cache-Control")); diff != "" {
					t.Errorf("Cache-Control (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantVary, h.Values("Vary")); diff != "" {
					t.Errorf("Vary (-want +got):\n%s", diff)
				}
			})
		}
	}
}
