package cookiesession

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The tamper matrix (issue 7): real cookies, minted by the middleware, are
// altered every way the issue lists and sent back to the same middleware.
// Every altered request must get a 200, a fresh session, and exactly one
// ErrorHook call wrapping the expected sentinel. The requests go straight to
// the handler (ServeHTTP with a recorder), so the matrix runs in memory.

// hdSentinels are the sentinels a rejected cookie may wrap.
var hdSentinels = []error{ErrMalformed, ErrUnsupportedVersion, ErrUnknownKey, ErrKeyDisabled,
	ErrAuthFailed, ErrExpired, ErrTooLarge}

// hdFreshBody is what hdApp answers for a new, empty session.
const hdFreshBody = "new=true n=0 keys=0"

// hdEnv is a middleware with key 1 primary, key 2 decrypt-only and key 3
// disabled, the clock at t0, and cookies of up to 3 chunks (MaxSize 16384).
type hdEnv struct {
	clock *testClock
	kr    *Keyring
	m     *Manager
	h     http.Handler
	mu    sync.Mutex
	sizes map[int]int // blob sizes for mintChunks, by chunk count
}

// hdHookKey is the context key of a request's error collector, so that
// concurrent subtests each see the ErrorHook calls of their own requests.
type hdHookKey struct{}

type hdErrs struct {
	mu   sync.Mutex
	errs []error
}

func hdHook(r *http.Request, err error) {
	if c, ok := r.Context().Value(hdHookKey{}).(*hdErrs); ok {
		c.mu.Lock()
		c.errs = append(c.errs, err)
		c.mu.Unlock()
	}
}

func hdNew(t testing.TB, cfg Config) *hdEnv {
	t.Helper()
	return hdOn(t, testKeyring(t), newTestClock(t0), cfg)
}

// hdOn is hdNew with a given keyring and clock.
func hdOn(t testing.TB, kr *Keyring, clock *testClock, cfg Config) *hdEnv {
	t.Helper()
	cfg.Now, cfg.ErrorHook = clock.Now, hdHook
	plainName(&cfg)
	if cfg.MaxSize == 0 {
		cfg.MaxSize = 16384
	}
	m, err := New(kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &hdEnv{clock: clock, kr: kr, m: m, h: m.Middleware(http.HandlerFunc(hdApp)), sizes: map[int]int{}}
}

// hdApp is the handler of the matrix. On /mint it stores the counter n and,
// if blob > 0, that many pseudo-random bytes drawn from seed; on any other
// path it only reads the session and reports it.
func hdApp(w http.ResponseWriter, r *http.Request) {
	s := FromContext(r.Context())
	q := r.URL.Query()
	if r.URL.Path == "/mint" {
		n, _ := strconv.Atoi(q.Get("n"))
		size, _ := strconv.Atoi(q.Get("blob"))
		seed, _ := strconv.ParseUint(q.Get("seed"), 10, 64)
		err := s.Set("n", n)
		if size > 0 && err == nil {
			err = s.Set("blob", hdRandom(seed, size))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
		return
	}
	n, _, err := Get[int](s, "n")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "new=%t n=%d keys=%d", s.IsNew(), n, s.Len())
}

// hdRandom returns size bytes from a ChaCha8 stream seeded with seed.
func hdRandom(seed uint64, size int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{7: byte(seed), 8: byte(seed >> 8)}))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// hdResult is what one request got.
type hdResult struct {
	status int
	body   string
	lines  []string // Set-Cookie
	errs   []error  // ErrorHook calls
}

// serve sends one GET with header as its Cookie header (none if empty).
func (e *hdEnv) serve(path, header string) hdResult {
	c := new(hdErrs)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req = req.WithContext(context.WithValue(req.Context(), hdHookKey{}, c))
	if header != "" {
		req.Header.Set("Cookie", header)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	c.mu.Lock()
	defer c.mu.Unlock()
	return hdResult{rec.Code, rec.Body.String(), rec.Result().Header.Values("Set-Cookie"), c.errs}
}

// mint makes a session through the middleware and returns its cookie
// values in chunk order.
func (e *hdEnv) mint(t testing.TB, n, blob int, seed uint64) []string {
	t.Helper()
	vals, err := e.tryMint(n, blob, seed)
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	return vals
}

// tryMint is mint, returning an error for a session that does not fit.
func (e *hdEnv) tryMint(n, blob int, seed uint64) ([]string, error) {
	r := e.serve(fmt.Sprintf("/mint?n=%d&blob=%d&seed=%d", n, blob, seed), "")
	if r.status != http.StatusOK || len(r.errs) != 0 {
		return nil, fmt.Errorf("status %d, hook %v, body %q", r.status, r.errs, r.body)
	}
	var vals []string
	for i, l := range r.lines {
		c, err := http.ParseSetCookie(l)
		if err != nil || c.Name != e.m.names[i] {
			return nil, fmt.Errorf("Set-Cookie %d %.60q: %v", i, l, err)
		}
		vals = append(vals, c.Value)
	}
	return vals, nil
}

// mintChunks mints a session of exactly chunks cookies. Its blob size is
// the middle of the range of sizes that give that many cookies, found once
// per env, so that any seed gives the same count.
func (e *hdEnv) mintChunks(t testing.TB, chunks int, seed uint64) []string {
	t.Helper()
	e.mu.Lock()
	size, ok := e.sizes[chunks]
	e.mu.Unlock()
	if !ok {
		lo, hi := 0, 0
		for s := 16; s < 16384 && hi == 0; s += 128 {
			vals, err := e.tryMint(7, s, 0)
			switch n := len(vals); {
			case err != nil || n > chunks:
				hi = s
			case n == chunks && lo == 0:
				lo = s
			}
		}
		if lo == 0 || hi-lo < 512 {
			t.Fatalf("no range of blob sizes gives %d cookies", chunks)
		}
		size = (lo + hi) / 2
		e.mu.Lock()
		e.sizes[chunks] = size
		e.mu.Unlock()
	}
	v := e.mint(t, 7, size, seed)
	if len(v) != chunks {
		t.Fatalf("blob of %d bytes gave %d cookies, want %d", size, len(v), chunks)
	}
	return v
}

// hdHeader joins chunk values into a Cookie header, with an unrelated
// cookie in front.
func (e *hdEnv) header(vals []string) string {
	pairs := []string{"theme=dark"}
	for i, v := range vals {
		pairs = append(pairs, e.m.names[i]+"="+v)
	}
	return strings.Join(pairs, "; ")
}

// wantFresh checks that r is a 200 with a fresh session and exactly one
// ErrorHook call, wrapping want and no other sentinel.
func (r hdResult) wantFresh(t testing.TB, what string, want error) {
	t.Helper()
	if r.status != http.StatusOK || r.body != hdFreshBody {
		t.Fatalf("%s: status %d body %q, want 200 %q", what, r.status, r.body, hdFreshBody)
	}
	if got := hdSentinel(r.errs); got != want {
		t.Fatalf("%s: ErrorHook got %v, want one error wrapping %v", what, r.errs, want)
	}
}

// hdSentinel returns the one sentinel the single error in errs wraps, or
// nil if errs is not exactly one error wrapping exactly one sentinel.
func hdSentinel(errs []error) error {
	if len(errs) != 1 {
		return nil
	}
	var found error
	for _, s := range hdSentinels {
		if errors.Is(errs[0], s) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

// hdModel predicts, independently of the package, how a load of the chunk
// values the server sees (vals[i] for chunk i) fails, from SPEC.md §4, §6
// and §14: the count prefix, then base64url without padding (RFC 4648 §5,
// with zero tail bits), the length, the version and the key ID, and
// otherwise authentication, which fails unless every part and the count are
// the original ones (then it returns nil). To stay cheap over tens of
// thousands of calls it checks the alphabet only in parts that differ from
// the original's, and decodes only the first 8 characters.
type hdModel struct {
	keys      map[KeyID]KeyState
	maxChunks int
	parts     []string // the original sealed text, by chunk, without the count prefix
	count     int      // the original chunk count
}

// hdB64 maps base64url characters to their values, and others to 0xff.
var hdB64 = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

func (md hdModel) expect(vals []string) error {
	n, part0 := 1, vals[0]
	if digits, rest, ok := strings.Cut(vals[0], "."); ok {
		n, part0 = 0, rest
		if len(digits) >= 1 && len(digits) <= 2 && digits[0] != '0' &&
			strings.Trim(digits, "0123456789") == "" {
			n, _ = strconv.Atoi(digits)
		}
		if n < 2 || n > md.maxChunks {
			return ErrMalformed
		}
	}
	if n > len(vals) {
		return ErrMalformed
	}
	parts := append([]string{part0}, vals[1:n]...)
	// An empty value (after the count) is dropped before it is kept
	// (SPEC.md §14.2, step 2): as good as missing.
	if slices.Contains(parts, "") {
		return ErrMalformed
	}
	same := n == md.count
	var text strings.Builder // the first 8 characters
	total, last := 0, byte(0)
	for i, p := range parts {
		if i >= len(md.parts) || p != md.parts[i] {
			same = false
			for j := range len(p) {
				if hdB64[p[j]] == 0xff {
					return ErrMalformed
				}
			}
		}
		total += len(p)
		if p != "" {
			last = hdB64[p[len(p)-1]]
		}
		text.WriteString(p[:min(len(p), 8-text.Len())])
	}
	// 4 characters hold 3 bytes; a tail of 2 or 3 characters holds 1 or 2
	// bytes, and the bits of its last character past them must be zero.
	switch total % 4 {
	case 1:
		return ErrMalformed
	case 2:
		if last&0x0f != 0 {
			return ErrMalformed
		}
	case 3:
		if last&0x03 != 0 {
			return ErrMalformed
		}
	}
	if total*6/8 < overhead {
		return ErrMalformed
	}
	var head uint64 // the first 6 bytes, in the low 48 bits
	for _, c := range []byte(text.String()) {
		head = head<<6 | uint64(hdB64[c])
	}
	if head>>40 != formatVersion {
		return ErrUnsupportedVersion
	}
	switch st, ok := md.keys[KeyID(uint32(head))]; {
	case !ok:
		return ErrUnknownKey
	case st == KeyDisabled:
		return ErrKeyDisabled
	case same:
		return nil
	}
	return ErrAuthFailed
}

// hdSeen is the value of a cookie pair as a server parses it (RFC 6265bis
// §5.4): it ends at the first ';', loses surrounding spaces and tabs, and
// then one pair of surrounding double quotes.
func hdSeen(v string) string {
	v, _, _ = strings.Cut(v, ";")
	v = strings.Trim(v, " \t")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v
}

// hdRegion returns the sentinels that may come from altering character i
// of the first cookie value or, for later chunks, of the assembled text
// (pos counts from the start of the sealed text, after any count prefix;
// negative for the count prefix itself). Every region allows ErrMalformed:
// the altered character may not be base64url, and truncation may leave a
// length that is not. A character holds 6 bits of the raw value, bits 6·pos
// to 6·pos+5, so it may touch two bytes:
//
//   - the count prefix ("3."): a bad count, or a valid other count, which
//     changes the associated data: ErrMalformed, ErrAuthFailed; or, when
//     the '.' is altered, a value that starts with the digits, whose first
//     byte is then no version: ErrUnsupportedVersion;
//   - byte 0, the version: ErrUnsupportedVersion, or ErrAuthFailed when only
//     the flag bits of byte 1 that share the character changed;
//   - bytes 2 to 5, the key ID: ErrUnknownKey, ErrKeyDisabled, or
//     ErrAuthFailed for another enabled key (or only nonce/flag bits);
//   - the rest (flags, nonce, times, body, tag): ErrAuthFailed.
func hdRegion(pos int) []error {
	if pos < 0 {
		return []error{ErrMalformed, ErrUnsupportedVersion, ErrAuthFailed}
	}
	first, last := 6*pos/8, (6*pos+5)/8
	switch {
	case first == 0:
		return []error{ErrMalformed, ErrUnsupportedVersion, ErrAuthFailed}
	case last >= 2 && first <= 5:
		return []error{ErrMalformed, ErrUnknownKey, ErrKeyDisabled, ErrAuthFailed}
	}
	return []error{ErrMalformed, ErrAuthFailed}
}

// hdMatrix is one session to alter: its chunk values and the model.
type hdMatrix struct {
	name string
	vals []string
}

func hdModelFor(e *hdEnv, vals []string) hdModel {
	md := hdModel{keys: map[KeyID]KeyState{}, maxChunks: e.m.maxChunks, count: len(vals)}
	for _, k := range e.kr.Keys() {
		md.keys[k.ID] = k.State
	}
	md.parts = slices.Clone(vals)
	if len(vals) > 1 {
		_, md.parts[0], _ = strings.Cut(vals[0], ".")
	}
	if got := md.expect(vals); got != nil {
		panic(fmt.Sprintf("model rejects the intact cookie with %v", got))
	}
	// The model against the standard library's decoder, on the intact text.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(strings.Join(md.parts, ""))
	if err != nil || raw[0] != formatVersion || md.keys[KeyID(binary.BigEndian.Uint32(raw[2:6]))] != KeyPrimary {
		panic(fmt.Sprintf("intact cookie does not decode to version 2 under the primary key: %v", err))
	}
	return md
}

// hdPos returns, for character j of chunk i, its position in the sealed text
// (negative inside the count prefix).
func hdPos(vals []string, i, j int) int {
	prefix := 0
	if len(vals) > 1 {
		prefix = strings.IndexByte(vals[0], '.') + 1
	}
	pos := j - prefix
	for k := 0; k < i; k++ {
		pos += len(vals[k])
	}
	return pos
}

// hdRace reports whether the test binary was built with -race.
var hdRace = sync.OnceValue(func() bool {
	bi, ok := debug.ReadBuildInfo()
	return ok && slices.Contains(bi.Settings, debug.BuildSetting{Key: "-race", Value: "true"})
})

// hdPositions returns the character positions of a value of n characters
// that the bit-flip and truncation matrices visit: all of them, except under
// the race detector, which makes these single-goroutine loops about ten
// times slower and finds nothing in them. There, values over 256
// characters are sampled: the matrices visit the first 48
// characters (the count prefix, version, flags and key ID, and the start of
// the nonce), the last 16 (the chunk boundary and, in the last chunk, the
// tag and the base64 tail bits), and every 61st in between. CI runs the
// full matrix in its plain "go test ./..." step.
func hdPositions(n int) []int {
	var out []int
	for j := range n {
		if !hdRace() || n <= 256 || j < 48 || j >= n-16 || j%61 == 0 {
			out = append(out, j)
		}
	}
	return out
}
