package cookiesession

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stSaved returns the Set-Cookie lines of a new session holding k=v, sealed
// now under e, after first calling prep on it.
func stSaved(t testing.TB, e stEnv, prep func(*Session)) []string {
	t.Helper()
	s := stLoad(t, e.m, "")
	s.Set("k", "v")
	if prep != nil {
		prep(s)
	}
	return stSave(t, e.m, s)
}

// stMaxAges returns the Max-Age of each line (-1: none).
func stMaxAges(t testing.TB, lines []string) []int {
	t.Helper()
	var out []int
	for _, l := range lines {
		out = append(out, stParse(t, l).maxAge)
	}
	return out
}

// stWantFresh checks that a load failed with one of want and gave a new,
// empty session.
func stWantFresh(t testing.TB, s *Session, err error, want ...error) {
	t.Helper()
	if !slices.ContainsFunc(want, func(w error) bool { return errors.Is(err, w) }) {
		t.Errorf("load error %v, want one of %v", err, want)
	}
	if !s.IsNew() || s.Len() != 0 {
		t.Errorf("after a failed load: IsNew %v, keys %q", s.IsNew(), s.Keys())
	}
}

func TestExpiryMaxAge(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name         string
		browser      bool
		prep         func(*Session)
		first, later int // Max-Age when set, and when saved again an hour later
	}{
		{"default lifetime", false, nil, 1209600, 1206000},
		{"browser session", true, nil, -1, -1},
		{"SetExpiry", false, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 30 * day}) }, 2592000, 2588400},
		{"SetExpiry with browser session", true, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 30 * day}) }, 2592000, 2588400},
		{"ResetExpiry reverts", false, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 30 * day}); s.ResetExpiry() }, 1209600, 1206000},
		{"ResetExpiry reverts with browser session", true, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 30 * day}); s.ResetExpiry() }, -1, -1},
		{"SetExpiry of 400 days", false, func(s *Session) { s.SetExpiry(Expiry{Lifetime: 400 * day}) }, 34560000, 34556400},
		{"SetExpiry of a second", false, func(s *Session) { s.SetExpiry(Expiry{Lifetime: time.Second}) }, 1, 0},
		{"browser close", false, func(s *Session) { s.SetExpiry(Expiry{BrowserClose: true}) }, -1, -1},
		{"deadline", false, func(s *Session) { s.SetExpiry(Expiry{Deadline: time.Unix(t0, 0).Add(2*time.Hour + time.Second/2)}) }, 7200, 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := stNew(t, Config{BrowserSession: tt.browser})
			lines := stSaved(t, e, tt.prep)
			if diff := cmp.Diff([]int{tt.first}, stMaxAges(t, lines)); diff != "" {
				t.Fatalf("Max-Age (-want +got):\n%s", diff)
			}
			// A later save keeps the policy, counting from the same start.
			e.clock.Add(time.Hour)
			s, err := e.m.LoadHeader(context.Background(), stHeader(t, lines))
			if tt.later == 0 {
				stWantFresh(t, s, err, ErrExpired)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s.Set("k2", 1)
			if diff := cmp.Diff([]int{tt.later}, stMaxAges(t, stSave(t, e.m, s))); diff != "" {
				t.Errorf("Max-Age an hour later (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpiryValue(t *testing.T) {
	e := stNew(t, Config{})
	s := stLoad(t, e.m, "")
	if got, want := s.Expiry(), time.Unix(t0, 0).Add(DefaultLifetime).UTC(); !got.Equal(want) {
		t.Errorf("Expiry = %v, want %v", got, want)
	}
	if err := s.SetExpiry(Expiry{Lifetime: 400 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Expiry(), time.Unix(t0, 0).Add(400*24*time.Hour).UTC(); !got.Equal(want) {
		t.Errorf("Expiry after SetExpiry(400 days) = %v, want %v", got, want)
	}
}

func TestSetExpiryPastDeadlineDeletes(t *testing.T) {
	e := stNew(t, Config{BrowserSession: true})
	s := stLoad(t, e.m, stHeader(t, stSaved(t, e, nil)))
	if err := s.SetExpiry(Expiry{Deadline: time.Unix(t0-1, 0)}); err != nil {
		t.Fatal(err)
	}
	want := []string{"session=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"}
	if diff := cmp.Diff(want, stSave(t, e.m, s)); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestSealedExpiry(t *testing.T) {
	e := stNew(t, Config{Lifetime: time.Hour})
	header := stHeader(t, stSaved(t, e, nil))
	e.clock.Add(time.Hour - time.Second)
	if s := stLoad(t, e.m, header); s.IsNew() {
		t.Fatal("session expired early")
	}
	e.clock.Add(time.Minute) // past the expiry and the clock skew allowance
	s, err := e.m.LoadHeader(context.Background(), header)
	stWantFresh(t, s, err, ErrExpired)
	if diff := cmp.Diff([]string{"session delete"}, stSummary(t, stSave(t, e.m, s))); diff != "" {
		t.Errorf("expired cookie not deleted (-want +got):\n%s", diff)
	}
}

func TestIdleTimeout(t *testing.T) {
	// Lifetime 2h, idle 40m: re-seal once 10m have passed since the last seal.
	e := stNew(t, Config{Lifetime: 2 * time.Hour, IdleTimeout: 40 * time.Minute})
	lines := stSaved(t, e, nil)
	if diff := cmp.Diff([]int{2400}, stMaxAges(t, lines)); diff != "" {
		t.Fatalf("first Max-Age (-want +got):\n%s", diff)
	}
	first := stHeader(t, lines)
	header := first
	steps := []struct {
		at     time.Duration // since t0
		maxAge int           // 0: no re-seal
	}{
		{9*time.Minute + 59*time.Second, 0},
		{10 * time.Minute, 2400},
		{19 * time.Minute, 0},
		{40 * time.Minute, 2400},
		{70 * time.Minute, 2400},
		{100 * time.Minute, 1200}, // capped by the absolute lifetime
		{115 * time.Minute, 0},    // renewal would not move the expiry
	}
	for _, st := range steps {
		e.clock.Set(time.Unix(t0, 0).Add(st.at))
		s := stLoad(t, e.m, header)
		if s.IsNew() {
			t.Fatalf("at %v: session lost", st.at)
		}
		lines := stSave(t, e.m, s)
		if st.maxAge == 0 {
			if len(lines) != 0 {
				t.Errorf("at %v: re-sealed early: %q", st.at, lines)
			}
			continue
		}
		if diff := cmp.Diff([]int{st.maxAge}, stMaxAges(t, lines)); diff != "" {
			t.Errorf("at %v: Max-Age (-want +got):\n%s", st.at, diff)
		}
		header = stHeader(t, lines)
	}
	e.clock.Set(time.Unix(t0, 0).Add(2*time.Hour + time.Minute))
	s, err := e.m.LoadHeader(context.Background(), header)
	stWantFresh(t, s, err, ErrExpired)

	// The first cookie, never renewed, ends after 40 idle minutes.
	e.clock.Set(time.Unix(t0, 0).Add(41 * time.Minute))
	s, err = e.m.LoadHeader(context.Background(), first)
	stWantFresh(t, s, err, ErrExpired)
}

func TestKeyRotationReseals(t *testing.T) {
	e := stNew(t, Config{})
	header := stHeader(t, stSaved(t, e, nil))
	newID, err := e.kr.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	s := stLoad(t, e.m, header)
	lines := stSave(t, e.m, s)
	if diff := cmp.Diff([]string{"session set"}, stSummary(t, lines)); diff != "" {
		t.Fatalf("unmodified session under a demoted key (-want +got):\n%s", diff)
	}
	buf := new([]byte)
	_, info, err := e.m.codec.openPayload(buf, "session", kindSession, []byte(stParse(t, lines[0]).value), 0, e.m.codec.now().Unix())
	if err != nil || info.KeyID != newID || !info.Primary {
		t.Errorf("re-sealed value: key %v primary %v, err %v; want key %v", info.KeyID, info.Primary, err, newID)
	}
	next := stLoad(t, e.m, stHeader(t, lines))
	if v, _, _ := Get[string](next, "k"); v != "v" || next.ID() != s.ID() {
		t.Errorf("re-sealed session: k=%q, ID %s want %s", v, next.ID(), s.ID())
	}
	if lines := stSave(t, e.m, next); len(lines) != 0 {
		t.Errorf("session under the primary key re-sealed: %q", lines)
	}

	if err := e.kr.Disable(1); err != nil {
		t.Fatal(err)
	}
	s, err = e.m.LoadHeader(context.Background(), header)
	stWantFresh(t, s, err, ErrKeyDisabled)
	if err := e.kr.Remove(1); err != nil {
		t.Fatal(err)
	}
	s, err = e.m.LoadHeader(context.Background(), header)
	stWantFresh(t, s, err, ErrUnknownKey)
}

type stCtxKey struct{}

func TestValidate(t *testing.T) {
	errRevoked := errors.New("revoked")
	var seenID string
	e := stNew(t, Config{Validate: func(ctx context.Context, s *Session) error {
		if ctx.Value(stCtxKey{}) != "req" {
			t.Error("Validate did not get the request's context")
		}
		seenID = s.ID()
		if u, _, _ := Get[string](s, "user"); u == "mallory" {
			return errRevoked
		}
		return nil
	}})
	ctx := context.WithValue(context.Background(), stCtxKey{}, "req")
	for _, user := range []string{"ada", "mallory"} {
		s := stLoad(t, e.m, "") // no cookie: Validate is not called
		s.Set("user", user)
		header := stHeader(t, stSave(t, e.m, s))

		done := make(chan struct{})
		var got *Session
		var err error
		go func() {
			defer close(done)
			got, err = e.m.LoadHeader(ctx, header)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("LoadHeader with a Validate hook that reads the session did not return")
		}
		if seenID != s.ID() {
			t.Errorf("%s: Validate saw ID %q, want %s", user, seenID, s.ID())
		}
		if user == "mallory" {
			stWantFresh(t, got, err, ErrRejected)
			if !errors.Is(err, errRevoked) {
				t.Errorf("error %v does not wrap the hook's error", err)
			}
			continue
		}
		if v, _, _ := Get[string](got, "user"); err != nil || v != user || got.IsNew() {
			t.Errorf("accepted session: user %q, err %v", v, err)
		}
		if lines := stSave(t, e.m, got); len(lines) != 0 {
			t.Errorf("an accepted session that Validate only read was saved: %q", lines)
		}
	}
}

// stChunked returns the three chunk values of a new 3-chunk session.
func stChunked(t testing.TB, e stEnv, blob []byte) []string {
	t.Helper()
	s := stLoad(t, e.m, "")
	s.Set("blob", blob)
	var vals []string
	for _, l := range stSave(t, e.m, s) {
		vals = append(vals, stParse(t, l).value)
	}
	return vals
}

func TestChunkTampering(t *testing.T) {
	e := stNew(t, Config{MaxSize: 16384})
	blob := stBlob(t, e.m, 3)
	a, b := stChunked(t, e, blob), stChunked(t, e, blob)
	two := stChunked(t, e, stBlob(t, e.m, 2))
	one := stChunked(t, e, []byte("x"))
	_, aText, _ := parseCount(a[0])
	// A spliced value may fail base64 decoding before it fails authentication.
	spliced := []error{ErrAuthFailed, ErrMalformed}
	malformed := []error{ErrMalformed}
	tests := []struct {
		name   string
		header string
		want   []error // nil: loads; else any of these
		saved  []string
	}{
		{"intact", "session=" + a[0] + "; session.1=" + a[1] + "; session.2=" + a[2], nil, nil},
		{"any pair order", "session.2=" + a[2] + "; x=1; session.1=" + a[1] + "; session=" + a[0], nil, nil},
		{"dropped middle", "session=" + a[0] + "; session.2=" + a[2], malformed, []string{"session.2 delete", "session delete"}},
		{"dropped last", "session=" + a[0] + "; session.1=" + a[1], malformed, nil},
		{"reordered", "session=" + a[0] + "; session.1=" + a[2] + "; session.2=" + a[1], spliced, nil},
		{"duplicated", "session=" + a[0] + "; session.1=" + a[1] + "; session.2=" + a[1], spliced, nil},
		{"mixed first", "session=" + b[0] + "; session.1=" + a[1] + "; session.2=" + a[2], spliced, nil},
		{"mixed middle", "session=" + a[0] + "; session.1=" + b[1] + "; session.2=" + a[2], spliced, nil},
		{"count lowered", "session=2." + aText + "; session.1=" + a[1], spliced, nil},
		{"count removed", "session=" + aText + "; session.1=" + a[1] + "; session.2=" + a[2], spliced, nil},
		{"count over MaxChunks", "session=4." + aText + "; session.1=" + a[1] + "; session.2=" + a[2], malformed, nil},
		{"count 10", "session=10." + aText + "; session.1=" + a[1] + "; session.2=" + a[2], malformed, nil},
		{"chunks without the first", "session.1=" + a[1] + "; session.2=" + a[2], malformed, []string{"session.2 delete", "session.1 delete"}},
		{"stale chunk after two", "session=" + two[0] + "; session.1=" + two[1] + "; session.2=" + a[2], nil, []string{"session.2 delete"}},
		{"stale chunks after one", "session=" + one[0] + "; session.1=junk; session.2=" + a[2], nil, []string{"session.2 delete", "session.1 delete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := e.m.LoadHeader(context.Background(), tt.header)
			switch {
			case tt.want != nil:
				stWantFresh(t, s, err, tt.want...)
			case err != nil || s.IsNew() || !s.Has("blob"):
				t.Errorf("load: %v (IsNew %v)", err, s.IsNew())
			}
			if tt.saved != nil {
				if diff := cmp.Diff(tt.saved, stSummary(t, stSave(t, e.m, s))); diff != "" {
					t.Errorf("next save (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDuplicateCookies(t *testing.T) {
	e := stNew(t, Config{MaxSize: 16384})
	good := stChunked(t, e, []byte("good"))[0]
	other := stNew(t, Config{Codec: Options{Purpose: "other app"}})
	planted := stChunked(t, other, []byte("planted"))[0]
	e.clock.Add(-30 * 24 * time.Hour)
	expired := stChunked(t, e, []byte("expired"))[0]
	e.clock.Add(30 * 24 * time.Hour)
	big := stBlob(t, e.m, 3)
	a := stChunked(t, e, big)
	garbage := func(n int, name, v string) string {
		return strings.Repeat(name+"="+v+"; ", n)
	}
	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"garbage first", "session=garbage; session=" + good, true},
		{"garbage last", "session=" + good + "; session=garbage", true},
		{"other purpose first", "session=" + planted + "; session=" + good, true},
		{"expired first", "session=" + expired + "; session=" + good, true},
		{"authentic fourth", garbage(maxCandidates-1, "session", "x") + "session=" + good, true},
		{"authentic past the candidates", garbage(maxCandidates, "session", "x") + "session=" + good, false},
		{"chunk duplicate", "session=" + a[0] + "; session.1=" + a[2] + "; session.1=" + a[1] + "; session.2=" + a[2], true},
		{"many duplicates", garbage(500, "session", "3.x") + garbage(500, "session.1", "y") + garbage(500, "session.2", "z"), false},
		{"many chunk duplicates", "session=" + a[0] + "; " + garbage(100, "session.1", a[2]) + garbage(100, "session.2", a[1]), false},
	}
	for _, tt := range tests {
		s, err := e.m.LoadHeader(context.Background(), tt.header)
		if tt.ok && (err != nil || s.IsNew()) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.ok {
			if err == nil || !s.IsNew() {
				t.Errorf("%s: loaded (err %v)", tt.name, err)
			}
			continue
		}
		want := []byte("good")
		if strings.HasPrefix(tt.name, "chunk") {
			want = big
		}
		if got, _, _ := Get[[]byte](s, "blob"); !cmp.Equal(want, got) {
			t.Errorf("%s: loaded the wrong session: blob %.20q", tt.name, got)
		}
	}
}

func TestTooManyCookiePairs(t *testing.T) {
	e := stNew(t, Config{})
	v := stParse(t, stSaved(t, e, nil)[0]).value
	fill := func(n int) string { return strings.Repeat("; a=1", n) }
	if s := stLoad(t, e.m, "session="+v+fill(maxCookiePairs-1)); s.IsNew() {
		t.Error("3000 cookie pairs: session not loaded")
	}
	s, err := e.m.LoadHeader(context.Background(), "session="+v+fill(maxCookiePairs))
	stWantFresh(t, s, err, ErrMalformed)
	s, err = e.m.LoadCookies(context.Background(), append([]string{"session=" + v}, strings.Split(fill(maxCookiePairs)[2:], "; ")...))
	stWantFresh(t, s, err, ErrMalformed)
}

// Every ";"-separated piece counts toward the 3000, as in net/http, pieces
// without "=" and empty ones too (SPEC.md §14.2, step 1): a header of 1 MiB
// of ";" after the session cookie is not read, and it is not scanned to
// its end. Up to the commit that counted every piece, only pieces with "="
// counted, and this header loaded the session after a scan of the whole
// megabyte.
func TestCookiePiecesCount(t *testing.T) {
	e := stNew(t, Config{})
	v := stParse(t, stSaved(t, e, nil)[0]).value
	// Lines of "a=1;" are 2 pieces each, as net/http counts them.
	lines := func(n int) []string {
		return append([]string{"session=" + v + ";"}, slices.Repeat([]string{"a=1;"}, n-1)...)
	}
	tests := []struct {
		name  string
		lines []string
		want  error
	}{
		{"2999 empty pieces", []string{"session=" + v + strings.Repeat(";", maxCookiePairs-1)}, nil},
		{"3000 empty pieces", []string{"session=" + v + strings.Repeat(";", maxCookiePairs)}, ErrMalformed},
		{"1 MiB of ;", []string{"session=" + v + strings.Repeat(";", 1<<20)}, ErrMalformed},
		{"3000 pieces without =", []string{"session=" + v + strings.Repeat("; x", maxCookiePairs)}, ErrMalformed},
		{"1500 lines of 2 pieces", lines(1500), nil},
		{"1501 lines of 2 pieces", lines(1501), ErrMalformed},
	}
	for _, tt := range tests {
		s, err := e.m.LoadCookies(context.Background(), tt.lines)
		if tt.want == nil {
			if err != nil || s.IsNew() {
				t.Errorf("%s: %v, new %v; want the session", tt.name, err, s.IsNew())
			}
			continue
		}
		stWantFresh(t, s, err, tt.want)
	}
	// The scan stops at piece 3001: a header of 1 MiB of ";" and one of
	// 3001 pieces cost the same, with or without the session cookie.
	var j jar
	e.m.scan(&j, strings.Repeat(";", 1<<20))
	if j.pairs != maxCookiePairs+1 {
		t.Errorf("scan of 1 MiB of ;: %d pieces counted, want %d (it stops past the limit)", j.pairs, maxCookiePairs+1)
	}
}

func TestCookieSources(t *testing.T) {
	e := stNew(t, Config{})
	two := stChunked(t, e, stBlob(t, e.m, 2))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["Cookie"] = []string{"a=1; session=" + two[0], "session.1=" + two[1] + "; b=2"}
	tests := []struct {
		name string
		load func() (*Session, error)
	}{
		{"quoted", func() (*Session, error) {
			return e.m.LoadHeader(context.Background(), ` session="`+two[0]+`" ;session.1="`+two[1]+`"`)
		}},
		{"two Cookie lines", func() (*Session, error) { return e.m.Load(r) }},
		{"cookie list", func() (*Session, error) {
			return e.m.LoadCookies(context.Background(), []string{"theme=dark", "session.1=" + two[1], "session=" + two[0]})
		}},
	}
	for _, tt := range tests {
		s, err := tt.load()
		if err != nil || s.IsNew() || !s.Has("blob") {
			t.Errorf("%s: err %v, keys %q", tt.name, err, s.Keys())
		}
	}
}

func TestCookieNameAndPurposeBound(t *testing.T) {
	base := stNew(t, Config{Name: "a"})
	v := stParse(t, stSaved(t, base, nil)[0]).value
	tests := []struct {
		name   string
		cfg    Config
		header string
		want   error
	}{
		{"same name and purpose", Config{Name: "a"}, "a=" + v, nil},
		{"copied to another name", Config{Name: "b"}, "b=" + v, ErrAuthFailed},
		{"another purpose", Config{Name: "a", Codec: Options{Purpose: "admin"}}, "a=" + v, ErrAuthFailed},
	}
	for _, tt := range tests {
		m := stManager(t, base.kr, base.clock, tt.cfg)
		s, err := m.LoadHeader(context.Background(), tt.header)
		if tt.want == nil {
			if err != nil || s.IsNew() {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		stWantFresh(t, s, err, tt.want)
	}
}

// Values that cannot be a chunk are dropped before they take one of the 4
// places a chunk index keeps (SPEC.md §14.2, step 2), so four of them in
// front of the real cookie, as a sibling subdomain can plant, do not hide
// it. Up to the commit that dropped them, they filled the four places and
// the session was lost.
func TestInvalidValuesTakeNoPlace(t *testing.T) {
	e := stNew(t, Config{})
	v := stParse(t, stSaved(t, e, nil)[0]).value
	invalid := []string{"", "a b", "x=y", "a.b", "2.", ".abc", "AA+/", "3.A.B", `"`, strings.Repeat("A", DefaultMaxSize)}
	for i := 0; i+4 <= len(invalid); i++ {
		var header string
		for _, bad := range invalid[i : i+4] {
			header += "session=" + bad + "; "
		}
		s, err := e.m.LoadHeader(context.Background(), header+"session="+v)
		if err != nil || s.IsNew() {
			t.Errorf("invalid values %d to %d, then the session: %v, new %v; want the session", i, i+3, err, s.IsNew())
		}
	}
	// With nothing else, an invalid value is still an error: malformed,
	// or too large for a value that MaxSize could not hold.
	for _, tt := range []struct {
		value string
		want  error
	}{{"a b", ErrMalformed}, {"", ErrMalformed}, {strings.Repeat("A", DefaultMaxSize), ErrTooLarge}} {
		s, err := e.m.LoadHeader(context.Background(), "session="+tt.value)
		stWantFresh(t, s, err, tt.want)
	}
}
