package cookiesession

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Loading from the Cookie header: chunks tampered with, duplicated or
// missing, too many pairs, where cookies come from, and the cookie name
// and purpose bound into the sealed value.

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
