package cookiesession

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A migrated session is modified even if the handler only reads it.
func TestMigrationSavesReadOnlySession(t *testing.T) {
	e := newMigEnv(t, Config{})
	s, err := e.m.LoadHeader(context.Background(), "old2=visits-7")
	if err != nil {
		t.Fatal(err)
	}
	n, _, _ := Get[int](s, "visits")
	if n != 7 {
		t.Errorf("visits %d, want 7", n)
	}
	lines, err := e.m.SetCookieHeaders(s)
	if err != nil {
		t.Fatal(err)
	}
	r := parseMig("", lines)
	if r.session == "" {
		t.Errorf("migrated session not sealed: %q", lines)
	}
	if diff := cmp.Diff([]string{delOld2}, r.deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	// Saved once: a second call writes nothing.
	if lines, err := e.m.SetCookieHeaders(s); err != nil || len(lines) != 0 {
		t.Errorf("second SetCookieHeaders = %q, %v; want nothing", lines, err)
	}
	// The sealed session opens with the migrated data.
	s2, err := e.m.LoadHeader(context.Background(), "cs="+r.session)
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := Get[int](s2, "visits"); n != 7 {
		t.Errorf("reloaded visits %d, want 7", n)
	}
}

// The serverless entry points migrate too, and the hook reads the cookies
// from its stand-in request.
func TestMigrationServerless(t *testing.T) {
	e := newMigEnv(t, Config{})
	ctx := context.WithValue(context.Background(), ctxProbe{}, "probe")
	req := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
	req.Header.Add("Cookie", "a=1")
	req.Header.Add("Cookie", "old2=visits-3")
	for _, tc := range []struct {
		name string
		load func() (*Session, error)
	}{
		{"Load", func() (*Session, error) { return e.m.Load(req) }},
		{"LoadHeader", func() (*Session, error) { return e.m.LoadHeader(ctx, "a=1; old2=visits-3") }},
		{"LoadCookies", func() (*Session, error) { return e.m.LoadCookies(ctx, []string{"a=1", "old2=visits-3"}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.load()
			if err != nil {
				t.Fatal(err)
			}
			if !e.legacy.ctxOK {
				t.Error("hook's request lacks the context")
			}
			if n, _, _ := Get[int](s, "visits"); n != 3 {
				t.Errorf("visits %d, want 3", n)
			}
			rec := httptest.NewRecorder()
			if err := e.m.Save(rec, s); err != nil {
				t.Fatal(err)
			}
			r := parseMig("", rec.Result().Header.Values("Set-Cookie"))
			if r.session == "" {
				t.Errorf("not sealed: %q", r.lines)
			}
			if diff := cmp.Diff([]string{delOld2}, r.deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
	// A failing legacy cookie: fresh session, the error returned.
	s, err := e.m.LoadCookies(ctx, []string{"old2=bad"})
	if !errors.Is(err, ErrMigration) || !errors.Is(err, errLegacyBad) {
		t.Errorf("error %v, want ErrMigration wrapping the hook's error", err)
	}
	if s.Len() != 0 {
		t.Errorf("failed migration left keys %q", s.Keys())
	}
}

// BenchmarkMigration measures loading and saving a session, as the
// middleware does, without a Migration, with one on a request that carries
// only a cookiesession cookie, and with one migrating a legacy cookie.
func BenchmarkMigration(b *testing.B) {
	kr, err := NewKeyring(testKey(b, 1, 1))
	if err != nil {
		b.Fatal(err)
	}
	legacy := &legacyFormat{}
	plain, _ := New(kr, Config{Name: "cs"})
	migrating, _ := New(kr, Config{Name: "cs", Migration: Migration{Cookies: migCookies, Load: legacy.load}})
	s, _ := plain.LoadHeader(context.Background(), "")
	s.Set("visits", 41)
	lines, err := plain.SetCookieHeaders(s)
	if err != nil {
		b.Fatal(err)
	}
	sealed, _, _ := strings.Cut(lines[0], ";")
	other := "a=1; b=2; _ga=GA1.2.3; theme=dark; " + sealed
	for _, bc := range []struct {
		name   string
		m      *Manager
		cookie string
	}{
		{"no Migration", plain, other},
		{"Migration, new cookie", migrating, other},
		{"Migration, legacy cookie", migrating, "a=1; b=2; _ga=GA1.2.3; theme=dark; old=visits-41"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := bc.m.LoadHeader(context.Background(), bc.cookie)
				if err != nil {
					b.Fatal(err)
				}
				n, _, _ := Get[int](s, "visits")
				if n != 41 {
					b.Fatalf("visits %d", n)
				}
				if _, err := bc.m.SetCookieHeaders(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
