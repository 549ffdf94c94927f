// Package bench compares cookiesession with gorilla/securecookie,
// gorilla/sessions, golang-jwt/jwt (HS256) and go-jose (JWE, dir + A256GCM)
// on the same session data: the fixtures in ../testdata/sessions (small
// ~100 B, medium ~1 KiB, large ~12 KiB of JSON).
//
// It is a module of its own, so that the libraries it compares against do
// not become dependencies of cookiesession. Benchmark names carry lib=...,
// size=... and the like, so that benchstat can put libraries side by side:
//
//	go test -run '^$' -bench . -benchmem -count 10 > results.txt
//	benchstat -col /lib results.txt
//
// run.sh does both, and prints the targets of issue 12 (./targets). The
// tests in this package check that every library round-trips the same data,
// so the benchmarks compare like with like.
package bench

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// cookieName is the session cookie's name in every library.
const cookieName = "session"

// lifetime is the session lifetime given to every library.
const lifetime = 14 * 24 * time.Hour

// sizes are the fixtures, smallest first.
var sizes = []string{"small", "medium", "large"}

// Fixed keys, so runs are comparable. gorilla gets an HMAC-SHA256 key and an
// AES-256 key: encrypted and authenticated, as cookiesession's AEAD is.
var (
	csKey    = bytes.Repeat([]byte{0x5c}, cookiesession.KeySize)
	hashKey  = bytes.Repeat([]byte{0x1f}, 32)
	blockKey = bytes.Repeat([]byte{0x2e}, 32)
	floorKey = bytes.Repeat([]byte{0x3d}, 32)
)

func init() {
	// gob needs the concrete types that sit in interface values; gorilla/
	// sessions registers []interface{} itself, registering it again is a
	// no-op.
	gob.Register(map[string]any{})
	gob.Register([]any{})
}

// fixture is one session, in the forms each library takes.
type fixture struct {
	size string
	// json is the fixture file: the serialized session.
	json []byte
	// values is json decoded with encoding/json, for gorilla.
	values map[string]any
	// raw holds each top-level value as it appears in json, for
	// cookiesession's Session.Set.
	raw map[string]json.RawMessage
}

var loadOnce = sync.OnceValues(func() ([]fixture, error) {
	var fs []fixture
	for _, size := range sizes {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "sessions", size+".json"))
		if err != nil {
			return nil, err
		}
		f := fixture{size: size, json: bytes.TrimSpace(data)}
		if err := json.Unmarshal(f.json, &f.values); err != nil {
			return nil, fmt.Errorf("%s: %w", size, err)
		}
		if err := json.Unmarshal(f.json, &f.raw); err != nil {
			return nil, fmt.Errorf("%s: %w", size, err)
		}
		if _, ok := f.values["csrf"].(string); !ok {
			return nil, fmt.Errorf("%s: no string csrf key, which the request benchmarks read", size)
		}
		fs = append(fs, f)
	}
	return fs, nil
})

// loadFixtures returns the fixtures, smallest first.
func loadFixtures(tb testing.TB) []fixture {
	tb.Helper()
	fs, err := loadOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return fs
}

// newManager returns a cookiesession Manager with a fixed key and the
// default configuration, apart from a lifetime matching gorilla's store.
func newManager(tb testing.TB) *cookiesession.Manager {
	tb.Helper()
	m, err := cookiesession.New(newKeyring(tb), cookiesession.Config{Name: cookieName, Lifetime: lifetime})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func newKeyring(tb testing.TB) *cookiesession.Keyring {
	tb.Helper()
	k, err := cookiesession.NewKey(0x0b0e0c0d, csKey)
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := cookiesession.NewKeyring(k)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

// newSecureCookie returns a gorilla codec with encryption, no length limit
// (the large session is far over the default 4096), and the serializer
// given, or gob if nil.
func newSecureCookie(ser securecookie.Serializer) *securecookie.SecureCookie {
	sc := securecookie.New(hashKey, blockKey).MaxLength(0).MaxAge(int(lifetime / time.Second))
	if ser != nil {
		sc.SetSerializer(ser)
	}
	return sc
}

// newStore returns a gorilla/sessions CookieStore with encryption, no
// length limit, and cookie attributes like cookiesession's defaults.
func newStore() *sessions.CookieStore {
	st := sessions.NewCookieStore(hashKey, blockKey)
	st.MaxAge(int(lifetime / time.Second))
	st.Options.HttpOnly = true
	st.Options.SameSite = http.SameSiteLaxMode
	for _, c := range st.Codecs {
		c.(*securecookie.SecureCookie).MaxLength(0)
	}
	return st
}

// csSession returns a new cookiesession session holding the fixture's
// top-level values, each set from its raw JSON.
func csSession(tb testing.TB, m *cookiesession.Manager, f fixture) *cookiesession.Session {
	tb.Helper()
	s, err := m.LoadHeader(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range f.raw {
		if err := s.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// gorillaValues returns the fixture's top-level values as gorilla/sessions
// holds them.
func gorillaValues(f fixture) map[any]any {
	vals := make(map[any]any, len(f.values))
	for k, v := range f.values {
		vals[k] = v
	}
	return vals
}

// setCookies returns the cookies that Set-Cookie lines store, as a Cookie
// header value, and their size on the wire: name, "=" and value of each.
// Lines that delete a cookie are left out.
func setCookies(tb testing.TB, lines []string) (header string, wire int) {
	tb.Helper()
	var b strings.Builder
	for _, l := range lines {
		c, err := http.ParseSetCookie(l)
		if err != nil {
			tb.Fatalf("Set-Cookie %.40q: %v", l, err)
		}
		if c.MaxAge < 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Name + "=" + c.Value)
		wire += len(c.Name) + 1 + len(c.Value)
	}
	return b.String(), wire
}

// wireBytes is the size on the wire of Set-Cookie lines that store
// cookies; see setCookies. It runs in benchmark loops, so it does not parse.
func wireBytes(lines []string) int {
	n := 0
	for _, l := range lines {
		pair, _, _ := strings.Cut(l, ";")
		if name, value, _ := strings.Cut(pair, "="); value != "" {
			n += len(name) + 1 + len(value)
		}
	}
	return n
}

// countCookies is the number of cookies that Set-Cookie lines store; see
// wireBytes.
func countCookies(lines []string) int {
	n := 0
	for _, l := range lines {
		pair, _, _ := strings.Cut(l, ";")
		if _, value, _ := strings.Cut(pair, "="); value != "" {
			n++
		}
	}
	return n
}

// benchURL is the URL of every benchmark request.
var benchURL = &url.URL{Scheme: "http", Host: "example.com", Path: "/"}

// newRequest builds a GET request carrying a Cookie header, as the server
// would hand it to a handler. Both libraries pay for it equally.
func newRequest(cookie string) *http.Request {
	return &http.Request{
		Method:     http.MethodGet,
		URL:        benchURL,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"Cookie": {cookie}},
		Host:       benchURL.Host,
		RequestURI: "/",
	}
}

// altToken returns a token of the same length as tok that differs from it:
// what the read-and-write requests store back.
func altToken(tok string) string {
	b := []byte(tok)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}
