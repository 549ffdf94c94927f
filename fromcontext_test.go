package cookiesession

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestManagerFromContext stacks two managers, with different cookie names
// and lifetimes, around one handler, which reaches both sessions with
// Manager.FromContext, as gorilla's named sessions do with store.Get(r,
// name).
func TestManagerFromContext(t *testing.T) {
	clock := newTestClock(t0)
	kr := oneKeyring(t)
	prefs := stManager(t, kr, clock, Config{Name: "prefs", Lifetime: 365 * 24 * time.Hour})
	login := stManager(t, kr, clock, Config{Name: "login", Lifetime: time.Hour})
	other := stManager(t, kr, clock, Config{Name: "other"})

	type seen struct {
		Theme, User      string
		Innermost, Other bool
		PrefsEx, LoginEx time.Time
		PkgIsLogin       bool
	}
	var got seen
	h := prefs.Middleware(login.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p, l := prefs.FromContext(ctx), login.FromContext(ctx)
		got = seen{
			Theme:      GetOr(p, "theme", ""),
			User:       GetOr(l, "user", ""),
			PkgIsLogin: FromContext(ctx) == l,
			Innermost:  p != l,
			Other:      other.FromContext(ctx) == nil,
			PrefsEx:    p.Expiry(),
			LoginEx:    l.Expiry(),
		}
		if r.Method == http.MethodPost {
			if err := p.Set("theme", "dark"); err != nil {
				t.Error(err)
			}
			if err := l.Set("user", "ada"); err != nil {
				t.Error(err)
			}
		}
	})))
	send := func(method, cookie string) []string {
		req := httptest.NewRequest(method, "https://example.com/", nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Header().Values("Set-Cookie")
	}

	lines := send(http.MethodPost, "")
	// Each manager writes its own cookie, with its own lifetime.
	maxAges := map[string]int{}
	for _, l := range lines {
		c := stParse(t, l)
		maxAges[c.name] = c.maxAge
	}
	if diff := cmp.Diff(map[string]int{"prefs": 365 * 24 * 3600, "login": 3600}, maxAges); diff != "" {
		t.Errorf("cookies written, name to Max-Age (-want +got):\n%s", diff)
	}

	// The next request carries both: each manager opens its own.
	clock.Add(time.Minute)
	send(http.MethodGet, stHeader(t, lines))
	start := time.Unix(t0, 0)
	want := seen{
		Theme: "dark", User: "ada", Innermost: true, Other: true, PkgIsLogin: true,
		PrefsEx: start.Add(365 * 24 * time.Hour), LoginEx: start.Add(time.Hour),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("what the handler saw (-want +got):\n%s", diff)
	}
}

// TestManagerFromContextOutside checks that a context without m's
// middleware gives nil, as the package-level FromContext does.
func TestManagerFromContextOutside(t *testing.T) {
	m := stNew(t, Config{}).m
	if s := m.FromContext(context.Background()); s != nil {
		t.Errorf("m.FromContext(Background) = %v; want nil", s)
	}
	var inner *Session
	m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = m.FromContext(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "https://example.com/", nil))
	if inner == nil {
		t.Error("m.FromContext inside m's middleware = nil")
	}
}
