package fuzz

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	cs "github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

// FuzzOpen and FuzzSealOpen: the codec's sealed values (SPEC.md §4 to §9).

// newCodec returns a codec on kr with opts, the fixed clock and the fuzz
// payload cap where opts leaves them unset.
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
	f.Add("session", mutateRaw(f, small, func(b []byte) []byte { b[0] = 1; return b }))
	f.Add("session", mutateRaw(f, small, func(b []byte) []byte { b[0] = 3; return b }))
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
	// A session payload sealed as a session, under the session's name: no
	// Codec value, so it does not open.
	f.Add("session", specSealKind(primaryID, 0x00, kindSession, specPlaintext(in, out, []byte(`{}`)), "session"))
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
		{"compressed", newCodec(f, kr, cs.Options{Compress: true, CompressThreshold: 1}), false},
		{"uncompressed", newCodec(f, kr, cs.Options{CompressThreshold: 1}), true},
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
		payload, err := cs.JSONSerializer{}.Marshal(in) // what Seal stores
		if err != nil {
			t.Fatalf("JSONSerializer.Marshal: %v", err)
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
