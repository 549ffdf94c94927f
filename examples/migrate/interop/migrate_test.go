package interop

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/examples/migrate/internal/server"
	"github.com/cookiesession/cookiesession/internal/djangotest"
	"github.com/google/go-cmp/cmp"
)

// Secrets of the legacy applications, as the server reads them.
var (
	gorillaHashKey  = []byte("gorilla hash key: 32 bytes long!")
	gorillaBlockKey = []byte("gorilla block key, AES-256 key!!")
	djangoSecret    = djangotest.Secret
	jwtSecret       = "jwt secret for the tests"
)

// testNow is the time every test runs at: the server's clock, the time the
// Django and JWT cookies are signed at. gorilla's securecookie reads the
// real clock, which is within seconds of it.
var testNow = time.Now().Truncate(time.Second)

func testEnv() map[string]string {
	return map[string]string{
		"GORILLA_HASH_KEY":  base64.StdEncoding.EncodeToString(gorillaHashKey),
		"GORILLA_BLOCK_KEY": base64.StdEncoding.EncodeToString(gorillaBlockKey),
		"DJANGO_SECRET_KEY": djangoSecret,
		"JWT_SECRET":        jwtSecret,
	}
}

// testServer is the migrate server behind httptest, with all three recipes on,
// a count of migration hook calls, and the errors ErrorHook got.
type testServer struct {
	m   *cookiesession.Manager
	srv *httptest.Server

	mu    sync.Mutex
	calls int
	errs  []error
}

func newServer(t *testing.T) *testServer {
	t.Helper()
	s := &testServer{}
	env := testEnv()
	k, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	env["COOKIESESSION_KEYS"] = kr.Marshal()
	kr, cfg, err := server.Config(func(k string) string { return env[k] }, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Insecure = true // plain HTTP on loopback
	cfg.ErrorHook = func(_ *http.Request, err error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.errs = append(s.errs, err)
	}
	load := cfg.Migration.Load
	cfg.Migration.Load = func(r *http.Request, sess *cookiesession.Session) error {
		s.mu.Lock()
		s.calls++
		s.mu.Unlock()
		return load(r, sess)
	}
	if s.m, err = cookiesession.New(kr, cfg); err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(server.Handler(s.m))
	t.Cleanup(s.srv.Close)
	return s
}

// reply is one response of GET /visits.
type reply struct {
	body    string
	session string   // the cookiesession cookie written, if any
	deleted []string // Set-Cookie lines with Max-Age=0
}

// visit sends GET /visits with the Cookie header cookie.
func (s *testServer) visit(t *testing.T, cookie string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+"/visits", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	r := reply{body: strings.TrimSpace(string(body))}
	for _, l := range resp.Header.Values("Set-Cookie") {
		switch {
		case strings.Contains(l, "Max-Age=0"):
			r.deleted = append(r.deleted, l)
		case strings.HasPrefix(l, "cookiesession="):
			r.session, _, _ = strings.Cut(strings.TrimPrefix(l, "cookiesession="), ";")
		}
	}
	slices.Sort(r.deleted)
	return r
}

// take returns the hook calls and errors since the last take.
func (s *testServer) take() (int, []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls, errs := s.calls, s.errs
	s.calls, s.errs = 0, nil
	return calls, errs
}

// open returns the session sealed in a cookiesession cookie value.
func (s *testServer) open(t *testing.T, value string) *cookiesession.Session {
	t.Helper()
	sess, err := s.m.LoadHeader(context.Background(), "cookiesession="+value)
	if err != nil {
		t.Fatalf("the new cookie does not open: %v", err)
	}
	return sess
}

// legacyCookies are the cookies of one legacy format a test made.
type legacyCookies struct {
	// valid ones hold visits 41 and user "ada", by description.
	valid map[string]string
	// bad ones must not migrate; at least tampered, expired and wrongkey.
	bad map[string]badCookie
}

type badCookie struct {
	value string
	want  error  // an error the recipe's error wraps, for errors.Is
	text  string // or, where the library exports none, text in the error
}

// formats are the three legacy formats, each with the cookie name the
// server reads and a maker of test cookies (in the format's test file).
var formats = []struct {
	name, cookie string
	make         func(t *testing.T) legacyCookies
}{
	{"gorilla", "session", gorillaCookies},
	{"django", "sessionid", djangoCookies},
	{"jwt", "jwt", jwtCookies},
}

// TestMigrateEachFormat runs the server end to end for each legacy format:
// visits 41 become 42 with the data kept and the legacy cookie deleted;
// cookies that do not verify give a fresh session and an ErrorHook call; a
// valid new cookie wins over a legacy one, which is deleted; and once
// migrated, requests no longer call the hook.
func TestMigrateEachFormat(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			cookies := f.make(t)
			s := newServer(t)
			del := []string{f.cookie + "=; Path=/; Max-Age=0"}
			for _, name := range slices.Sorted(maps.Keys(cookies.valid)) {
				value := cookies.valid[name]
				t.Run("valid "+name, func(t *testing.T) {
					r := s.visit(t, "other=1; "+f.cookie+"="+value)
					if want := "You have visited this page 42 times."; r.body != want {
						t.Errorf("body %q, want %q", r.body, want)
					}
					if diff := cmp.Diff(del, r.deleted); diff != "" {
						t.Errorf("deleted (-want +got):\n%s", diff)
					}
					calls, errs := s.take()
					if calls != 1 || errs != nil {
						t.Errorf("hook calls %d, errors %v; want 1 and none", calls, errs)
					}
					if r.session == "" {
						t.Fatal("no cookiesession cookie")
					}
					sess := s.open(t, r.session)
					user, _, err := cookiesession.Get[string](sess, "user")
					if user != "ada" || err != nil {
						t.Errorf("user %q (%v), want the legacy session's ada", user, err)
					}

					// The browser now sends the new cookie alone.
					r = s.visit(t, "cookiesession="+r.session)
					if want := "You have visited this page 43 times."; r.body != want {
						t.Errorf("second request: body %q, want %q", r.body, want)
					}
					if calls, errs := s.take(); calls != 0 || errs != nil {
						t.Errorf("second request: hook calls %d, errors %v; want none", calls, errs)
					}
				})
			}
			for _, name := range slices.Sorted(maps.Keys(cookies.bad)) {
				bad := cookies.bad[name]
				t.Run(name, func(t *testing.T) {
					r := s.visit(t, f.cookie+"="+bad.value)
					if want := "You have visited this page 1 times."; r.body != want {
						t.Errorf("body %q, want a fresh session's %q", r.body, want)
					}
					if diff := cmp.Diff(del, r.deleted); diff != "" {
						t.Errorf("deleted (-want +got):\n%s", diff)
					}
					calls, errs := s.take()
					if calls != 1 || len(errs) != 1 {
						t.Fatalf("hook calls %d, errors %v; want 1 and 1", calls, errs)
					}
					err := errs[0]
					if !errors.Is(err, cookiesession.ErrMigration) ||
						bad.want != nil && !errors.Is(err, bad.want) ||
						!strings.Contains(err.Error(), bad.text) {
						t.Errorf("ErrorHook got %v; want ErrMigration wrapping %v %q", err, bad.want, bad.text)
					}
				})
			}
			t.Run("new cookie wins", func(t *testing.T) {
				first := s.visit(t, "")
				s.take()
				for _, value := range cookies.valid {
					r := s.visit(t, f.cookie+"="+value+"; cookiesession="+first.session)
					if want := "You have visited this page 2 times."; r.body != want {
						t.Errorf("body %q, want %q: the legacy cookie was read", r.body, want)
					}
					if diff := cmp.Diff(del, r.deleted); diff != "" {
						t.Errorf("deleted (-want +got):\n%s", diff)
					}
					if calls, errs := s.take(); calls != 0 || errs != nil {
						t.Errorf("hook calls %d, errors %v; want none", calls, errs)
					}
				}
			})
		})
	}
}

// A request with two legacy cookies migrates from the first in the
// server's order (gorilla, Django, JWT), and both are deleted.
func TestMigrateTwoLegacyCookies(t *testing.T) {
	s := newServer(t)
	g, j := gorillaCookies(t), jwtCookies(t)
	r := s.visit(t, "jwt="+j.bad["expired"].value+"; session="+g.valid["visits 41"])
	if want := "You have visited this page 42 times."; r.body != want {
		t.Errorf("body %q, want %q", r.body, want)
	}
	want := []string{"jwt=; Path=/; Max-Age=0", "session=; Path=/; Max-Age=0"}
	if diff := cmp.Diff(want, r.deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if calls, errs := s.take(); calls != 1 || errs != nil {
		t.Errorf("hook calls %d, errors %v; want 1 and none", calls, errs)
	}
}

// Run, as go run ./examples/migrate calls it: it prints where it listens,
// migrates a legacy cookie over real HTTP, and stops with its context.
func TestRun(t *testing.T) {
	env := testEnv()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, "127.0.0.1:0", false, func(k string) string { return env[k] }, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q", line)
	}
	// Run's clock is the real one: a token good for an hour from testNow.
	tok := jwtCookies(t).valid["HS256"]
	req, _ := http.NewRequest(http.MethodGet, url+"visits", nil)
	req.Header.Set("Cookie", "jwt="+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.TrimSpace(string(body)); got != "You have visited this page 42 times." {
		t.Errorf("body %q", got)
	}
	// Secure on loopback too: -insecure is off.
	if !slices.Contains(resp.Header.Values("Set-Cookie"), "jwt=; Path=/; Max-Age=0; Secure") {
		t.Errorf("Set-Cookie %q: no deletion of jwt", resp.Header.Values("Set-Cookie"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v after its context ended", err)
	}
}
