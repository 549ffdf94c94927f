package cookiesession

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errLegacyBad is what the test migration hook returns for a legacy
// cookie that does not verify.
var errLegacyBad = errors.New("legacy cookie does not verify")

// legacyFormat is a stand-in for another library's cookie: "visits-N"
// migrates with visits N; "bad" does not verify; "empty" holds no session.
type legacyFormat struct {
	mu    sync.Mutex
	calls int
	ctxOK bool // the last call's request context had no session in it
}

func (f *legacyFormat) load(r *http.Request, s *Session) error {
	f.mu.Lock()
	f.calls++
	f.ctxOK = FromContext(r.Context()) == nil && r.Context().Value(ctxProbe{}) == "probe"
	f.mu.Unlock()
	c, err := r.Cookie("old")
	if err != nil {
		c, err = r.Cookie("old2")
	}
	if err != nil {
		return nil
	}
	switch {
	case c.Value == "empty":
		return nil
	case strings.HasPrefix(c.Value, "visits-"):
		n, err := strconv.Atoi(strings.TrimPrefix(c.Value, "visits-"))
		if err != nil {
			return fmt.Errorf("%w: bad count", errLegacyBad)
		}
		return s.Set("visits", n)
	default:
		// Set something first: a failed hook's changes must not survive.
		s.Set("half", true)
		return errLegacyBad
	}
}

func (f *legacyFormat) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

type ctxProbe struct{}

// migEnv is a manager with a legacy migration and a visit-counter handler.
type migEnv struct {
	m      *Manager
	legacy *legacyFormat
	hook   *mwHook
	clock  *testClock
}

var migCookies = []LegacyCookie{
	{Name: "old", Path: "/app", Domain: "example.com"},
	{Name: "old2"},
}

func newMigEnv(t *testing.T, cfg Config) *migEnv {
	t.Helper()
	e := &migEnv{legacy: &legacyFormat{}, hook: &mwHook{}, clock: newTestClock(t0)}
	kr := oneKeyring(t)
	cfg.Name, cfg.Now, cfg.ErrorHook = "cs", e.clock.Now, e.hook.record
	if cfg.Migration.Cookies == nil {
		cfg.Migration.Cookies = migCookies
	}
	if cfg.Migration.Load == nil {
		cfg.Migration.Load = e.legacy.load
	}
	var err error
	if e.m, err = New(kr, cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// visits counts visits in the session; /none does not touch the session,
// /fail answers 500.
func visits(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/none" {
		fmt.Fprint(w, "no session")
		return
	}
	s := FromContext(r.Context())
	n, _, err := Get[int](s, "visits")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.Set("visits", n+1)
	if r.URL.Path == "/fail" {
		http.Error(w, "failed", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "visits %d, half %v", n+1, s.Has("half"))
}

// migResp is one middleware response.
type migResp struct {
	body    string
	session string   // the value of the "cs" cookie written, if any
	deleted []string // Set-Cookie lines with Max-Age=0, sorted
	lines   []string
}

// serve sends a GET for path with the Cookie header cookie through the
// middleware.
func (e *migEnv) serve(t *testing.T, path, cookie string) migResp {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://example.com"+path, nil)
	req = req.WithContext(context.WithValue(req.Context(), ctxProbe{}, "probe"))
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	e.m.Middleware(http.HandlerFunc(visits)).ServeHTTP(rec, req)
	return parseMig(rec.Body.String(), rec.Result().Header.Values("Set-Cookie"))
}

func parseMig(body string, lines []string) migResp {
	r := migResp{body: strings.TrimSpace(body), lines: lines}
	for _, l := range lines {
		if strings.Contains(l, "; Max-Age=0") {
			r.deleted = append(r.deleted, l)
		} else if v, ok := strings.CutPrefix(l, "cs="); ok {
			r.session, _, _ = strings.Cut(v, ";")
		}
	}
	slices.Sort(r.deleted)
	return r
}

const (
	delOld  = "old=; Path=/app; Domain=example.com; Max-Age=0; Secure"
	delOld2 = "old2=; Path=/; Max-Age=0; Secure"
)

func TestMigrationMigratesAndDeletes(t *testing.T) {
	e := newMigEnv(t, Config{})
	r := e.serve(t, "/", "old=visits-41")
	if r.body != "visits 42, half false" {
		t.Errorf("body %q, want visits 42", r.body)
	}
	if r.session == "" {
		t.Errorf("migrated session was not saved: %q", r.lines)
	}
	if diff := cmp.Diff([]string{delOld}, r.deleted); diff != "" {
		t.Errorf("deleted cookies (-want +got):\n%s", diff)
	}
	if !e.legacy.ctxOK {
		t.Error("the hook's request context is not the request's, or carries the session")
	}
	e.hook.mwWantErrs(t)

	// The next request carries only the new cookie: no hook call.
	calls := e.legacy.callCount()
	r = e.serve(t, "/", "cs="+r.session)
	if r.body != "visits 43, half false" {
		t.Errorf("second request: body %q, want visits 43", r.body)
	}
	if len(r.deleted) != 0 {
		t.Errorf("second request deleted %q", r.deleted)
	}
	if got := e.legacy.callCount(); got != calls {
		t.Errorf("hook called %d times on the second request", got-calls)
	}
	e.hook.mwWantErrs(t)
}

func TestMigrationFailureGivesFreshSession(t *testing.T) {
	e := newMigEnv(t, Config{})
	for _, cookie := range []string{"old=tampered", "old=visits-x"} {
		r := e.serve(t, "/", cookie)
		if r.body != "visits 1, half false" {
			t.Errorf("%s: body %q, want a fresh session", cookie, r.body)
		}
		if diff := cmp.Diff([]string{delOld}, r.deleted); diff != "" {
			t.Errorf("%s: deleted (-want +got):\n%s", cookie, diff)
		}
		e.hook.mwWantErrs(t, ErrMigration)
	}
	// The hook's own error is there too.
	e.serve(t, "/", "old=tampered")
	if len(e.hook.errs) != 1 || !errors.Is(e.hook.errs[0], errLegacyBad) {
		t.Errorf("ErrorHook got %v, want the hook's error", e.hook.errs)
	}
}

func TestMigrationNewCookieWins(t *testing.T) {
	e := newMigEnv(t, Config{})
	first := e.serve(t, "/", "")
	if first.session == "" {
		t.Fatal("no session written")
	}
	calls := e.legacy.callCount()
	// Both legacy cookies, and the new one in between.
	r := e.serve(t, "/", "old=visits-41; cs="+first.session+"; old2=visits-99")
	if r.body != "visits 2, half false" {
		t.Errorf("body %q: the legacy cookie was used", r.body)
	}
	if diff := cmp.Diff([]string{delOld2, delOld}, r.deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if got := e.legacy.callCount(); got != calls {
		t.Errorf("hook called %d times with a valid cookiesession cookie", got-calls)
	}
	e.hook.mwWantErrs(t)

	// Unmodified: only the deletions go out.
	s, err := e.m.LoadHeader(context.Background(), "old=visits-41; cs="+r.session)
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := Get[int](s, "visits"); n != 2 {
		t.Errorf("visits %d, want 2", n)
	}
	lines, err := e.m.SetCookieHeaders(s)
	if diff := cmp.Diff([]string{delOld}, lines); err != nil || diff != "" {
		t.Errorf("SetCookieHeaders error %v, lines (-want +got):\n%s", err, diff)
	}
}

// A cookiesession cookie that does not open still marks a browser that
// has been migrated, or never needed to be: the legacy cookie is not
// migrated, only deleted, and the rejection is reported.
func TestMigrationAfterRejectedCookie(t *testing.T) {
	e := newMigEnv(t, Config{})
	r := e.serve(t, "/", "cs=garbage; old=visits-41")
	if r.body != "visits 1, half false" {
		t.Errorf("body %q, want a fresh session, not the migrated count", r.body)
	}
	if got := e.legacy.callCount(); got != 0 {
		t.Errorf("Migration.Load called %d times", got)
	}
	if diff := cmp.Diff([]string{delOld}, r.deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	e.hook.mwWantErrs(t, ErrMalformed)
}

func TestMigrationValidate(t *testing.T) {
	var seen []int
	e := newMigEnv(t, Config{Validate: func(_ context.Context, s *Session) error {
		n, _, _ := Get[int](s, "visits")
		seen = append(seen, n)
		if n == 666 {
			return errors.New("revoked")
		}
		return s.Set("validated", true)
	}})
	r := e.serve(t, "/", "old=visits-666")
	if r.body != "visits 1, half false" {
		t.Errorf("rejected: body %q, want a fresh session", r.body)
	}
	e.hook.mwWantErrs(t, ErrRejected)
	if diff := cmp.Diff([]string{delOld}, r.deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}

	s, err := e.m.LoadHeader(context.Background(), "old=visits-5")
	if err != nil {
		t.Fatal(err)
	}
	if ok := s.Has("validated"); !ok {
		t.Error("Validate's change to the migrated session was lost")
	}
	if diff := cmp.Diff([]int{666, 5}, seen); diff != "" {
		t.Errorf("Validate saw (-want +got):\n%s", diff)
	}
}

func TestMigrationNotCalled(t *testing.T) {
	e := newMigEnv(t, Config{})
	for _, tc := range []struct {
		name, path, cookie string
		deleted            []string
	}{
		{"no legacy cookie", "/", "other=visits-41", nil},
		{"legacy name as a value", "/", "x=old", nil},
		{"session unused", "/none", "old=visits-41", nil},
		{"5xx response", "/fail", "old=visits-41", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := e.legacy.callCount()
			r := e.serve(t, tc.path, tc.cookie)
			wantCalls := 0
			if tc.path == "/fail" {
				wantCalls = 1 // loaded and migrated, but nothing is saved
			}
			if got := e.legacy.callCount() - calls; got != wantCalls {
				t.Errorf("hook called %d times, want %d", got, wantCalls)
			}
			if tc.path == "/fail" && len(r.lines) != 0 {
				t.Errorf("5xx response set cookies %q", r.lines)
			}
			if diff := cmp.Diff(tc.deleted, r.deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}

// A hook that finds nothing to migrate leaves a fresh, unmodified session.
func TestMigrationNothingToMigrate(t *testing.T) {
	e := newMigEnv(t, Config{})
	s, err := e.m.LoadHeader(context.Background(), "old=empty")
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsNew() || s.Len() != 0 {
		t.Errorf("session IsNew %v with %d keys, want a fresh one", s.IsNew(), s.Len())
	}
	lines, err := e.m.SetCookieHeaders(s)
	if diff := cmp.Diff([]string{delOld}, lines); err != nil || diff != "" {
		t.Errorf("SetCookieHeaders error %v, lines (-want +got):\n%s", err, diff)
	}
}

// Destroy after a migration still deletes the legacy cookie, and leaves
// an empty session cookie, so that the browser is not migrated again.
func TestMigrationDestroy(t *testing.T) {
	e := newMigEnv(t, Config{})
	s, _ := e.m.LoadHeader(context.Background(), "old=visits-2")
	if !s.Has("visits") {
		t.Fatal("not migrated")
	}
	s.Destroy()
	lines, err := e.m.SetCookieHeaders(s)
	if err != nil {
		t.Fatal(err)
	}
	r := parseMig("", lines)
	if !slices.Contains(lines, delOld) || r.session == "" {
		t.Fatalf("lines %q, want the legacy cookie deleted and an empty session written", lines)
	}
	back, err := e.m.LoadHeader(context.Background(), "cs="+r.session+"; old=visits-2")
	if err != nil || back.Len() != 0 || back.IsNew() {
		t.Fatalf("the empty session with the legacy cookie: %v, %d keys, new %t; want it, not migrated", err, back.Len(), back.IsNew())
	}
	if lines, err := e.m.SetCookieHeaders(back); err != nil || !slices.Equal(lines, []string{delOld}) {
		t.Fatalf("saving the empty session again: %q, %v; want only the legacy deletion", lines, err)
	}
}

// A legacy session too large for the new cookies is dropped at once, not
// left to fail every request's save until the legacy cookie expires.
func TestMigrationTooLarge(t *testing.T) {
	e := newMigEnv(t, Config{Migration: Migration{Cookies: migCookies, Load: func(_ *http.Request, s *Session) error {
		big := make([]byte, 2*DefaultMaxSize)
		rand.Read(big) // incompressible
		return s.Set("big", big)
	}}})
	r := e.serve(t, "/", "old=visits-41")
	if r.body != "visits 1, half false" {
		t.Errorf("body %q, want a fresh session", r.body)
	}
	if diff := cmp.Diff([]string{delOld}, r.deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if len(e.hook.errs) != 1 || !errors.Is(e.hook.errs[0], ErrMigration) || !errors.Is(e.hook.errs[0], ErrTooLarge) {
		t.Errorf("ErrorHook got %v, want ErrMigration wrapping ErrTooLarge", e.hook.errs)
	}
}

// A rolling deploy, through one browser's cookie jar: an old server that
// keeps its count in the legacy cookie, and a new one that migrates it. Both
// keep answering; once migrated, the new cookie wins on new servers, and an
// old server, which cannot read it, starts over.
func TestMigrationRollingDeploy(t *testing.T) {
	legacy := &legacyFormat{}
	hook := &mwHook{}
	kr := oneKeyring(t)
	m, err := New(kr, Config{Name: "cs", Insecure: true, ErrorHook: hook.record,
		Migration: Migration{Cookies: []LegacyCookie{{Name: "old2"}}, Load: legacy.load}})
	if err != nil {
		t.Fatal(err)
	}
	newSrv := httptest.NewServer(m.Middleware(http.HandlerFunc(visits)))
	defer newSrv.Close()
	oldSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		if c, err := r.Cookie("old2"); err == nil {
			n, _ = strconv.Atoi(strings.TrimPrefix(c.Value, "visits-"))
		}
		http.SetCookie(w, &http.Cookie{Name: "old2", Value: "visits-" + strconv.Itoa(n+1), Path: "/"})
		fmt.Fprintf(w, "visits %d", n+1)
	}))
	defer oldSrv.Close()

	// Both listen on 127.0.0.1, so the jar sends both the same cookies, as
	// a browser does behind a load balancer.
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	for i, step := range []struct {
		srv   *httptest.Server
		want  string
		calls int
	}{
		{oldSrv, "visits 1", 0},
		{oldSrv, "visits 2", 0},
		{newSrv, "visits 3, half false", 1}, // migrated
		{newSrv, "visits 4, half false", 0},
		{oldSrv, "visits 1", 0},             // the old server cannot read the new cookie
		{newSrv, "visits 5, half false", 0}, // the new cookie wins; old2 is deleted
		{newSrv, "visits 6, half false", 0},
		{oldSrv, "visits 1", 0},
	} {
		calls := legacy.callCount()
		resp, err := client.Get(step.srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.TrimSpace(string(body)); got != step.want || resp.StatusCode != http.StatusOK {
			t.Errorf("step %d: %d %q, want %q", i, resp.StatusCode, got, step.want)
		}
		if got := legacy.callCount() - calls; got != step.calls {
			t.Errorf("step %d: hook called %d times, want %d", i, got, step.calls)
		}
	}
	hook.mwWantErrs(t)
}
