package fuzz

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cs "github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/chacha20poly1305"
)

// fuzzNow is the fixed clock of every codec here. It has a fractional second
// so that truncation to whole seconds is exercised.
var fuzzNow = time.Date(2030, time.June, 15, 12, 30, 45, 500_000_000, time.UTC)

func clock() time.Time { return fuzzNow }

// The fixed keys. The keyring holds the first three; unknownID is only used to
// seal values that the keyring does not know.
const (
	primaryID     cs.KeyID = 0x5eed0001
	decryptOnlyID cs.KeyID = 0x5eed0002
	disabledID    cs.KeyID = 0x5eed0003
	unknownID     cs.KeyID = 0x5eed0004
)

// Limits of the codecs here. The payload cap is 1 KiB rather than the
// default 64 KiB so that the fuzzer reaches ErrTooLarge with small inputs.
// With the default, only inputs of tens of kilobytes get there, and the
// fuzzer then spends its time minimizing them (minimization tries a number of
// candidates quadratic in the input's length). The clock skew is the default.
const (
	maxPayload = 1 << 10
	skewSecs   = int64(cs.DefaultClockSkew / time.Second)
	overhead   = 30 + 16 + 16 // header, times, tag
	maxUnix    = 253402300799
)

var maxText = base64.RawURLEncoding.EncodedLen(overhead + maxPayload)

// keyStates is what the spec decoder knows about the fixed keyring.
var keyStates = map[cs.KeyID]cs.KeyState{
	primaryID:     cs.KeyPrimary,
	decryptOnlyID: cs.KeyDecryptOnly,
	disabledID:    cs.KeyDisabled,
}

// secretFor returns fixed key material: bytes 1..32 for 5eed0001, 33..64 for
// 5eed0002, and so on.
func secretFor(id cs.KeyID) []byte {
	n := int(id - 0x5eed0000)
	b := make([]byte, cs.KeySize)
	for i := range b {
		b[i] = byte((n-1)*cs.KeySize + i + 1)
	}
	return b
}

func mustKey(tb testing.TB, id cs.KeyID) cs.Key {
	tb.Helper()
	k, err := cs.NewKey(id, secretFor(id))
	if err != nil {
		tb.Fatalf("NewKey(%v): %v", id, err)
	}
	return k
}

// fixedKeyring returns the keyring of the fuzz targets: 5eed0001 primary,
// 5eed0002 decrypt-only, 5eed0003 disabled.
func fixedKeyring(tb testing.TB) *cs.Keyring {
	tb.Helper()
	kr, err := cs.NewKeyring(mustKey(tb, primaryID), mustKey(tb, decryptOnlyID), mustKey(tb, disabledID))
	if err != nil {
		tb.Fatalf("NewKeyring: %v", err)
	}
	if err := kr.Disable(disabledID); err != nil {
		tb.Fatalf("Disable: %v", err)
	}
	return kr
}

func newCodec(tb testing.TB, kr *cs.Keyring, opts cs.Options) *cs.Codec {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = clock
	}
	if opts.MaxPayloadSize == 0 {
		opts.MaxPayloadSize = maxPayload
	}
	c, err := cs.NewCodec(kr, &opts)
	if err != nil {
		tb.Fatalf("NewCodec: %v", err)
	}
	return c
}

// singleKeyCodec seals under key id alone, to make values for keys that are
// not the fixed keyring's primary.
func singleKeyCodec(tb testing.TB, id cs.KeyID, now time.Time) *cs.Codec {
	tb.Helper()
	kr, err := cs.NewKeyring(mustKey(tb, id))
	if err != nil {
		tb.Fatalf("NewKeyring: %v", err)
	}
	return newCodec(tb, kr, cs.Options{Now: func() time.Time { return now }})
}

func mustSeal(tb testing.TB, c *cs.Codec, name string, v any, exp time.Time) string {
	tb.Helper()
	s, err := c.Seal(name, v, exp)
	if err != nil {
		tb.Fatalf("Seal(%q): %v", name, err)
	}
	return s
}

var openSentinels = []error{
	cs.ErrMalformed, cs.ErrUnsupportedVersion, cs.ErrUnknownKey, cs.ErrKeyDisabled,
	cs.ErrAuthFailed, cs.ErrExpired, cs.ErrTooLarge,
}

var keyringSentinels = []error{cs.ErrInvalidKeyring, cs.ErrInvalidKey, cs.ErrDuplicateKeyID}

// soleSentinel returns the one sentinel of set that err wraps, and fails the
// test if err wraps none or several.
func soleSentinel(t *testing.T, what string, err error, set []error) error {
	t.Helper()
	var found []error
	for _, s := range set {
		if errors.Is(err, s) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: error %q wraps %d of the expected sentinels %v, want exactly 1", what, err, len(found), found)
	}
	return found[0]
}

// ---- An independent encoder and decoder, written from SPEC.md ----

// specAD is the associated data of SPEC.md §4.1, with the empty purpose.
func specAD(header []byte, name string) []byte {
	ad := append([]byte(nil), header...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(name)))
	ad = append(ad, name...)
	return binary.BigEndian.AppendUint32(ad, 0)
}

func specPlaintext(iat, exp int64, body []byte) []byte {
	p := binary.BigEndian.AppendUint64(nil, uint64(iat))
	p = binary.BigEndian.AppendUint64(p, uint64(exp))
	return append(p, body...)
}

// specSeal seals plaintext (times and body) under key id with the given flags
// byte, for cookie name, with a fixed nonce. It checks nothing, so it can make
// authenticated values that the library would never produce.
func specSeal(id cs.KeyID, flags byte, plaintext []byte, name string) string {
	aead, err := chacha20poly1305.NewX(secretFor(id))
	if err != nil {
		panic(err)
	}
	nonce := make([]byte, 24)
	for i := range nonce {
		nonce[i] = byte(0xa0 + i)
	}
	header := []byte{0x01, flags}
	header = binary.BigEndian.AppendUint32(header, uint32(id))
	header = append(header, nonce...)
	sealed := aead.Seal(header, nonce, plaintext, specAD(header, name))
	return base64.RawURLEncoding.EncodeToString(sealed)
}

// specResult is what the spec decoder makes of a value.
type specResult struct {
	err     error   // the sentinel of the first failing check; nil if the payload was reached
	authed  bool    // authentication succeeded
	info    cs.Info // set once the timestamps were validated
	payload []byte  // set when err is nil
}

// specOpen runs steps 1-9 of SPEC.md §6 against the fixed keyring and clock.
func specOpen(name, text string) specResult {
	// 1. Length.
	if len(text) > maxText {
		return specResult{err: cs.ErrTooLarge}
	}
	// 2. Strict base64url, no padding, canonical, at least 62 bytes.
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return specResult{err: cs.ErrMalformed}
		}
	}
	if len(text)%4 == 1 {
		return specResult{err: cs.ErrMalformed}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(raw) < overhead {
		return specResult{err: cs.ErrMalformed}
	}
	// 3. Version.
	if raw[0] != 0x01 {
		return specResult{err: cs.ErrUnsupportedVersion}
	}
	// 4. Key lookup.
	id := cs.KeyID(binary.BigEndian.Uint32(raw[2:6]))
	st, ok := keyStates[id]
	switch {
	case !ok:
		return specResult{err: cs.ErrUnknownKey}
	case st == cs.KeyDisabled:
		return specResult{err: cs.ErrKeyDisabled}
	}
	// 5. Authenticate.
	aead, err := chacha20poly1305.NewX(secretFor(id))
	if err != nil {
		panic(err)
	}
	plain, err := aead.Open(nil, raw[6:30], raw[30:], specAD(raw[:30], name))
	if err != nil {
		return specResult{err: cs.ErrAuthFailed}
	}
	// 6. Flags.
	flags := raw[1]
	if flags&0xf0 != 0 || flags&0x0f > 1 {
		return specResult{err: cs.ErrUnsupportedVersion, authed: true}
	}
	// 7. Timestamps.
	iat := int64(binary.BigEndian.Uint64(plain[0:8]))
	exp := int64(binary.BigEndian.Uint64(plain[8:16]))
	if iat < 0 || iat > maxUnix || exp < 0 || exp > maxUnix || exp < iat {
		return specResult{err: cs.ErrMalformed, authed: true}
	}
	res := specResult{authed: true, info: cs.Info{
		KeyID:      id,
		Primary:    st == cs.KeyPrimary,
		IssuedAt:   time.Unix(iat, 0).UTC(),
		ExpiresAt:  time.Unix(exp, 0).UTC(),
		Compressed: flags == 1,
	}}
	// 8. Expiry.
	if fuzzNow.Unix() >= exp+skewSecs {
		res.err = cs.ErrExpired
		return res
	}
	// 9. Body.
	body := plain[16:]
	if flags == 0 {
		if len(body) > maxPayload {
			res.err = cs.ErrTooLarge
			return res
		}
		res.payload = body
		return res
	}
	src := bytes.NewReader(body)
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(src), maxPayload+1))
	switch {
	case len(out) > maxPayload:
		res.err = cs.ErrTooLarge
	case err != nil, src.Len() != 0:
		res.err = cs.ErrMalformed
	default:
		res.payload = out
	}
	return res
}

// checkOpen opens value for name into both targets and compares each outcome
// with the spec decoder's.
func checkOpen(t *testing.T, c *cs.Codec, name, value string) {
	t.Helper()
	want := specOpen(name, value)

	var gotMap map[string]json.RawMessage
	infoMap, errMap := c.Open(name, value, &gotMap)
	var gotRaw json.RawMessage
	infoRaw, errRaw := c.Open(name, value, &gotRaw)

	var wantMap map[string]json.RawMessage
	var wantRaw json.RawMessage
	wantErrMap, wantErrRaw := want.err, want.err
	if want.err == nil {
		if json.Unmarshal(want.payload, &wantMap) != nil {
			wantErrMap = cs.ErrMalformed
		}
		if json.Unmarshal(want.payload, &wantRaw) != nil {
			wantErrRaw = cs.ErrMalformed
		}
	}

	check := func(target string, info cs.Info, err, wantErr error) {
		t.Helper()
		what := fmt.Sprintf("Open(%q, %q) into %s", name, value, target)
		if err != nil {
			got := soleSentinel(t, what, err, openSentinels)
			if wantErr == nil {
				t.Fatalf("%s: error %q (%v), want success", what, err, got)
			}
			if got != wantErr {
				t.Fatalf("%s: error %q, want one wrapping %v", what, err, wantErr)
			}
			if !want.authed && info != (cs.Info{}) {
				t.Fatalf("%s: unauthenticated value gave non-zero Info %+v", what, info)
			}
			if errors.Is(err, cs.ErrExpired) {
				if d := cmp.Diff(want.info, info); d != "" {
					t.Fatalf("%s: Info with ErrExpired (-want +got):\n%s", what, d)
				}
			}
			return
		}
		if wantErr != nil {
			t.Fatalf("%s: succeeded, want error wrapping %v", what, wantErr)
		}
		if d := cmp.Diff(want.info, info); d != "" {
			t.Fatalf("%s: Info (-want +got):\n%s", what, d)
		}
		if info.KeyID != primaryID && info.KeyID != decryptOnlyID {
			t.Fatalf("%s: opened under key %v, which cannot open", what, info.KeyID)
		}
		if fuzzNow.Unix() >= info.ExpiresAt.Unix()+skewSecs {
			t.Fatalf("%s: opened a value that expired at %v", what, info.ExpiresAt)
		}
		if enc, err := base64.RawURLEncoding.DecodeString(value); err != nil || base64.RawURLEncoding.EncodeToString(enc) != value {
			t.Fatalf("%s: opened a value that is not canonical base64url", what)
		}
	}
	check("*map[string]json.RawMessage", infoMap, errMap, wantErrMap)
	check("*json.RawMessage", infoRaw, errRaw, wantErrRaw)
	if errMap == nil {
		if d := cmp.Diff(wantMap, gotMap); d != "" {
			t.Fatalf("Open(%q, %q) into map (-want +got):\n%s", name, value, d)
		}
	}
	if errRaw == nil && !bytes.Equal(wantRaw, gotRaw) {
		t.Fatalf("Open(%q, %q) into RawMessage = %q, want %q", name, value, gotRaw, wantRaw)
	}
}

// craftMax is the longest fuzz input that craftFromFuzz seals. Longer bodies
// reach no new code (the payload cap is 1 KiB, and a DEFLATE stream that
// inflates past it can be a few bytes), and would slow down minimization.
const craftMax = 512

// craftFromFuzz turns fuzz bytes into an authenticated value under the
// primary key for name: the first byte is the flags, the rest the body, and
// the times are valid. It returns "" for empty input or input longer than
// craftMax.
func craftFromFuzz(name, value string) string {
	if value == "" || len(value) > craftMax {
		return ""
	}
	pt := specPlaintext(fuzzNow.Unix()-60, fuzzNow.Add(time.Hour).Unix(), []byte(value[1:]))
	return specSeal(primaryID, value[0], pt, name)
}

func deflate(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// mutateRaw decodes a sealed value, lets f change its bytes, and encodes it
// again.
func mutateRaw(tb testing.TB, value string, f func([]byte) []byte) string {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(f(raw))
}

func FuzzOpen(f *testing.F) {
	kr := fixedKeyring(f)
	c := newCodec(f, kr, cs.Options{})

	exp := fuzzNow.Add(time.Hour)
	small := mustSeal(f, c, "session", map[string]any{"user": "alice", "n": 1}, exp)
	large := mustSeal(f, c, "session", map[string]any{"items": strings.Repeat("cart-item,", 80)}, exp)
	other := mustSeal(f, c, "other", map[string]any{"csrf": "t0k3n"}, exp)
	array := mustSeal(f, c, "session", []int{1, 2, 3}, exp)
	old := mustSeal(f, singleKeyCodec(f, decryptOnlyID, fuzzNow), "session", map[string]string{"k": "old"}, exp)
	disabled := mustSeal(f, singleKeyCodec(f, disabledID, fuzzNow), "session", map[string]string{"k": "d"}, exp)
	unknown := mustSeal(f, singleKeyCodec(f, unknownID, fuzzNow), "session", map[string]string{"k": "u"}, exp)
	expired := mustSeal(f, singleKeyCodec(f, primaryID, fuzzNow.Add(-3*time.Hour)), "session", map[string]string{"k": "e"}, fuzzNow.Add(-time.Hour))

	// Real values from the codec.
	f.Add("session", small)
	f.Add("session", large)
	f.Add("other", other)
	f.Add("session", array)
	f.Add("session", old)
	f.Add("session", disabled)
	f.Add("session", unknown)
	f.Add("session", expired)
	// Empty and junk.
	f.Add("", "")
	f.Add("session", "")
	f.Add("session", "!!not base64!!")
	f.Add("session", "AAAA")
	f.Add("session", strings.Repeat("A", 83))
	f.Add("session", strings.Repeat("A", maxText+1))
	// Near-valid mutations.
	f.Add("other", small)   // wrong name
	f.Add("session", other) // wrong name
	f.Add("session\x00", small)
	f.Add("session", small[:len(small)-1])
	f.Add("session", small[:len(small)-4])
	f.Add("session", small+"A")
	f.Add("session", small+"=")
	// The text of small is a multiple of 4 long, so one CR or LF does not
	// change its decoded length: encoding/base64 alone would accept it.
	f.Add("session", small+"\n")
	f.Add("session", small[:40]+"\r"+small[40:])
	f.Add("session", small[:40]+"\r\n"+small[40:])
	f.Add("session", strings.NewReplacer("-", "+", "_", "/").Replace(large))
	f.Add("session", small[:len(small)-1]+string(small[len(small)-1]^1))
	f.Add("session", mutateRaw(f, small, func(b []byte) []byte { b[0] = 2; return b }))
	f.Add("session", mutateRaw(f, small, func(b []byte) []byte { b[1] = 1; return b }))
	f.Add("session", mutateRaw(f, small, func(b []byte) []byte { b[5] ^= 1; return b }))
	f.Add("session", mutateRaw(f, small, func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }))
	f.Add("session", mutateRaw(f, small, func(b []byte) []byte { return b[:overhead] }))
	// Authenticated values that the codec would not make, to reach the
	// checks after authentication.
	in := fuzzNow.Unix() - 60
	out := fuzzNow.Add(time.Hour).Unix()
	f.Add("session", specSeal(primaryID, 0x00, specPlaintext(in, out, []byte(`{"a":1}`)), "session"))
	f.Add("session", specSeal(primaryID, 0x01, specPlaintext(in, out, deflate(f, []byte(`{"a":"`+strings.Repeat("x", 500)+`"}`))), "session"))
	f.Add("session", specSeal(primaryID, 0x10, specPlaintext(in, out, []byte(`{}`)), "session"))
	f.Add("session", specSeal(primaryID, 0x02, specPlaintext(in, out, []byte(`{}`)), "session"))
	f.Add("session", specSeal(primaryID, 0x00, specPlaintext(out, in, []byte(`{}`)), "session"))
	f.Add("session", specSeal(primaryID, 0x00, specPlaintext(-1, out, []byte(`{}`)), "session"))
	f.Add("session", specSeal(primaryID, 0x00, specPlaintext(in, maxUnix+1, []byte(`{}`)), "session"))
	f.Add("session", specSeal(primaryID, 0x00, specPlaintext(in, fuzzNow.Unix()-skewSecs, []byte(`{}`)), "session"))
	f.Add("session", specSeal(primaryID, 0x00, specPlaintext(in, fuzzNow.Unix()-skewSecs+1, []byte(`{}`)), "session"))
	f.Add("session", specSeal(primaryID, 0x01, specPlaintext(in, out, []byte{0xff, 0xff}), "session"))
	f.Add("session", specSeal(primaryID, 0x01, specPlaintext(in, out, nil), "session"))
	f.Add("session", specSeal(primaryID, 0x01, specPlaintext(in, out, append(deflate(f, []byte(`{}`)), 0)), "session"))
	f.Add("session", specSeal(primaryID, 0x01, specPlaintext(in, out, deflate(f, make([]byte, maxPayload+1))), "session"))
	f.Add("session", specSeal(primaryID, 0x01, specPlaintext(in, out, deflate(f, bytes.Repeat([]byte(" "), maxPayload))), "session"))
	f.Add("session", specSeal(primaryID, 0x01, specPlaintext(in, out, deflate(f, []byte(`"`+strings.Repeat("y", maxPayload-2)+`"`))), "session"))
	f.Add("session", specSeal(primaryID, 0x01, specPlaintext(in, out, deflate(f, []byte(`"`+strings.Repeat("y", maxPayload-1)+`"`))), "session"))
	f.Add("session", specSeal(primaryID, 0x00, specPlaintext(in, out, []byte(`"`+strings.Repeat("y", maxPayload-2)+`"`)), "session"))
	f.Add("session", specSeal(primaryID, 0x00, []byte("short"), "session"))
	// Bodies for the crafted path: flags byte, then body.
	f.Add("session", "\x00{\"user\":\"bob\"}")
	f.Add("session", "\x01"+string(deflate(f, []byte(`{"user":"bob","roles":["a","b"]}`))))
	f.Add("session", "\x01\x01\x05\x00\xfa\xff[1,2]")
	f.Add("s", "\x11{}")

	f.Fuzz(func(t *testing.T, name, value string) {
		checkOpen(t, c, name, value)
		if crafted := craftFromFuzz(name, value); crafted != "" {
			checkOpen(t, c, name, crafted)
		}
	})
}

// sealInput is the value FuzzSealOpen seals.
type sealInput struct {
	S    string
	N    int64
	B    bool
	Data []byte
	Name string
}

func FuzzSealOpen(f *testing.F) {
	kr := fixedKeyring(f)
	codecs := []struct {
		name  string
		c     *cs.Codec
		never bool // never compresses
	}{
		{"compressed", newCodec(f, kr, cs.Options{CompressThreshold: 1}), false},
		{"uncompressed", newCodec(f, kr, cs.Options{CompressThreshold: 1, DisableCompression: true}), true},
	}

	f.Add("", int64(0), false, []byte(nil), "session")
	f.Add("alice", int64(42), true, []byte("data"), "session")
	f.Add(strings.Repeat("abc", 30), int64(-1), false, []byte{}, "s")
	f.Add("\xff\xfe invalid \xc3", int64(-1<<63), true, []byte{0, 1, 2, 255}, "")
	f.Add("<script>&\u2028\U0001F600", int64(1<<63-1), false, bytes.Repeat([]byte{7}, 40), "name with spaces\x00")
	// Too large: each NUL is 6 bytes of JSON. The seeds are kept short, since
	// minimizing a long input that turns out interesting takes minutes.
	f.Add(strings.Repeat("\x00", maxPayload/6+1), int64(1), true, []byte(nil), "big")

	f.Fuzz(func(t *testing.T, s string, n int64, b bool, data []byte, name string) {
		in := sealInput{
			S:    strings.ToValidUTF8(s, "\uFFFD"),
			N:    n,
			B:    b,
			Data: data,
			Name: strings.ToValidUTF8(name, "\uFFFD"),
		}
		payload, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		exp := fuzzNow.Add(time.Hour)
		for _, cc := range codecs {
			text, err := cc.c.Seal(name, in, exp)
			if len(payload) > maxPayload {
				if !errors.Is(err, cs.ErrTooLarge) {
					t.Fatalf("%s: Seal of a %d-byte payload: error %v, want ErrTooLarge", cc.name, len(payload), err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: Seal: %v", cc.name, err)
			}

			var got sealInput
			info, err := cc.c.Open(name, text, &got)
			if err != nil {
				t.Fatalf("%s: Open: %v", cc.name, err)
			}
			if d := cmp.Diff(in, got); d != "" {
				t.Fatalf("%s: round trip (-sealed +opened):\n%s", cc.name, d)
			}
			if info.KeyID != kr.Primary() || info.KeyID != primaryID || !info.Primary {
				t.Fatalf("%s: Info.KeyID = %v (Primary %v), want primary %v", cc.name, info.KeyID, info.Primary, primaryID)
			}
			if !info.ExpiresAt.Equal(exp.Truncate(time.Second)) {
				t.Fatalf("%s: Info.ExpiresAt = %v, want %v", cc.name, info.ExpiresAt, exp.Truncate(time.Second))
			}
			if !info.IssuedAt.Equal(fuzzNow.Truncate(time.Second)) {
				t.Fatalf("%s: Info.IssuedAt = %v, want %v", cc.name, info.IssuedAt, fuzzNow.Truncate(time.Second))
			}
			if cc.never && info.Compressed {
				t.Fatalf("%s: value is compressed with compression disabled", cc.name)
			}

			// The value must follow SPEC.md: the spec decoder reads the
			// same payload and Info.
			ref := specOpen(name, text)
			if ref.err != nil {
				t.Fatalf("%s: spec decoder rejects the sealed value: %v", cc.name, ref.err)
			}
			if !bytes.Equal(ref.payload, payload) {
				t.Fatalf("%s: spec decoder payload %q, want %q", cc.name, ref.payload, payload)
			}
			if d := cmp.Diff(ref.info, info); d != "" {
				t.Fatalf("%s: Info differs from the spec decoder's (-spec +got):\n%s", cc.name, d)
			}

			// Bound to the cookie name.
			var other sealInput
			if _, err := cc.c.Open(name+"x", text, &other); !errors.Is(err, cs.ErrAuthFailed) {
				t.Fatalf("%s: Open under another name: error %v, want ErrAuthFailed", cc.name, err)
			}
		}
	})
}

// isKeyringSep reports whether r separates keyring entries (SPEC.md §10).
func isKeyringSep(r rune) bool {
	return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n'
}

// secretsIn returns every part of text, split at separators and colons, that
// looks like the secret of an entry: 43 base64url characters.
func secretsIn(text string) []string {
	var out []string
	for _, field := range strings.FieldsFunc(text, isKeyringSep) {
		for _, part := range strings.Split(field, ":") {
			if len(part) == 43 && strings.Trim(part, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func FuzzParseKeyring(f *testing.F) {
	p := "csk1:5eed0001:primary:" + base64.RawURLEncoding.EncodeToString(secretFor(primaryID))
	d := "csk1:5eed0002:decrypt-only:" + base64.RawURLEncoding.EncodeToString(secretFor(decryptOnlyID))
	x := "csk1:5eed0003:disabled:" + base64.RawURLEncoding.EncodeToString(secretFor(disabledID))
	zero := strings.Repeat("A", 43)

	// Valid.
	f.Add(p)
	f.Add(p + "," + d + "," + x)
	f.Add(" \t\r\n,," + d + "\n" + p + "\r\n" + x + " ,")
	f.Add(fixedKeyring(f).Marshal())
	// Broken.
	f.Add("")
	f.Add(" , \n")
	f.Add("csk1:")
	f.Add(strings.Replace(p, "csk1", "csk2", 1))
	f.Add(strings.Replace(p, "5eed0001", "5EED0001", 1))
	f.Add(strings.Replace(p, "5eed0001", "00000000", 1))
	f.Add(strings.Replace(p, "5eed0001", "5eed001", 1))
	f.Add(strings.Replace(p, "primary", "Primary", 1))
	f.Add(p + ":extra")
	f.Add(p[:len(p)-1])
	f.Add(p + "A")
	f.Add(p + "=")
	f.Add(p[:len(p)-1] + "B") // non-zero unused bits
	f.Add(strings.Replace(p, "-", "+", 1) + "," + strings.Replace(d, "-", "+", 1))
	f.Add("csk1:5eed0001:primary:" + zero)
	f.Add(d)                                                          // no primary
	f.Add(x + "," + d)                                                // no primary
	f.Add(p + "," + strings.Replace(d, "decrypt-only", "primary", 1)) // two primaries
	f.Add(p + "," + strings.Replace(d, "5eed0002", "5eed0001", 1))    // duplicate ID
	f.Add(p + ";" + d)

	f.Fuzz(func(t *testing.T, text string) {
		kr, err := cs.ParseKeyring(text)

		var reloaded cs.Keyring
		rerr := reloaded.Reload(text)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("ParseKeyring error %v but Reload error %v", err, rerr)
		}

		if err != nil {
			if kr != nil {
				t.Fatalf("ParseKeyring returned a keyring and error %v", err)
			}
			soleSentinel(t, fmt.Sprintf("ParseKeyring(%q)", text), err, keyringSentinels)
			for _, secret := range secretsIn(text) {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("ParseKeyring(%q): error %q quotes the secret %q", text, err, secret)
				}
			}
			if len(reloaded.Keys()) != 0 {
				t.Fatalf("failed Reload changed an empty keyring: %v", &reloaded)
			}
			return
		}

		// Structure: one key per entry, in order, exactly one primary.
		fields := strings.FieldsFunc(text, isKeyringSep)
		keys := kr.Keys()
		if len(keys) != len(fields) {
			t.Fatalf("ParseKeyring(%q): %d keys from %d entries", text, len(keys), len(fields))
		}
		primaries := 0
		for i, k := range keys {
			if !strings.HasPrefix(fields[i], "csk1:"+k.ID.String()+":"+k.State.String()+":") {
				t.Fatalf("key %d is %v:%v, entry is %q", i, k.ID, k.State, fields[i])
			}
			if k.State == cs.KeyPrimary {
				primaries++
				if kr.Primary() != k.ID {
					t.Fatalf("Primary() = %v, want %v", kr.Primary(), k.ID)
				}
			}
		}
		if primaries != 1 {
			t.Fatalf("ParseKeyring(%q): %d primary keys", text, primaries)
		}

		// Round trip.
		m1 := kr.Marshal()
		kr2, err := cs.ParseKeyring(m1)
		if err != nil {
			t.Fatalf("ParseKeyring(Marshal()) of %q: %v", text, err)
		}
		if m2 := kr2.Marshal(); m2 != m1 {
			t.Fatalf("Marshal not stable:\nfirst:  %q\nsecond: %q", m1, m2)
		}
		if d := cmp.Diff(keys, kr2.Keys()); d != "" {
			t.Fatalf("Keys after round trip (-first +second):\n%s", d)
		}
		if d := cmp.Diff(keys, reloaded.Keys()); d != "" {
			t.Fatalf("Keys after Reload (-ParseKeyring +Reload):\n%s", d)
		}
		if reloaded.Marshal() != m1 {
			t.Fatalf("Reload Marshal %q, ParseKeyring Marshal %q", reloaded.Marshal(), m1)
		}

		// The printed forms never show a secret.
		printed := fmt.Sprintf("%v %s %+v %#v %q %d", kr, kr, kr, kr, kr, kr) + kr.String()
		for _, secret := range secretsIn(m1) {
			if strings.Contains(printed, secret) {
				t.Fatalf("printed keyring %q shows the secret %q", printed, secret)
			}
		}
	})
}

// corpusTargets lists each fuzz target with the types of its arguments, as
// they appear in the corpus files.
var corpusTargets = []struct {
	name  string
	types []string
}{
	{"FuzzOpen", []string{"string", "string"}},
	{"FuzzSealOpen", []string{"string", "int64", "bool", "[]byte", "string"}},
	{"FuzzParseKeyring", []string{"string"}},
}

func TestCorpus(t *testing.T) {
	for _, target := range corpusTargets {
		t.Run(target.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "fuzz", target.name)
			files, err := filepath.Glob(filepath.Join(dir, "*"))
			if err != nil {
				t.Fatalf("Glob: %v", err)
			}
			if len(files) < 3 {
				t.Fatalf("%s holds %d corpus files, want at least 3", dir, len(files))
			}
			for _, file := range files {
				checkCorpusFile(t, file, target.types)
			}
		})
	}
}

// checkCorpusFile checks that file is in the "go test fuzz v1" format with
// one line per argument, each starting with the argument's type.
func checkCorpusFile(t *testing.T, file string, types []string) {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		t.Errorf("%s: first line is not %q", file, "go test fuzz v1")
		return
	}
	var args []string
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			args = append(args, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(args) != len(types) {
		t.Errorf("%s: %d arguments, want %d", file, len(args), len(types))
		return
	}
	for i, a := range args {
		if !strings.HasPrefix(a, types[i]+"(") {
			t.Errorf("%s: argument %d is %.40q, want a %s", file, i+1, a, types[i])
		}
	}
}
