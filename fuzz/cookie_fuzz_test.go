package fuzz

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cs "github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

// The cookie-layer targets (issue 7). Sessions are only ever sealed by the
// seeds, with the fixed keys and at the fixed clock, and every one of them
// is self-describing: its contents are a function of its own session ID
// (see hdContents). So whenever a fuzzed header loads a session, the
// targets can check that it is authentic, exactly as sealed, even for
// seeds in the committed corpus, sealed in an earlier run.

// hdKinds are the session shapes the seeds seal: one cookie, or a blob that
// takes two or three (of MaxChunks 3, within MaxSize 16384).
var hdKinds = []string{"small", "chunk2", "chunk3"}

// hdN is the counter a session with this ID was sealed with.
func hdN(id string) int {
	sum := sha256.Sum256([]byte("n" + id))
	return int(binary.BigEndian.Uint16(sum[:]))
}

// hdBlob returns size pseudo-random bytes drawn from id.
func hdBlob(id string, size int) []byte {
	r := rand.New(rand.NewChaCha8(sha256.Sum256([]byte("blob" + id))))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// hdManager returns the targets' manager: the fixed keyring and clock,
// MaxChunks 3, MaxSize 16384, errors sent to hook if it is not nil, and the
// cookie name "session" of the seeds unless cfg names another.
func hdManager(tb testing.TB, kr *cs.Keyring, now func() time.Time, cfg cs.Config) *cs.Manager {
	tb.Helper()
	cfg.Now, cfg.MaxSize = now, 16384
	if cfg.Name == "" {
		cfg.Name = cs.DefaultPlainName
	}
	m, err := cs.New(kr, cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return m
}

// hdSeal seals a new self-describing session of kind with m, and returns
// its Cookie header and its cookie values. size is the blob size.
func hdSeal(tb testing.TB, m *cs.Manager, kind string, size int) (string, []string) {
	tb.Helper()
	s, _ := m.LoadHeader(context.Background(), "")
	id := s.ID()
	err := errors.Join(s.Set("kind", kind), s.Set("who", id), s.Set("n", hdN(id)))
	if size > 0 {
		err = errors.Join(err, s.Set("blob", hdBlob(id, size)))
	}
	lines, err2 := m.SetCookieHeaders(s)
	if err = errors.Join(err, err2); err != nil {
		tb.Fatalf("seal %s session: %v", kind, err)
	}
	var pairs, vals []string
	for _, l := range lines {
		c, err := http.ParseSetCookie(l)
		if err != nil {
			tb.Fatalf("ParseSetCookie(%.60q): %v", l, err)
		}
		pairs, vals = append(pairs, c.Name+"="+c.Value), append(vals, c.Value)
	}
	return strings.Join(pairs, "; "), vals
}

// hdSizes returns blob sizes that make sessions of 2 and 3 cookies in m:
// the middle of each range, so that any session ID gives the same count.
func hdSizes(tb testing.TB, m *cs.Manager) map[string]int {
	tb.Helper()
	first := map[int]int{} // chunk count -> first size giving it
	size := 64
	for ; size < 16384; size += 128 {
		s, _ := m.LoadHeader(context.Background(), "")
		if err := s.Set("blob", hdBlob("size", size)); err != nil {
			tb.Fatal(err)
		}
		lines, err := m.SetCookieHeaders(s)
		n := len(lines)
		if err != nil {
			n = 4
		}
		if _, ok := first[n]; !ok {
			first[n] = size
		}
		if n == 4 {
			break
		}
	}
	if first[2] == 0 || first[3] == 0 || first[4] == 0 {
		tb.Fatalf("no blob sizes give 2 and 3 cookies: %v", first)
	}
	return map[string]int{"small": 0, "chunk2": (first[2] + first[3]) / 2, "chunk3": (first[3] + first[4]) / 2}
}

// hdContents returns a session's values as raw JSON, by key.
func hdContents(t *testing.T, s *cs.Session) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range s.Keys() {
		raw, _, err := cs.Get[json.RawMessage](s, k)
		if err != nil {
			t.Fatalf("Get(%q): %v", k, err)
		}
		out[k] = string(raw)
	}
	return out
}

// hdSealed caches the JSON of each blob that hdCheckAuthentic expects, by
// session ID and length, so that fuzzing does not regenerate it each time.
var hdSealed sync.Map

// hdCheckAuthentic fails the test unless s, loaded from a cookie, holds
// exactly what hdSeal sealed for its ID, under a key that may open.
func hdCheckAuthentic(t *testing.T, what string, s *cs.Session) {
	t.Helper()
	id := s.ID()
	kind, _, _ := cs.Get[string](s, "kind")
	want := map[string]string{"kind": strconv.Quote(kind), "who": strconv.Quote(id), "n": strconv.Itoa(hdN(id))}
	if blob, ok, _ := cs.Get[[]byte](s, "blob"); ok {
		key := id + "/" + strconv.Itoa(len(blob))
		b, ok := hdSealed.Load(key)
		if !ok {
			b, _ = json.Marshal(hdBlob(id, len(blob)))
			hdSealed.Store(key, b)
		}
		want["blob"] = string(b.([]byte))
	}
	if d := cmp.Diff(want, hdContents(t, s)); d != "" || !slices.Contains(hdKinds, kind) || (kind == "small") == (want["blob"] != "") {
		t.Fatalf("%s: loaded a session that was never sealed (-sealed +loaded):\n%s", what, d)
	}
	if info := s.Info(); info.KeyID != primaryID && info.KeyID != decryptOnlyID {
		t.Fatalf("%s: loaded a session under key %v, which may not open", what, info.KeyID)
	}
}

// hdSeeds seals the seed sessions: each kind under the primary key, one
// under the decrypt-only key, and rejected ones: under the disabled key,
// expired, and for another purpose. It returns their Cookie headers, the
// primary chunked ones' values first.
func hdSeeds(tb testing.TB) (headers []string, three, other3 []string) {
	kr := fixedKeyring(tb)
	m := hdManager(tb, kr, clock, cs.Config{})
	sizes := hdSizes(tb, m)
	for _, kind := range hdKinds {
		h, _ := hdSeal(tb, m, kind, sizes[kind])
		headers = append(headers, h)
	}
	_, three = hdSeal(tb, m, "chunk3", sizes["chunk3"])
	_, other3 = hdSeal(tb, m, "chunk3", sizes["chunk3"])
	single := func(id cs.KeyID) *cs.Keyring {
		kr, err := cs.NewKeyring(mustKey(tb, id))
		if err != nil {
			tb.Fatal(err)
		}
		return kr
	}
	past := func() time.Time { return fuzzNow.Add(-15 * 24 * time.Hour) }
	for _, m := range []*cs.Manager{
		hdManager(tb, single(decryptOnlyID), clock, cs.Config{}),
		hdManager(tb, single(disabledID), clock, cs.Config{}),
		hdManager(tb, kr, past, cs.Config{}),
		hdManager(tb, kr, clock, cs.Config{Codec: cs.Options{Purpose: "other"}}),
	} {
		h, _ := hdSeal(tb, m, "chunk2", sizes["chunk2"])
		headers = append(headers, h)
	}
	return headers, three, other3
}

// hdJunk are seeds without a sealed value.
var hdJunk = []string{"", "session=", `session=""`, "session=3.x; session.1=y; session.2=z",
	"a=1; session.1=x", "session=AgAAAAAB", "session=AQAAAAAB", "session; session.9=x; session.10=y"}

// FuzzLoadHeader loads arbitrary Cookie headers with Manager.LoadHeader.
// It must never panic; a load either succeeds, with a new empty session
// (no session cookie) or an authentic one, or fails with an error wrapping
// exactly one of the sentinels of SPEC.md §9 and gives a new empty session.
func FuzzLoadHeader(f *testing.F) {
	headers, a, b := hdSeeds(f)
	for _, h := range headers {
		f.Add(h)
	}
	chunk := func(i int, v string) string { return []string{"session=", "; session.1=", "; session.2="}[i] + v }
	f.Add(chunk(0, a[0]) + chunk(1, b[1]) + chunk(2, a[2]))                                 // mixed
	f.Add(chunk(0, a[0]) + chunk(1, a[2]) + chunk(2, a[1]))                                 // reordered
	f.Add("session=x; " + chunk(0, a[0]) + chunk(1, "y") + chunk(1, a[1]) + chunk(2, a[2])) // duplicates
	for _, h := range hdJunk {
		f.Add(h)
	}
	m := hdManager(f, fixedKeyring(f), clock, cs.Config{})
	// The seeds must reach both outcomes: the first four load (the last of
	// them under the decrypt-only key), the next three are rejected.
	for i, h := range headers {
		s, err := m.LoadHeader(context.Background(), h)
		if loads := i < 4; loads != (err == nil && !s.IsNew()) {
			f.Fatalf("seed %d: loads %v (error %v), want %v", i, !s.IsNew(), err, loads)
		}
	}
	f.Fuzz(func(t *testing.T, header string) {
		s, err := m.LoadHeader(context.Background(), header)
		if s == nil {
			t.Fatalf("LoadHeader(%.80q): nil session", header)
		}
		if err != nil {
			soleSentinel(t, "LoadHeader", err, openSentinels)
			if !s.IsNew() || s.Len() != 0 {
				t.Fatalf("LoadHeader(%.80q): error %v with a session that is not new and empty", header, err)
			}
			return
		}
		if s.IsNew() {
			if s.Len() != 0 {
				t.Fatalf("LoadHeader(%.80q): new session with keys %q", header, s.Keys())
			}
			return
		}
		hdCheckAuthentic(t, "LoadHeader", s)
	})
}

// FuzzMiddleware sends requests with one or two arbitrary Cookie header
// lines (h2 is left out if empty) to the middleware, whose handler, chosen
// by op, reads the session, increments a counter in it, stores a blob that
// takes two cookies, or destroys it. The answer must be a 200 whatever the
// cookies; the handler must see a new session or an authentic one; every
// ErrorHook call must wrap one sentinel; every Set-Cookie line must parse
// and fit in 4096 bytes; and the cookies it sets must load back to exactly
// what the handler left in the session.
func FuzzMiddleware(f *testing.F) {
	headers, a, _ := hdSeeds(f)
	for i, h := range headers {
		f.Add(h, "", byte(i))
	}
	f.Add("theme=dark; session="+a[0], "session.1="+a[1]+"; session.2="+a[2], byte(0))
	f.Add("session=x", "session.2="+a[2], byte(1))
	for i, h := range hdJunk {
		f.Add(h, "a=1", byte(i))
	}
	var hookErrs []error
	m := hdManager(f, fixedKeyring(f), clock, cs.Config{
		ErrorHook: func(_ *http.Request, err error) { hookErrs = append(hookErrs, err) },
	})
	opBlob := hdBlob("op", hdSizes(f, m)["chunk2"])
	f.Fuzz(func(t *testing.T, h1, h2 string, op byte) {
		hookErrs = nil
		var sawNew bool
		var final map[string]string
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := cs.FromContext(r.Context())
			if sawNew = s.IsNew(); !sawNew {
				hdCheckAuthentic(t, "handler", s)
			}
			switch op % 4 {
			case 1:
				n, _, err := cs.Get[int](s, "n")
				if err == nil {
					err = s.Set("n", n+1)
				}
				if err != nil {
					t.Error(err)
				}
			case 2:
				if err := s.Set("blob", opBlob); err != nil {
					t.Error(err)
				}
			case 3:
				s.Destroy()
			}
			final = hdContents(t, s)
		}))
		req := httptest.NewRequest(http.MethodGet, "https://example.com/", nil) // over TLS, as Secure cookies need
		req.Header["Cookie"] = []string{h1}
		if h2 != "" {
			req.Header["Cookie"] = append(req.Header["Cookie"], h2)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d, want 200; ErrorHook got %v", rec.Code, hookErrs)
		}
		if len(hookErrs) > 1 || (len(hookErrs) == 1 && !sawNew) {
			t.Fatalf("ErrorHook got %v; handler saw a new session: %v", hookErrs, sawNew)
		}
		for _, err := range hookErrs {
			soleSentinel(t, "ErrorHook", err, openSentinels)
		}
		set := hdSetCookies(t, rec.Result().Header.Values("Set-Cookie"))
		if len(set) == 0 {
			return
		}
		back, err := m.LoadHeader(context.Background(), strings.Join(set, "; "))
		if err != nil || back.IsNew() {
			t.Fatalf("the cookies set do not load: %v", err)
		}
		if d := cmp.Diff(final, hdContents(t, back)); d != "" {
			t.Fatalf("the cookies set load to other contents (-handler +loaded):\n%s", d)
		}
	})
}

// hdSetCookies checks Set-Cookie lines and returns the cookies they set
// (not delete) as name=value pairs.
func hdSetCookies(t *testing.T, lines []string) []string {
	t.Helper()
	var set []string
	for _, l := range lines {
		c, err := http.ParseSetCookie(l)
		if err != nil || len(l) > 4096 {
			t.Fatalf("Set-Cookie %.80q (%d bytes): %v", l, len(l), err)
		}
		if i := strings.TrimPrefix(c.Name, "session"); i != "" && (len(i) != 2 || i[0] != '.' || i[1] < '1' || i[1] > '9') {
			t.Fatalf("Set-Cookie for %q, not a session cookie", c.Name)
		}
		switch {
		case c.MaxAge < 0 && c.Value == "":
		case c.MaxAge >= 0 && c.Value != "" && !bytes.ContainsAny([]byte(c.Value), "; \t\"\\"):
			set = append(set, c.Name+"="+c.Value)
		default:
			t.Fatalf("Set-Cookie %.80q: value %.20q with Max-Age %d", l, c.Value, c.MaxAge)
		}
	}
	return set
}
