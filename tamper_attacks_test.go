package cookiesession

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// hdRepeat returns n copies of pair, each followed by "; ".
func hdRepeat(n int, pair string) string { return strings.Repeat(pair+"; ", n) }

// hdEdit decodes a sealed value, lets edit change the bytes, and encodes it.
func hdEdit(t testing.TB, v string, edit func([]byte)) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		t.Fatal(err)
	}
	edit(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// hdSealRaw seals payload for the session cookie with m's codec, uncut, expiring an
// hour after t0.
func hdSealRaw(t testing.TB, m *Manager, payload []byte) string {
	t.Helper()
	text, _, err := m.codec.appendSeal(nil, m.names[0], kindSession, payload, m.now(), time.Unix(t0+3600, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// hdBomb returns payload with its entries replaced by one compressed
// value that inflates to 4 MiB, as it says.
func hdBomb(t testing.TB, payload []byte) []byte {
	bomb := slices.Concat(payload[:34], []byte{1, 1, 'b', entryDeflate, 0x80, 0x80, 0x80, 0x02})
	z := deflate(t, make([]byte, 4<<20))
	return append(binary.AppendUvarint(bomb, uint64(len(z))), z...)
}

// hdCompressible returns the cookie of a session, sealed by m, holding
// text under the key "big".
func hdCompressible(t testing.TB, m *Manager, text string) string {
	t.Helper()
	s, _ := m.LoadHeader(context.Background(), "")
	if err := s.Set("n", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("big", text); err != nil {
		t.Fatal(err)
	}
	lines, err := m.SetCookieHeaders(s)
	if err != nil || len(lines) == 0 {
		t.Fatalf("seal compressible session: %v, %d lines", err, len(lines))
	}
	var pairs []string
	for _, l := range lines {
		c, err := http.ParseSetCookie(l)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	return strings.Join(pairs, "; ")
}

// hdCases returns the matrix rows other than bit flips and truncations.
// A row with want nil must give no ErrorHook call; body "" means a fresh
// session. Rows that load are controls: they show the alteration, not
// something else, is what the other rows are rejected for.
func hdCases(t testing.TB, e *hdEnv) []struct {
	name, header string
	want         error
	body         string
} {
	a, b := e.mintChunks(t, 3, 10), e.mintChunks(t, 3, 11)
	md := hdModelFor(e, a)
	single := e.mint(t, 5, 0, 12)[0]
	const loadedA, loadedSingle = "new=false n=7 keys=2", "new=false n=5 keys=1"
	mintWith := func(kr *Keyring, clock *testClock, cfg Config) string {
		return e.header(hdOn(t, kr, clock, cfg).mint(t, 5, 0, 13))
	}
	keyring := func(k Key) *Keyring {
		kr, err := NewKeyring(k)
		if err != nil {
			t.Fatal(err)
		}
		return kr
	}
	big := hdOn(t, e.kr, e.clock, Config{MaxSessionSize: 16 << 20, MaxCompressionRatio: maxCompressionRatio, MaxChunks: 10, MaxSize: 40000,
		Codec: Options{MaxPayloadSize: 16 << 20}})
	raw := func(version, flags byte, body []byte) string {
		return "session=" + rawValue{version: version, flags: flags, kind: kindSession, key: testKey(t, 1, 1),
			iat: t0, exp: t0 + 3600, body: body, name: e.m.names[0]}.seal(t)
	}
	st := state{created: t0, deadline: t0 + 3600, values: values{{key: "n", val: []byte("5"), n: 1}}}
	goodPayload, err := st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxPayloadSize, DefaultMaxCompressionRatio)
	if err != nil {
		t.Fatal(err)
	}
	futurePayload := bytes.Clone(goodPayload)
	futurePayload[0] = 3
	v1Payload := bytes.Clone(goodPayload)
	v1Payload[0] = 1
	// Version 2, flags 0, and then a count of 127 entries with no bytes left.
	badPayload := make([]byte, 40)
	badPayload[0], badPayload[34] = payloadVersion, 0x7f
	// The valid payload, with its count written in two bytes instead of one.
	overlong := slices.Concat(goodPayload[:34], []byte{0x81, 0x00}, goodPayload[35:])
	bomb := hdBomb(t, goodPayload)
	day := int64(24 * 3600)
	return []struct {
		name, header string
		want         error
		body         string
	}{
		{"control: intact chunks", e.header(a), nil, loadedA},
		{"control: intact single cookie", e.header([]string{single}), nil, loadedSingle},
		{"dropped chunk 1", "session=" + a[0] + "; session.2=" + a[2], ErrMalformed, ""},
		{"dropped last chunk", "session=" + a[0] + "; session.1=" + a[1], ErrMalformed, ""},
		{"dropped first chunk", "session.1=" + a[1] + "; session.2=" + a[2], ErrMalformed, ""},
		{"chunk 1 duplicated as chunk 2", e.header([]string{a[0], a[1], a[1]}), md.expect([]string{a[0], a[1], a[1]}), ""},
		{"chunk 1 sent twice, chunk 2 missing", "session=" + a[0] + "; session.1=" + a[1] + "; session.1=" + a[1], ErrMalformed, ""},
		{"chunks 1 and 2 swapped", e.header([]string{a[0], a[2], a[1]}), md.expect([]string{a[0], a[2], a[1]}), ""},
		{"mixed: first chunk of another session", e.header([]string{b[0], a[1], a[2]}), md.expect([]string{b[0], a[1], a[2]}), ""},
		{"mixed: middle chunk of another session", e.header([]string{a[0], b[1], a[2]}), md.expect([]string{a[0], b[1], a[2]}), ""},
		{"mixed: last chunk of another session", e.header([]string{a[0], a[1], b[2]}), md.expect([]string{a[0], a[1], b[2]}), ""},
		{"count 4, over MaxChunks, with session.3", "session=4" + a[0][1:] + "; session.1=" + a[1] + "; session.2=" + a[2] + "; session.3=" + a[2], ErrMalformed, ""},
		{"count 11", "session=11" + a[0][1:] + "; session.1=" + a[1] + "; session.2=" + a[2], ErrMalformed, ""},
		{"chunk index past MaxChunks without a first cookie", "session.3=" + a[1], ErrMalformed, ""},
		{"names that are no chunk's are not session cookies", "session.10=" + a[1] + "; session.01=" + a[2] + "; session.x=1; Session=" + single, nil, ""},
		{"control: chunk index past the maximum is ignored", e.header(a) + "; session.3=" + b[2], nil, loadedA},
		{"sealed for another cookie name", mintWith(e.kr, e.clock, Config{Name: "other"}), ErrAuthFailed, ""},
		{"sealed for another purpose", mintWith(e.kr, e.clock, Config{Codec: Options{Purpose: "admin"}}), ErrAuthFailed, ""},
		{"expired 15 days ago", mintWith(e.kr, newTestClock(t0-15*day), Config{}), ErrExpired, ""},
		{"expired at the clock-skew boundary", mintWith(e.kr, newTestClock(t0-3610), Config{Lifetime: time.Hour}), ErrExpired, ""},
		{"control: within the clock skew", mintWith(e.kr, newTestClock(t0-3609), Config{Lifetime: time.Hour}), nil, loadedSingle},
		{"under a disabled key", mintWith(keyring(testKey(t, 3, 3)), e.clock, Config{}), ErrKeyDisabled, ""},
		{"under an unknown key", mintWith(keyring(testKey(t, 9, 9)), e.clock, Config{}), ErrUnknownKey, ""},
		{"control: under a decrypt-only key", mintWith(keyring(testKey(t, 2, 2)), e.clock, Config{}), nil, loadedSingle},
		{"version byte edited to 1", "session=" + hdEdit(t, single, func(r []byte) { r[0] = 1 }), ErrUnsupportedVersion, ""},
		{"version byte edited to 3", "session=" + hdEdit(t, single, func(r []byte) { r[0] = 3 }), ErrUnsupportedVersion, ""},
		{"version byte edited to 0", "session=" + hdEdit(t, single, func(r []byte) { r[0] = 0 }), ErrUnsupportedVersion, ""},
		{"control: a session sealed field by field", raw(formatVersion, 0, goodPayload), nil, loadedSingle},
		{"version 1 (the format before this one), sealed", "session=" + rawV1(t, e.m.names[0], ""), ErrUnsupportedVersion, ""},
		{"version 3, sealed", raw(3, 0, goodPayload), ErrUnsupportedVersion, ""},
		{"unknown flag, sealed", raw(formatVersion, 0x10, goodPayload), ErrUnsupportedVersion, ""},
		{"unknown compression method, sealed", raw(formatVersion, 0x02, goodPayload), ErrUnsupportedVersion, ""},
		{"session compressed as a whole, sealed", raw(formatVersion, methodDeflate, deflate(t, goodPayload)), ErrMalformed, ""},
		{"a Codec value under the session's name", "session=" + rawValue{version: formatVersion, key: testKey(t, 1, 1),
			iat: t0, exp: t0 + 3600, body: goodPayload, name: e.m.names[0]}.seal(t), ErrAuthFailed, ""},
		{"flags edited", "session=" + hdEdit(t, single, func(r []byte) { r[1] = methodDeflate }), ErrAuthFailed, ""},
		{"session payload version 3, sealed", "session=" + hdSealRaw(t, e.m, futurePayload), ErrUnsupportedVersion, ""},
		{"session payload version 1, sealed", "session=" + hdSealRaw(t, e.m, v1Payload), ErrUnsupportedVersion, ""},
		{"session payload garbage, sealed", "session=" + hdSealRaw(t, e.m, badPayload), ErrMalformed, ""},
		{"session payload with an overlong uvarint, sealed", "session=" + hdSealRaw(t, e.m, overlong), ErrMalformed, ""},
		{"garbage with a valid header", "session=" + hdEdit(t, single, func(r []byte) { copy(r[30:], bytes.Repeat([]byte{0x5a}, 40)) }), ErrAuthFailed, ""},
		{"not base64: punctuation", "session=!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", ErrMalformed, ""},
		{"not base64url: standard alphabet", "session=" + single[:40] + "+/" + single[42:], ErrMalformed, ""},
		{"not base64url: padding", "session=" + single + "==", ErrMalformed, ""},
		{"not base64url: UTF-8", "session=" + single[:40] + "é" + single[42:], ErrMalformed, ""},
		{"not base64url: NUL", "session=" + single[:40] + "\x00" + single[41:], ErrMalformed, ""},
		{"not base64url: CR LF", "session=" + single[:40] + "\r\n" + single[40:], ErrMalformed, ""},
		{"not base64url: inner space", "session=" + single[:40] + " " + single[40:], ErrMalformed, ""},
		{"not base64url: high bytes", "session=\xff\xfe\x80" + single[3:], ErrMalformed, ""},
		{"empty value", "session=", ErrMalformed, ""},
		{"empty quoted value", `session=""`, ErrMalformed, ""},
		{"blank value", "session= \t ", ErrMalformed, ""},
		{"empty chunks", "session=3.; session.1=; session.2=", ErrMalformed, ""},
		{"name without a value is not a cookie", "session; session.1", nil, ""},
		{"control: 3000 cookies", hdRepeat(maxCookiePairs-1, "a=1") + "session=" + single, nil, loadedSingle},
		{"3001 cookies", hdRepeat(maxCookiePairs, "a=1") + "session=" + single, ErrMalformed, ""},
		{"3001 cookies, session first", "session=" + single + "; " + hdRepeat(maxCookiePairs, "a=1"), ErrMalformed, ""},
		{"3000 garbage session cookies", hdRepeat(maxCookiePairs, "session=x"), ErrMalformed, ""},
		{"authentic chunks behind 1498 wrong candidates each", "session=" + a[0] + "; " +
			hdRepeat(1498, "session.1="+a[2]) + "session.1=" + a[1] + "; " + hdRepeat(1498, "session.2="+a[1]) + "session.2=" + a[2],
			md.expect([]string{a[0], a[2], a[1]}), ""},
		{"control: compressed 30 KiB, under the caps", hdCompressible(t, big.m, hdWords(30<<10, 64)), nil, "new=false n=3 keys=2"},
		{"compressed 1 MiB session, over the caps", hdCompressible(t, big.m, strings.Repeat("a", 1<<20)), ErrTooLarge, ""},
		{"compressed 65 KiB session, over MaxSessionSize", hdCompressible(t, big.m, hdWords(65<<10, 4)), ErrTooLarge, ""},
		{"2 KiB of one letter, over MaxCompressionRatio", hdCompressible(t, big.m, strings.Repeat("a", 2<<10)), ErrTooLarge, ""},
		{"crafted: a value that claims to inflate to 4 MiB", "session=" + hdSealRaw(t, big.m, bomb), ErrTooLarge, ""},
	}
}

// TestTamperCases runs the rest of the tamper list.
func TestTamperCases(t *testing.T) {
	e := hdNew(t, Config{})
	for _, tt := range hdCases(t, e) {
		r := e.serve("/", tt.header)
		body := tt.body
		if body == "" {
			body = hdFreshBody
		}
		if r.status != http.StatusOK || r.body != body {
			t.Errorf("%s: status %d body %q, want 200 %q (hook %v)", tt.name, r.status, r.body, body, r.errs)
			continue
		}
		if tt.want == nil {
			if len(r.errs) != 0 {
				t.Errorf("%s: ErrorHook got %v, want no call", tt.name, r.errs)
			}
			continue
		}
		if got := hdSentinel(r.errs); got != tt.want {
			t.Errorf("%s: ErrorHook got %v, want one error wrapping %v", tt.name, r.errs, tt.want)
		}
	}
}

// TestTamperBitFlips flips each of the low 7 bits of every character of
// every chunk of a single-cookie and a 3-chunk session: 7 × the number of
// characters, about 72,000 requests (sampled under -race: hdPositions).
// No flip is skipped: the request goes to the handler in memory, so any
// byte reaches the cookie parser. A flip that gives ';' cuts the value
// short there, and one that gives a space or tab at either end of a value
// is trimmed off; both act as a truncation. Any other byte outside
// base64url ('=', '"', ',', '.', control bytes, CR, LF) makes the value
// malformed. Each outcome must match hdModel exactly and be among
// the sentinels of hdRegion for the character's byte region. (Over a real
// connection, net/http refuses control bytes in a header value with a 400
// before the handler runs; TestTamperHeaderTooLarge, in loadtest_test.go,
// covers the server's own header limit.)
func TestTamperBitFlips(t *testing.T) {
	e := hdNew(t, Config{})
	sessions := []hdMatrix{
		{"single cookie", e.mint(t, 7, 0, 1)},
		{"3 chunks", e.mintChunks(t, 3, 2)},
	}
	for _, sess := range sessions {
		for i := range sess.vals {
			t.Run(fmt.Sprintf("%s/chunk %d", sess.name, i), func(t *testing.T) {
				t.Parallel()
				hdFlipChunk(t, e, sess.vals, i)
			})
		}
	}
}

func hdFlipChunk(t *testing.T, e *hdEnv, vals []string, i int) {
	md := hdModelFor(e, vals)
	counts := map[error]int{}
	flipped := slices.Clone(vals)
	seen := slices.Clone(vals)
	v := vals[i]
	positions := hdPositions(len(v))
	for _, j := range positions {
		for k := range 7 {
			b := []byte(v)
			b[j] ^= 1 << k
			flipped[i], seen[i] = string(b), hdSeen(string(b))
			want := md.expect(seen)
			what := fmt.Sprintf("chunk %d char %d %q bit %d -> %q", i, j, v[j], k, b[j])
			if want == nil {
				t.Fatalf("%s: the model says the altered cookie still opens", what)
			}
			region := hdRegion(hdPos(vals, i, j))
			if !slices.Contains(region, want) {
				t.Fatalf("%s: model predicts %v, outside the region's %v", what, want, region)
			}
			e.serve("/", e.header(flipped)).wantFresh(t, what, want)
			counts[want]++
		}
	}
	t.Logf("%d flips at %d of %d characters: %v", 7*len(positions), len(positions), len(v), counts)
	if counts[ErrMalformed] == 0 || counts[ErrAuthFailed] == 0 {
		t.Errorf("flips gave %v, want both ErrMalformed and ErrAuthFailed", counts)
	}
	if i == 0 && (counts[ErrUnsupportedVersion] == 0 || counts[ErrUnknownKey] == 0) {
		t.Errorf("first chunk's flips gave %v, want ErrUnsupportedVersion and ErrUnknownKey too", counts)
	}
}

// TestTamperTruncation sends every proper prefix of every chunk, with the
// other chunks intact.
func TestTamperTruncation(t *testing.T) {
	e := hdNew(t, Config{})
	sessions := []hdMatrix{
		{"single cookie", e.mint(t, 7, 0, 3)},
		{"2 chunks", e.mintChunks(t, 2, 4)},
		{"3 chunks", e.mintChunks(t, 3, 5)},
	}
	for _, sess := range sessions {
		t.Run(sess.name, func(t *testing.T) {
			t.Parallel()
			md := hdModelFor(e, sess.vals)
			counts := map[error]int{}
			for i, v := range sess.vals {
				cut := slices.Clone(sess.vals)
				for _, l := range hdPositions(len(v)) {
					cut[i] = v[:l]
					want := md.expect(cut)
					what := fmt.Sprintf("chunk %d cut to %d of %d", i, l, len(v))
					if i == len(sess.vals)-1 && want != ErrMalformed && want != ErrAuthFailed {
						// Nothing follows the last chunk: a prefix keeps the
						// version and key ID, or is too short.
						t.Fatalf("%s: model predicts %v", what, want)
					}
					e.serve("/", e.header(cut)).wantFresh(t, what, want)
					counts[want]++
				}
			}
			t.Logf("%v", counts)
		})
	}
}

// hdWords returns n bytes of words drawn at random from a vocabulary of
// vocab (at most 100), which DEFLATE shrinks about as much as session data
// with 64 (about 5 times), and still under 32 times with 4.
func hdWords(n, vocab int) string {
	r := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, "item%02d,", r.IntN(vocab))
	}
	return b.String()[:n]
}
