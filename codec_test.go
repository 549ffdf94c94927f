package cookiesession

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// openErrors are the sentinels Open may return; every error wraps one.
var openErrors = []error{ErrMalformed, ErrUnsupportedVersion, ErrUnknownKey, ErrKeyDisabled, ErrAuthFailed, ErrExpired, ErrTooLarge}

// wrapsOne reports whether err wraps exactly one of the Open sentinels.
func wrapsOne(err error) bool {
	n := 0
	for _, s := range openErrors {
		if errors.Is(err, s) {
			n++
		}
	}
	return n == 1
}

// testSetup is a keyring with a primary (1), a decrypt-only (2) and a
// disabled (3) key, a clock at t0, and a codec using both.
type testSetup struct {
	kr    *Keyring
	clock *testClock
	c     *Codec
}

func newSetup(t testing.TB, opts *Options) testSetup {
	t.Helper()
	kr := testKeyring(t)
	clock := newTestClock(t0)
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Now = clock.Now
	c, err := NewCodec(kr, &o)
	if err != nil {
		t.Fatal(err)
	}
	return testSetup{kr, clock, c}
}

// testKeyring returns a keyring of key 1 (primary), key 2 (decrypt-only)
// and key 3 (disabled).
func testKeyring(t testing.TB) *Keyring {
	t.Helper()
	kr, err := NewKeyring(testKey(t, 1, 1), testKey(t, 2, 2), testKey(t, 3, 3))
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Disable(3); err != nil {
		t.Fatal(err)
	}
	return kr
}

type cart struct {
	User  string
	Items []item
	Total int64
	Gift  bool
}

type item struct {
	SKU string
	Qty int
}

func TestSealOpenRoundTrip(t *testing.T) {
	big := cart{User: "ada", Total: 129900}
	for i := range 100 {
		big.Items = append(big.Items, item{SKU: "SKU-" + strings.Repeat("x", i%7), Qty: i})
	}
	tests := []struct {
		name           string
		in             any
		out            func() any
		opts           Options
		wantCompressed bool
	}{
		{"small struct", cart{User: "ada", Items: []item{{"a", 1}}}, func() any { return new(cart) }, Options{}, false},
		{"large struct, compression on", big, func() any { return new(cart) }, Options{Compress: true}, true},
		{"large struct, compression off by default", big, func() any { return new(cart) }, Options{}, false},
		{"map", map[string]any{"n": 1.5, "s": "x", "l": []any{"a", true}}, func() any { return new(map[string]any) }, Options{}, false},
		{"string", "hello", func() any { return new(string) }, Options{}, false},
		{"int with a purpose", 42, func() any { return new(int) }, Options{Purpose: "csrf"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &tt.opts)
			exp := s.clock.Now().Add(time.Hour)
			v, err := s.c.Seal("session", tt.in, exp)
			if err != nil {
				t.Fatal(err)
			}
			out := tt.out()
			info, err := s.c.Open("session", v, out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.in, derefAny(out)); diff != "" {
				t.Errorf("round trip (-in +out):\n%s", diff)
			}
			wantInfo := Info{KeyID: 1, Primary: true, IssuedAt: s.clock.Now(), ExpiresAt: exp, Compressed: tt.wantCompressed}
			if diff := cmp.Diff(wantInfo, info); diff != "" {
				t.Errorf("info (-want +got):\n%s", diff)
			}
		})
	}
}

// derefAny returns the value a pointer points to, for comparing with cmp.
func derefAny(p any) any {
	switch p := p.(type) {
	case *cart:
		return *p
	case *map[string]any:
		return *p
	case *string:
		return *p
	case *int:
		return *p
	}
	return p
}

func TestSealIsRandomized(t *testing.T) {
	s := newSetup(t, nil)
	exp := s.clock.Now().Add(time.Hour)
	a, _ := s.c.Seal("session", "same", exp)
	b, _ := s.c.Seal("session", "same", exp)
	if a == b {
		t.Fatal("two seals of the same value are identical: nonce not random")
	}
}

func TestOpenErrors(t *testing.T) {
	s := newSetup(t, &Options{Purpose: "login"})
	exp := s.clock.Now().Add(time.Hour)
	good, err := s.c.Seal("session", "v", exp)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewCodec(s.kr, &Options{Purpose: "csrf", Now: s.clock.Now})
	raw := func(mod func(*rawValue)) string {
		v := rawValue{version: formatVersion, key: testKey(t, 1, 1), iat: t0, exp: t0 + 3600, body: []byte(`"v"`), name: "session", purpose: "login"}
		mod(&v)
		return v.seal(t)
	}
	tests := []struct {
		name  string
		c     *Codec
		value string
		at    time.Duration // clock offset from t0 when opening
		want  error
	}{
		{"good", s.c, good, 0, nil},
		{"raw encoder agrees with codec", s.c, raw(func(*rawValue) {}), 0, nil},
		{"other cookie name", s.c, raw(func(v *rawValue) { v.name = "sessio" }), 0, ErrAuthFailed},
		{"other purpose", other, good, 0, ErrAuthFailed},
		{"last second within skew", s.c, good, time.Hour + 9*time.Second, nil},
		{"expired after skew", s.c, good, time.Hour + 10*time.Second, ErrExpired},
		{"decrypt-only key opens", s.c, raw(func(v *rawValue) { v.key = testKey(t, 2, 2) }), 0, nil},
		{"disabled key", s.c, raw(func(v *rawValue) { v.key = testKey(t, 3, 3) }), 0, ErrKeyDisabled},
		{"unknown key", s.c, raw(func(v *rawValue) { v.key = testKey(t, 4, 4) }), 0, ErrUnknownKey},
		{"version 1, sealed under v1's associated data", s.c, rawV1(t, "session", "login"), 0, ErrUnsupportedVersion},
		{"version 3", s.c, raw(func(v *rawValue) { v.version = 3 }), 0, ErrUnsupportedVersion},
		{"sealed as a session payload", s.c, raw(func(v *rawValue) { v.kind = kindSession }), 0, ErrAuthFailed},
		{"unknown kind", s.c, raw(func(v *rawValue) { v.kind = 3 }), 0, ErrAuthFailed},
		{"version 0", s.c, raw(func(v *rawValue) { v.version = 0 }), 0, ErrUnsupportedVersion},
		{"reserved flag bit", s.c, raw(func(v *rawValue) { v.flags = 0x10 }), 0, ErrUnsupportedVersion},
		{"unknown compression", s.c, raw(func(v *rawValue) { v.flags = 2 }), 0, ErrUnsupportedVersion},
		{"expiry before issue", s.c, raw(func(v *rawValue) { v.exp = v.iat - 1 }), 0, ErrMalformed},
		{"negative issue time", s.c, raw(func(v *rawValue) { v.iat = -1 }), 0, ErrMalformed},
		{"expiry past 9999", s.c, raw(func(v *rawValue) { v.exp = maxUnixTime + 1 }), 0, ErrMalformed},
		{"payload not JSON", s.c, raw(func(v *rawValue) { v.body = []byte("{") }), 0, ErrMalformed},
		{"bad deflate", s.c, raw(func(v *rawValue) { v.flags, v.body = 1, []byte{0xff, 0xff} }), 0, ErrMalformed},
		{"bytes after deflate", s.c, raw(func(v *rawValue) { v.flags, v.body = 1, append(deflate(t, []byte(`"v"`)), 0) }), 0, ErrMalformed},
		{"deflate bomb", s.c, raw(func(v *rawValue) { v.flags, v.body = 1, deflate(t, make([]byte, 1<<20)) }), 0, ErrTooLarge},
		{"uncompressed over max: text too long", s.c, raw(func(v *rawValue) { v.body = make([]byte, DefaultMaxPayloadSize+1) }), 0, ErrTooLarge},
		{"text too long", s.c, strings.Repeat("A", s.c.maxText+1), 0, ErrTooLarge},
		{"empty", s.c, "", 0, ErrMalformed},
		{"too short", s.c, good[:82], 0, ErrMalformed},
		{"padding", s.c, good + "=", 0, ErrMalformed},
		{"standard alphabet", s.c, strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/", 0, ErrMalformed},
		{"space", s.c, good[:40] + " " + good[40:], 0, ErrMalformed},
		{"newline", s.c, good[:40] + "\n" + good[40:], 0, ErrMalformed},
		{"valid 88 characters", s.c, raw(func(v *rawValue) { v.body = []byte(`"v" `) }), 0, nil},
		{"valid 88 characters and a CR", s.c, raw(func(v *rawValue) { v.body = []byte(`"v" `) }) + "\r", 0, ErrMalformed},
		{"valid 88 characters and a LF", s.c, "\n" + raw(func(v *rawValue) { v.body = []byte(`"v" `) }), 0, ErrMalformed},
		{"length 1 mod 4", s.c, good[:len(good)-(len(good)+3)%4], 0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.clock.Set(time.Unix(t0, 0).Add(tt.at))
			var out string
			_, err := tt.c.Open("session", tt.value, &out)
			if !errors.Is(err, tt.want) || (err != nil && !wrapsOne(err)) {
				t.Fatalf("Open: got %v, want %v", err, tt.want)
			}
			if err == nil && out != "v" {
				t.Fatalf("Open gave %q, want %q", out, "v")
			}
		})
	}
}

func deflate(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// TestTamper checks that every single-bit flip and every truncation of a
// sealed value fails, both in its bytes and in its text.
func TestTamper(t *testing.T) {
	s := newSetup(t, nil)
	for _, size := range []string{"small", "medium"} {
		t.Run(size, func(t *testing.T) {
			v, err := s.c.Seal("session", json.RawMessage(fixture(t, size)), s.clock.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := base64.RawURLEncoding.DecodeString(v)
			var out json.RawMessage
			check := func(what string, value string, allowed ...error) {
				t.Helper()
				_, err := s.c.Open("session", value, &out)
				for _, a := range allowed {
					if errors.Is(err, a) && wrapsOne(err) {
						return
					}
				}
				t.Fatalf("%s: got %v, want one of %v", what, err, allowed)
			}
			for i := range len(raw) * 8 {
				flipped := bytes.Clone(raw)
				flipped[i/8] ^= 1 << (i % 8)
				want := []error{ErrAuthFailed}
				switch {
				case i/8 == 0:
					want = []error{ErrUnsupportedVersion}
				case i/8 >= 2 && i/8 < 6:
					want = []error{ErrUnknownKey, ErrKeyDisabled}
				}
				check("byte bit flip", base64.RawURLEncoding.EncodeToString(flipped), want...)
			}
			for n := range len(raw) {
				want := ErrAuthFailed
				if n < overhead {
					want = ErrMalformed
				}
				check("byte truncation", base64.RawURLEncoding.EncodeToString(raw[:n]), want)
			}
			for i := range len(v) * 8 {
				flipped := []byte(v)
				flipped[i/8] ^= 1 << (i % 8)
				check("text bit flip", string(flipped), ErrMalformed, ErrUnsupportedVersion, ErrUnknownKey, ErrKeyDisabled, ErrAuthFailed)
			}
			for n := range len(v) {
				check("text truncation", v[:n], ErrMalformed, ErrAuthFailed)
			}
		})
	}
}

func TestCompressionChoice(t *testing.T) {
	incompressible := make([]byte, 600)
	(&detReader{label: "noise"}).Read(incompressible)
	tests := []struct {
		name    string
		payload []byte
		opts    Options
		want    bool
	}{
		{"below threshold", bytes.Repeat([]byte("a"), DefaultCompressThreshold-1), Options{Compress: true}, false},
		{"at threshold", bytes.Repeat([]byte("a"), DefaultCompressThreshold), Options{Compress: true}, true},
		{"lower threshold", bytes.Repeat([]byte("a"), 100), Options{Compress: true, CompressThreshold: 50}, true},
		{"off by default", bytes.Repeat([]byte("a"), 3000), Options{}, false},
		{"threshold without Compress", bytes.Repeat([]byte("a"), 3000), Options{CompressThreshold: 1}, false},
		{"incompressible", incompressible, Options{Compress: true, CompressThreshold: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Serializer = rawSerializer{}
			s := newSetup(t, &tt.opts)
			v, err := s.c.Seal("s", tt.payload, s.clock.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			info, err := s.c.Open("s", v, &out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, tt.payload) {
				t.Fatalf("payload changed in the round trip")
			}
			if info.Compressed != tt.want {
				t.Fatalf("Compressed = %v, want %v", info.Compressed, tt.want)
			}
			if !tt.want && len(v) != base64.RawURLEncoding.EncodedLen(overhead+len(out)) {
				t.Fatalf("uncompressed value has %d characters, want %d", len(v), base64.RawURLEncoding.EncodedLen(overhead+len(out)))
			}
		})
	}
}

// rawSerializer stores []byte payloads as they are.
type rawSerializer struct{}

func (rawSerializer) Marshal(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return json.Marshal(v)
}

// Unmarshal keeps data itself, as a zero-copy serializer would.
func (rawSerializer) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = data
	return nil
}

// TestCustomSerializerMayKeepData opens two sessions with a serializer that
// keeps the bytes it is given: the first session must not change.
func TestCustomSerializerMayKeepData(t *testing.T) {
	s := newSetup(t, &Options{Serializer: rawSerializer{}})
	exp := s.clock.Now().Add(time.Hour)
	alice, _ := s.c.Seal("s", []byte("alice-"+strings.Repeat("A", 40)), exp)
	bob, _ := s.c.Seal("s", []byte("bob-"+strings.Repeat("B", 42)), exp)
	var a, b []byte
	if _, err := s.c.Open("s", alice, &a); err != nil {
		t.Fatal(err)
	}
	before := string(a)
	for range 10 { // enough opens to cycle through the pooled buffers
		if _, err := s.c.Open("s", bob, &b); err != nil {
			t.Fatal(err)
		}
	}
	if string(a) != before {
		t.Fatalf("opening bob's session changed alice's payload from %q to %q", before, a)
	}
}

func TestSealErrors(t *testing.T) {
	s := newSetup(t, &Options{MaxPayloadSize: 100})
	now := s.clock.Now()
	tests := []struct {
		name    string
		v       any
		expires time.Time
		want    error
	}{
		{"expiry now", "x", now, ErrExpired},
		{"expiry in the past", "x", now.Add(-time.Hour), ErrExpired},
		{"expiry within the second", "x", now.Add(time.Second - 1), ErrExpired},
		{"expiry past 9999", "x", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), ErrInvalidConfig},
		{"too large", strings.Repeat("x", 99), now.Add(time.Hour), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.c.Seal("session", tt.v, tt.expires); !errors.Is(err, tt.want) {
				t.Fatalf("Seal: got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := s.c.Seal("session", make(chan int), now.Add(time.Hour)); err == nil {
		t.Fatal("Seal of a channel: got no error")
	}
}

func TestNewCodecRejects(t *testing.T) {
	kr, _ := NewKeyring(testKey(t, 1, 1))
	tests := []struct {
		name string
		kr   *Keyring
		opts Options
		want error
	}{
		{"nil keyring", nil, Options{}, ErrInvalidConfig},
		{"negative threshold", kr, Options{CompressThreshold: -1}, ErrInvalidConfig},
		{"negative max", kr, Options{MaxPayloadSize: -1}, ErrInvalidConfig},
		{"huge max", kr, Options{MaxPayloadSize: 1 << 30}, ErrInvalidConfig},
		{"huge skew", kr, Options{ClockSkew: time.Hour}, ErrInvalidConfig},
		{"fractional skew", kr, Options{ClockSkew: 900 * time.Millisecond}, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewCodec(tt.kr, &tt.opts); !errors.Is(err, tt.want) {
				t.Fatalf("NewCodec: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNoClockSkew(t *testing.T) {
	s := newSetup(t, &Options{ClockSkew: -1})
	v, _ := s.c.Seal("s", 1, s.clock.Now().Add(time.Minute))
	s.clock.Add(time.Minute)
	var out int
	if _, err := s.c.Open("s", v, &out); !errors.Is(err, ErrExpired) {
		t.Fatalf("Open at expiry with no skew: got %v, want ErrExpired", err)
	}
}

func TestOpenAfterRotation(t *testing.T) {
	s := newSetup(t, nil)
	v, _ := s.c.Seal("s", 1, s.clock.Now().Add(time.Minute))
	newID, err := s.kr.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	var out int
	info, err := s.c.Open("s", v, &out)
	if err != nil || info.KeyID != 1 || info.Primary {
		t.Fatalf("old value after Rotate: info %+v, err %v; want key 1, not primary", info, err)
	}
	v2, _ := s.c.Seal("s", 1, s.clock.Now().Add(time.Minute))
	if info, err := s.c.Open("s", v2, &out); err != nil || info.KeyID != newID || !info.Primary {
		t.Fatalf("new value: info %+v, err %v; want key %v, primary", info, err, newID)
	}
	if err := s.kr.Disable(1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.Open("s", v, &out); !errors.Is(err, ErrKeyDisabled) {
		t.Fatalf("old value after Disable: got %v, want ErrKeyDisabled", err)
	}
}
