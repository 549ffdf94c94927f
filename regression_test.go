package cookiesession

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Regression tests for bugs found in review of the session layer.

// rgEnv is a manager on a one-key keyring with a test clock, whose error
// hook records what it gets.
type rgEnv struct {
	kr    *Keyring
	clock *testClock
	mu    sync.Mutex
	errs  []error
}

func rgNew(t *testing.T) *rgEnv {
	t.Helper()
	kr, err := NewKeyring(testKey(t, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	return &rgEnv{kr: kr, clock: newTestClock(t0)}
}

func (e *rgEnv) manager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	cfg.Now = e.clock.Now
	cfg.ErrorHook = func(_ *http.Request, err error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.errs = append(e.errs, err)
	}
	plainName(&cfg)
	m, err := New(e.kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *rgEnv) hooked() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

// rgCookie saves a session holding values under m and returns the Cookie
// header a browser would send back.
func rgCookie(t *testing.T, m *Manager, values map[string]any) string {
	t.Helper()
	s, _ := m.LoadHeader(t.Context(), "")
	for k, v := range values {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	lines, err := m.SetCookieHeaders(s)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, l := range lines {
		pair, _, _ := strings.Cut(l, ";")
		pairs = append(pairs, pair)
	}
	return strings.Join(pairs, "; ")
}

// rgHex is n characters of hex that DEFLATE cannot shrink much.
func rgHex(n int) string {
	var b strings.Builder
	x := uint32(12345)
	for b.Len() < n {
		x = x*1664525 + 1013904223
		fmt.Fprintf(&b, "%08x", x)
	}
	return b.String()[:n]
}

func rgServe(h http.Handler, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A session read for the first time after the header went out personalises
// a response that has no Vary: Cookie. That must be reported.
func TestRegressionLateFirstUseReported(t *testing.T) {
	e := rgNew(t)
	m := e.manager(t, Config{})
	cookie := rgCookie(t, m, map[string]any{"user": "ada"})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		u, _, _ := Get[string](FromContext(r.Context()), "user")
		fmt.Fprint(w, u)
	}))
	rec := rgServe(h, cookie)
	if rec.Body.String() != "ada" || rec.Header().Get("Vary") != "" {
		t.Fatalf("body %q, Vary %q", rec.Body.String(), rec.Header().Get("Vary"))
	}
	errs := e.hooked()
	if len(errs) != 1 || !errors.Is(errs[0], ErrHeaderWritten) {
		t.Fatalf("ErrorHook got %v, want one ErrHeaderWritten", errs)
	}
}

// Lowering MaxChunks must not strand the chunks a larger MaxChunks wrote.
func TestRegressionChunksBeyondLoweredMaxChunks(t *testing.T) {
	e := rgNew(t)
	m3 := e.manager(t, Config{ValueCompressThreshold: -1})
	cookie := rgCookie(t, m3, map[string]any{"cart": rgHex(3500)})
	if !strings.Contains(cookie, "session.1=") {
		t.Fatalf("setup: want 2 chunks, got %q", cookie[:40])
	}
	m1 := e.manager(t, Config{MaxChunks: 1})
	for _, destroy := range []bool{false, true} {
		s, err := m1.LoadHeader(t.Context(), cookie)
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("load under MaxChunks 1: %v, want ErrMalformed (count over the maximum)", err)
		}
		if destroy {
			s.Destroy()
		} else {
			s.Set("n", 1)
		}
		lines, err := m1.SetCookieHeaders(s)
		if err != nil {
			t.Fatal(err)
		}
		if !slicesContainPrefix(lines, "session.1=; ") {
			t.Errorf("destroy=%v: session.1 not deleted: %q", destroy, lines)
		}
	}
}

func slicesContainPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// The clock is read once per save: a tick between two reads could make an
// expiry of now+1 look past.
func TestRegressionSaveReadsClockOnce(t *testing.T) {
	e := rgNew(t)
	m := e.manager(t, Config{})
	s, _ := m.LoadHeader(t.Context(), "")
	s.Set("a", 1)
	s.SetExpiry(Expiry{Lifetime: time.Second}) // deadline t0+1
	e.clock.Add(time.Second)                   // the clock ticks after save took now = t0
	if _, err := m.save(&s.st, t0); err != nil {
		t.Fatalf("save: %v", err)
	}
}

// An unmodified session whose renewal no longer fits the budget keeps its
// cookie: the request succeeds and the hook hears about it. Here a longer
// Path leaves less room in each of the MaxChunks cookies. (A session over a
// lowered MaxSize is not read at all: SPEC.md §14.2, step 4.)
func TestRegressionRenewalOverBudgetKeepsCookie(t *testing.T) {
	e := rgNew(t)
	cfg := Config{IdleTimeout: time.Hour, ValueCompressThreshold: -1, MaxChunks: 2, MaxSize: 8192}
	cookie := rgCookie(t, e.manager(t, cfg), map[string]any{"cart": rgHex(4800)})
	cfg.Path = "/" + strings.Repeat("p", 1000)
	m := e.manager(t, cfg)
	e.clock.Add(20 * time.Minute) // renewal due
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok, _ := Get[string](FromContext(r.Context()), "cart")
		fmt.Fprint(w, ok)
	}))
	rec := rgServe(h, cookie)
	if rec.Code != http.StatusOK || rec.Body.String() != "true" || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Fatalf("status %d body %q Set-Cookie %q", rec.Code, rec.Body.String(), rec.Header().Values("Set-Cookie"))
	}
	errs := e.hooked()
	if len(errs) != 1 || !errors.Is(errs[0], ErrTooLarge) {
		t.Fatalf("ErrorHook got %v, want one ErrTooLarge", errs)
	}

	// A modified session over the budget still fails the response.
	h = m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("n", 1)
	}))
	if rec := rgServe(h, cookie); rec.Code != http.StatusInternalServerError {
		t.Fatalf("modified over budget: status %d, want 500", rec.Code)
	}
}

// Changes made by Validate are not changes after the header.
// A session written by an instance with a larger MaxSize (a rollout that
// raises it, or its rollback) is not read by one with the default, but its
// cookies stay: a read-only request gets a fresh session and the hook
// hears, and the next request to the larger instance still opens it. Only
// a new session written in its place replaces them.
func TestRegressionSmallerMaxSizeKeepsCookie(t *testing.T) {
	for _, migrating := range []bool{false, true} {
		t.Run(fmt.Sprintf("migration=%v", migrating), func(t *testing.T) {
			// With a Migration, a browser that holds a cookiesession cookie
			// keeps holding one (an empty session in place of a refused
			// one), but not in place of a cookie that may open elsewhere.
			var mig Migration
			if migrating {
				mig = Migration{Cookies: []LegacyCookie{{Name: "legacy"}}, Load: func(*http.Request, *Session) error { return nil }}
			}
			testSmallerMaxSizeKeepsCookie(t, mig)
		})
	}
}

func testSmallerMaxSizeKeepsCookie(t *testing.T, mig Migration) {
	e := rgNew(t)
	large := e.manager(t, Config{MaxSize: 8192, ValueCompressThreshold: -1})
	cookie := rgCookie(t, large, map[string]any{"cart": rgHex(5200)})
	if n := strings.Count(cookie, "="); n != 2 {
		t.Fatalf("the session takes %d cookies, want 2: %.80s", n, cookie)
	}
	small := e.manager(t, Config{Migration: mig})
	read := small.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, FromContext(r.Context()).Has("cart"))
	}))
	rec := rgServe(read, cookie)
	if rec.Code != http.StatusOK || rec.Body.String() != "false" {
		t.Fatalf("status %d, body %q; want 200 and a fresh session", rec.Code, rec.Body.String())
	}
	if sc := rec.Header().Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("a read-only request deleted the larger instance's cookies: %q", sc)
	}
	if errs := e.hooked(); len(errs) != 1 || !errors.Is(errs[0], ErrTooLarge) {
		t.Fatalf("ErrorHook got %v, want one ErrTooLarge", errs)
	}
	// Back on the larger instance, the session is there.
	s, err := large.LoadHeader(t.Context(), cookie)
	if err != nil || !s.Has("cart") {
		t.Fatalf("the larger instance no longer opens the session: %v", err)
	}
	// A session written in its place replaces both cookies.
	write := small.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("n", 1)
	}))
	lines := rgServe(write, cookie).Header().Values("Set-Cookie")
	if len(lines) != 2 || !slicesContainPrefix(lines, "session.1=;") {
		t.Fatalf("a new session did not replace the old cookies: %q", lines)
	}
}

func TestRegressionValidateChangeNotLate(t *testing.T) {
	e := rgNew(t)
	cookie := rgCookie(t, e.manager(t, Config{}), map[string]any{"a": 1})
	m := e.manager(t, Config{
		SaveEveryRequest: true,
		Validate:         func(_ context.Context, s *Session) error { return s.Set("seen", 1) },
	})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "x") }))
	rec := rgServe(h, cookie)
	if len(rec.Header().Values("Set-Cookie")) != 1 {
		t.Fatalf("Set-Cookie %q, want one line", rec.Header().Values("Set-Cookie"))
	}
	if errs := e.hooked(); len(errs) != 0 {
		t.Fatalf("ErrorHook got %v, want nothing", errs)
	}
}

// scribbler decodes JSON and then overwrites its input, as a serializer
// that decodes in place may.
type scribbler struct{}

func (scribbler) Marshal(v any) ([]byte, error) { return json.Marshal(v) }
func (scribbler) Unmarshal(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	clear(data)
	return err
}

// Custom serializers get a private copy of a stored value, as the
// Serializer documentation promises.
func TestRegressionCustomSerializerGetsCopy(t *testing.T) {
	e := rgNew(t)
	m := e.manager(t, Config{Codec: Options{Serializer: scribbler{}}})
	s, _ := m.LoadHeader(t.Context(), "")
	s.Set("user", "ada")
	for range 2 {
		if v, _, err := Get[string](s, "user"); v != "ada" || err != nil {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
}

// After Destroy a session is new, with a fresh expiry.
func TestRegressionAfterDestroy(t *testing.T) {
	e := rgNew(t)
	m := e.manager(t, Config{})
	cookie := rgCookie(t, m, map[string]any{"a": 1})
	e.clock.Add(time.Hour)
	s, _ := m.LoadHeader(t.Context(), cookie)
	s.Destroy()
	want := e.clock.Now().Add(DefaultLifetime)
	if !s.IsNew() || !s.Expiry().Equal(want) {
		t.Fatalf("after Destroy: IsNew %v, Expiry %v, want true, %v", s.IsNew(), s.Expiry(), want)
	}
}

// A loaded session owns its values: loading another session, which reuses
// the pooled buffers, must not change them.
func TestRegressionLoadedValuesOwned(t *testing.T) {
	e := rgNew(t)
	m := e.manager(t, Config{})
	a := rgCookie(t, m, map[string]any{"user": "ada", "cart": []string{"tea"}})
	b := rgCookie(t, m, map[string]any{"user": "bob", "cart": []string{"mug"}})
	sa, err := m.LoadHeader(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.LoadHeader(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	user, _, _ := Get[string](sa, "user")
	cart, _, _ := Get[[]string](sa, "cart")
	if user != "ada" || len(cart) != 1 || cart[0] != "tea" {
		t.Fatalf("session A reads user %q, cart %q after loading B", user, cart)
	}
}

// Renew restarts the lifetime, unless SetExpiry set one for this session.
func TestRegressionRenewRestartsLifetime(t *testing.T) {
	e := rgNew(t)
	m := e.manager(t, Config{Lifetime: 10 * time.Hour})
	cookie := rgCookie(t, m, map[string]any{"user": "ada"})
	e.clock.Add(4 * time.Hour)
	for _, tt := range []struct {
		name      string
		setExpiry time.Duration
		want      string
	}{
		{"policy lifetime", 0, "Max-Age=36000"},       // 10 h from the renewal
		{"SetExpiry kept", time.Hour, "Max-Age=3600"}, // the explicit hour stands
	} {
		s, _ := m.LoadHeader(t.Context(), cookie)
		if tt.setExpiry != 0 {
			s.SetExpiry(Expiry{Lifetime: tt.setExpiry})
		}
		s.Renew()
		lines, err := m.SetCookieHeaders(s)
		if err != nil || len(lines) != 1 || !strings.HasSuffix(lines[0], "; "+tt.want) {
			t.Errorf("%s: Set-Cookie %q, %v; want %s", tt.name, lines, err, tt.want)
		}
	}
}

// JSONSerializer does not spend six bytes on each <, > and &, and otherwise
// writes what json.Marshal writes.
func TestJSONSerializerNoHTMLEscape(t *testing.T) {
	for _, v := range []any{"<b>Tom & Jerry</b>", map[string]any{"a<": []int{1, 2}}, json.RawMessage(` {"x" : "&"} `), 3.5, nil} {
		got, err := JSONSerializer{}.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		want = []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(want)))
		if string(got) != string(want) {
			t.Errorf("Marshal(%v) = %s, want %s", v, got, want)
		}
	}
	if _, err := (JSONSerializer{}).Marshal(make(chan int)); err == nil {
		t.Error("Marshal of a channel: no error")
	}
}
