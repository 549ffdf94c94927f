package cookiesession

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stEnv is a manager with the keyring and clock it uses: key 1 primary,
// key 2 decrypt-only, the clock at t0.
type stEnv struct {
	kr    *Keyring
	clock *testClock
	m     *Manager
}

func stNew(t testing.TB, cfg Config) stEnv {
	t.Helper()
	kr, err := NewKeyring(testKey(t, 1, 1), testKey(t, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	clock := newTestClock(t0)
	return stEnv{kr, clock, stManager(t, kr, clock, cfg)}
}

// stManager returns a manager on kr whose clock is clock.
func stManager(t testing.TB, kr *Keyring, clock *testClock, cfg Config) *Manager {
	t.Helper()
	cfg.Now = clock.Now
	plainName(&cfg)
	m, err := New(kr, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// stLoad loads header and fails the test on error.
func stLoad(t testing.TB, m *Manager, header string) *Session {
	t.Helper()
	s, err := m.LoadHeader(context.Background(), header)
	if err != nil {
		t.Fatalf("LoadHeader: %v", err)
	}
	return s
}

// stSave returns s's Set-Cookie lines and fails the test on error.
func stSave(t testing.TB, m *Manager, s *Session) []string {
	t.Helper()
	lines, err := m.SetCookieHeaders(s)
	if err != nil {
		t.Fatalf("SetCookieHeaders: %v", err)
	}
	return lines
}

// stRoundTrip saves s and loads what a browser would send back.
func stRoundTrip(t testing.TB, m *Manager, s *Session) (*Session, string) {
	t.Helper()
	h := stHeader(t, stSave(t, m, s))
	if h == "" {
		t.Fatal("save wrote no cookie")
	}
	return stLoad(t, m, h), h
}

// stCookie is one parsed Set-Cookie line.
type stCookie struct {
	name, value string
	attrs       string // everything after the value, with its leading "; "
	maxAge      int    // -1: no Max-Age
}

func stParse(t testing.TB, line string) stCookie {
	t.Helper()
	name, rest, ok := strings.Cut(line, "=")
	if !ok {
		t.Fatalf("Set-Cookie %q has no '='", line)
	}
	c := stCookie{name: name, value: rest, maxAge: -1}
	if i := strings.Index(rest, "; "); i >= 0 {
		c.value, c.attrs = rest[:i], rest[i:]
	}
	if i := strings.Index(c.attrs, "; Max-Age="); i >= 0 {
		n, err := strconv.Atoi(c.attrs[i+len("; Max-Age="):])
		if err != nil {
			t.Fatalf("Set-Cookie %q: bad Max-Age", line)
		}
		c.maxAge = n
	}
	return c
}

// stHeader is the Cookie header a browser sends after receiving lines
// (starting from no cookies).
func stHeader(t testing.TB, lines []string) string {
	t.Helper()
	var pairs []string
	for _, l := range lines {
		c := stParse(t, l)
		if c.maxAge != 0 {
			pairs = append(pairs, c.name+"="+c.value)
		}
	}
	return strings.Join(pairs, "; ")
}

// stSummary describes lines as "name maxAge" entries, for cmp.
func stSummary(t testing.TB, lines []string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		c := stParse(t, l)
		kind := "set"
		if c.maxAge == 0 {
			kind = "delete"
		}
		out = append(out, c.name+" "+kind)
	}
	return out
}

type stProfile struct {
	Name   string
	Age    int
	Tags   []string
	Prefs  map[string]bool
	Joined time.Time
	Boss   *stProfile
}

func TestSessionGetRoundTrip(t *testing.T) {
	e := stNew(t, Config{})
	profile := stProfile{
		Name: "ada", Age: 36, Tags: []string{"admin", "ops"},
		Prefs:  map[string]bool{"dark": true, "beta": false},
		Joined: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
		Boss:   &stProfile{Name: "charles"},
	}
	tests := []struct {
		key string
		in  any
		get func(*Session, string) (any, bool, error)
	}{
		{"str", "héllo; \"world\"", func(s *Session, k string) (any, bool, error) { return Get[string](s, k) }},
		{"empty", "", func(s *Session, k string) (any, bool, error) { return Get[string](s, k) }},
		{"int", -42, func(s *Session, k string) (any, bool, error) { return Get[int](s, k) }},
		{"int64", int64(1) << 53, func(s *Session, k string) (any, bool, error) { return Get[int64](s, k) }},
		{"slice", []int{3, 1, 2}, func(s *Session, k string) (any, bool, error) { return Get[[]int](s, k) }},
		{"map", map[string]int{"a": 1, "b": 2}, func(s *Session, k string) (any, bool, error) { return Get[map[string]int](s, k) }},
		{"struct", profile, func(s *Session, k string) (any, bool, error) { return Get[stProfile](s, k) }},
	}
	s := stLoad(t, e.m, "")
	for _, tt := range tests {
		if err := s.Set(tt.key, tt.in); err != nil {
			t.Fatalf("Set(%q): %v", tt.key, err)
		}
	}
	loaded, _ := stRoundTrip(t, e.m, s)
	for _, tt := range tests {
		for name, sess := range map[string]*Session{"before save": s, "after load": loaded} {
			got, ok, err := tt.get(sess, tt.key)
			if err != nil || !ok {
				t.Errorf("%s: Get(%q) = _, %v, %v", name, tt.key, ok, err)
				continue
			}
			if d := cmp.Diff(tt.in, got); d != "" {
				t.Errorf("%s: Get(%q) (-want +got):\n%s", name, tt.key, d)
			}
		}
	}
	// A result is decoded afresh: changing it does not change the session.
	sl, _, _ := Get[[]int](loaded, "slice")
	sl[0] = 99
	if again, _, _ := Get[[]int](loaded, "slice"); again[0] != 3 {
		t.Errorf("changing a Get result changed the session: %v", again)
	}
}

func TestSessionGetMissingAndWrongType(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	if err := s.Set("name", "ada"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := Get[int](s, "nope"); v != 0 || ok || err != nil {
		t.Errorf("Get[int] missing = %v, %v, %v; want 0, false, nil", v, ok, err)
	}
	if v, ok, err := Get[[]string](s, "nope"); v != nil || ok || err != nil {
		t.Errorf("Get[[]string] missing = %v, %v, %v; want nil, false, nil", v, ok, err)
	}
	if v, ok, err := Get[stProfile](s, "nope"); !cmp.Equal(v, stProfile{}) || ok || err != nil {
		t.Errorf("Get[stProfile] missing = %v, %v, %v", v, ok, err)
	}
	loaded, _ := stRoundTrip(t, e.m, s)
	for name, sess := range map[string]*Session{"before save": s, "after load": loaded} {
		v, ok, err := Get[int](sess, "name")
		if v != 0 || !ok || !errors.Is(err, ErrValueType) {
			t.Errorf("%s: Get[int] of a string = %v, %v, %v; want 0, true, ErrValueType", name, v, ok, err)
		}
	}
}

func TestSessionPop(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	s.Set("flash", "saved!")
	s.Set("n", "not a number")
	s, _ = stRoundTrip(t, e.m, s)

	if v, ok, err := Pop[int](s, "n"); v != 0 || !ok || !errors.Is(err, ErrValueType) {
		t.Errorf("Pop[int] of a string = %v, %v, %v; want 0, true, ErrValueType", v, ok, err)
	}
	if !s.Has("n") {
		t.Error("a failed Pop removed the key")
	}
	if v, ok, err := Pop[string](s, "missing"); v != "" || ok || err != nil {
		t.Errorf("Pop missing = %q, %v, %v", v, ok, err)
	}
	if lines := stSave(t, e.m, s); len(lines) != 0 {
		t.Errorf("failed and missing Pops caused a save: %q", lines)
	}
	if v, ok, err := Pop[string](s, "flash"); v != "saved!" || !ok || err != nil {
		t.Errorf("Pop = %q, %v, %v; want saved!, true, nil", v, ok, err)
	}
	if s.Has("flash") {
		t.Error("Pop did not remove the key")
	}
	next, _ := stRoundTrip(t, e.m, s)
	if diff := cmp.Diff([]string{"n"}, next.Keys()); diff != "" {
		t.Errorf("keys after Pop and save (-want +got):\n%s", diff)
	}
}

func TestSessionModifiedTracking(t *testing.T) {
	tests := []struct {
		name string
		do   func(*Session)
		want []string // stSummary of the lines
	}{
		{"nothing", func(*Session) {}, nil},
		{"reads", func(s *Session) {
			Get[int](s, "a")
			s.Has("a")
			s.Keys()
			s.Len()
			s.ID()
			s.IsNew()
			s.Expiry()
		}, nil},
		{"delete missing", func(s *Session) { s.Delete("zz") }, nil},
		{"pop missing", func(s *Session) { Pop[int](s, "zz") }, nil},
		{"pop wrong type", func(s *Session) { Pop[int](s, "b") }, nil},
		{"set unserializable", func(s *Session) { s.Set("c", make(chan int)) }, nil},
		{"set", func(s *Session) { s.Set("c", 3) }, []string{"session set"}},
		{"set same value", func(s *Session) { s.Set("a", 1) }, []string{"session set"}},
		{"delete present", func(s *Session) { s.Delete("a") }, []string{"session set"}},
		{"pop present", func(s *Session) { Pop[int](s, "a") }, []string{"session set"}},
		{"delete all", func(s *Session) { s.Delete("a"); s.Delete("b") }, []string{"session delete"}},
		{"clear", func(s *Session) { s.Clear() }, []string{"session delete"}},
		{"renew", func(s *Session) { s.Renew() }, []string{"session set"}},
		{"set expiry", func(s *Session) { s.SetExpiry(Expiry{Lifetime: time.Hour}) }, []string{"session set"}},
	}
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	s.Set("a", 1)
	s.Set("b", "x")
	header := stHeader(t, stSave(t, e.m, s))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stLoad(t, e.m, header)
			tt.do(s)
			if diff := cmp.Diff(tt.want, stSummary(t, stSave(t, e.m, s))); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionHasKeysLen(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	if s.Len() != 0 || len(s.Keys()) != 0 || s.Has("a") {
		t.Fatalf("new session: Len %d, Keys %q, Has(a) %v", s.Len(), s.Keys(), s.Has("a"))
	}
	for _, k := range []string{"b", "a", "C", "a", "ä", ""} {
		s.Set(k, k)
	}
	want := []string{"", "C", "a", "b", "ä"}
	loaded, _ := stRoundTrip(t, e.m, s)
	for name, sess := range map[string]*Session{"before save": s, "after load": loaded} {
		if diff := cmp.Diff(want, sess.Keys()); diff != "" {
			t.Errorf("%s: Keys (-want +got):\n%s", name, diff)
		}
		if sess.Len() != len(want) || !sess.Has("ä") || !sess.Has("") || sess.Has("A") {
			t.Errorf("%s: Len %d, Has(ä) %v, Has(\"\") %v, Has(A) %v", name, sess.Len(), sess.Has("ä"), sess.Has(""), sess.Has("A"))
		}
	}
}

func TestSessionSetUnserializable(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	s.Set("a", "old")
	for _, v := range []any{make(chan int), func() {}, map[bool]int{true: 1}} {
		if err := s.Set("a", v); err == nil {
			t.Errorf("Set(%T) gave no error", v)
		}
		if err := s.Set("new", v); err == nil {
			t.Errorf("Set(%T) gave no error", v)
		}
	}
	if got, _, _ := Get[string](s, "a"); got != "old" || s.Has("new") || s.Len() != 1 {
		t.Errorf("failed Set changed the session: a=%q, keys %q", got, s.Keys())
	}
}

var stHexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestSessionID(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	id := s.ID()
	if !stHexID.MatchString(id) {
		t.Fatalf("ID %q is not 32 lowercase hex digits", id)
	}
	if other := stLoad(t, e.m, "").ID(); other == id {
		t.Errorf("two new sessions share ID %s", id)
	}
	s.Set("k", 1)
	loaded, _ := stRoundTrip(t, e.m, s)
	if loaded.ID() != id {
		t.Errorf("ID after save and load = %s, want %s", loaded.ID(), id)
	}
	loaded.Set("k", 2)
	again, _ := stRoundTrip(t, e.m, loaded)
	if again.ID() != id {
		t.Errorf("ID after a second save = %s, want %s", again.ID(), id)
	}

	again.Renew()
	renewed := again.ID()
	if renewed == id || !stHexID.MatchString(renewed) {
		t.Errorf("ID after Renew = %q (was %s)", renewed, id)
	}
	afterRenew, _ := stRoundTrip(t, e.m, again)
	if afterRenew.ID() != renewed {
		t.Errorf("renewed ID did not persist: %s, want %s", afterRenew.ID(), renewed)
	}
	if v, _, _ := Get[int](afterRenew, "k"); v != 2 {
		t.Errorf("Renew lost data: k = %d", v)
	}

	afterRenew.Destroy()
	if afterRenew.ID() == renewed || afterRenew.Len() != 0 {
		t.Errorf("after Destroy: ID %s (was %s), Len %d", afterRenew.ID(), renewed, afterRenew.Len())
	}
}

// A session without an ID yet gets one ID for reading and saving.
func TestSessionIDBeforeSave(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	s.Set("k", 1)
	loaded, _ := stRoundTrip(t, e.m, s)
	if s.ID() != loaded.ID() {
		t.Errorf("ID read after save %s differs from the loaded ID %s", s.ID(), loaded.ID())
	}
}

func TestSessionIsNew(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	if !s.IsNew() {
		t.Error("session from no cookie is not new")
	}
	s.Set("k", 1)
	loaded, header := stRoundTrip(t, e.m, s)
	if loaded.IsNew() {
		t.Error("session from a cookie is new")
	}
	bad, err := e.m.LoadHeader(context.Background(), header+"x")
	if err == nil || !bad.IsNew() || bad.Len() != 0 {
		t.Errorf("tampered cookie: err %v, IsNew %v, Len %d", err, bad.IsNew(), bad.Len())
	}
}

func TestSessionDestroyDeletesEveryChunk(t *testing.T) {
	e := stNew(t, Config{MaxChunks: 4})
	s := stLoad(t, e.m, "")
	s.Set("k", 1)
	loaded, header := stRoundTrip(t, e.m, s)
	loaded.Destroy()
	// The first cookie's deletion comes last, for curl (see save).
	want := []string{"session.3 delete", "session.2 delete", "session.1 delete", "session delete"}
	if diff := cmp.Diff(want, stSummary(t, stSave(t, e.m, loaded))); diff != "" {
		t.Errorf("Destroy lines (-want +got):\n%s", diff)
	}

	// Values set after Destroy start a new session.
	loaded = stLoad(t, e.m, header)
	old := loaded.ID()
	loaded.Destroy()
	loaded.Set("fresh", true)
	want = []string{"session set", "session.3 delete", "session.2 delete", "session.1 delete"}
	lines := stSave(t, e.m, loaded)
	if diff := cmp.Diff(want, stSummary(t, lines)); diff != "" {
		t.Errorf("Destroy then Set lines (-want +got):\n%s", diff)
	}
	next := stLoad(t, e.m, stHeader(t, lines))
	if next.ID() == old || next.Has("k") || !next.Has("fresh") {
		t.Errorf("after Destroy+Set: ID %s (old %s), keys %q", next.ID(), old, next.Keys())
	}
}

func TestSessionConcurrentUse(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				s.Set(strconv.Itoa(g), i)
				Get[int](s, strconv.Itoa((g+1)%8))
				s.Keys()
			}
		})
	}
	wg.Wait()
	if s.Len() != 8 {
		t.Errorf("Len = %d, want 8", s.Len())
	}
	loaded, _ := stRoundTrip(t, e.m, s)
	if v, _, _ := Get[int](loaded, "3"); v != 49 {
		t.Errorf(`"3" = %d, want 49`, v)
	}
}
