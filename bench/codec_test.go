package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/securecookie"
	"golang.org/x/crypto/chacha20poly1305"
)

// codecOps encodes one fixture into cookies and decodes them, for one
// library. The closures keep their state, so that benchmark loops measure
// the library and not the harness.
type codecOps struct {
	// encode encodes the fixture and returns its size on the wire (the
	// name, "=" and value of each cookie).
	encode func() (int, error)
	// decode decodes what encode produced when the ops were made.
	decode func() error
	// result returns what the last decode produced, as encoding/json
	// decodes JSON into an any, for the tests.
	result func() (map[string]any, error)
	// cookies, if not nil, returns how many cookies the last encode
	// stored: cookiesession splits a session that does not fit one.
	cookies func() int
}

// stringEncoder returns encode for codecOps from seal, which encodes the
// fixture as one cookie value, and the value that a first call produced,
// for decode.
func stringEncoder(tb testing.TB, seal func() (string, error)) (encode func() (int, error), input string) {
	encode = func() (int, error) {
		text, err := seal()
		return len(cookieName) + 1 + len(text), err
	}
	text, err := seal()
	if err != nil {
		tb.Fatal(err)
	}
	return encode, text
}

// codecLib is one library, or one way of using it.
type codecLib struct {
	name string
	// doc says what encode and decode do, for the reader.
	doc string
	ops func(tb testing.TB, f fixture) codecOps
}

var codecLibs = []codecLib{
	{"securecookie-json", "securecookie.Encode/Decode of the values as map[string]any, JSONEncoder, AES-CTR + HMAC-SHA256", secureCookieOps(securecookie.JSONEncoder{})},
	{"securecookie-gob", "the same with the default gob serializer", secureCookieOps(nil)},
	{"cookiesession", "encode: Session.Set of one key (to modify it) + Manager.SetCookieHeaders; decode: Manager.LoadHeader (values stay raw until read)", sessionOps},
	{"cookiesession-eager", "encode: a new Session, Set of every value from map[string]any + SetCookieHeaders; decode: LoadHeader + Get[any] of every key", eagerSessionOps},
	{"codec", "Codec.Seal/Open of the whole session as one json.RawMessage", codecOpsFor(nil)},
	{"codec-raw", "Codec.Seal/Open with a pass-through Serializer: the codec without serialization", codecOpsFor(rawSerializer{})},
	{"floor", "XChaCha20-Poly1305 seal/open of the fixture's JSON bytes + base64url, reused buffers", floorOps},
	{"cookiesession-typed", "encode: Session.Set of the CSRF token as a string + SetCookieHeaders; decode: LoadHeader + Get of every key into its Go type", typedSessionOps},
	{"jwt", "golang-jwt/jwt v5: HS256 over jwt.MapClaims of the values and exp; decode: ParseWithClaims into MapClaims", tokenOps(func(testing.TB) tokenCodec { return newJWTCodec() })},
	{"jwt-struct", "the same with a claims struct per session shape (the session's fields + jwt.RegisteredClaims)", structTokenOps(false)},
	{"jwe", "go-jose v4: compact JWE (dir, A256GCM) of the JSON of the values and exp; decode: decrypt + json.Unmarshal into map[string]any", tokenOps(newJWECodec)},
	{"jwe-struct", "the same with the claims struct", structTokenOps(true)},
}

// BenchmarkCodec encodes each session into cookies and decodes it again,
// with each library. It reports the cookies' size on the wire as
// "wire-bytes". Compare libraries with benchstat -col /lib.
func BenchmarkCodec(b *testing.B) {
	fs := loadFixtures(b)
	for _, op := range []string{"encode", "decode"} {
		for _, f := range fs {
			for _, lib := range codecLibs {
				b.Run(fmt.Sprintf("op=%s/size=%s/lib=%s", op, f.size, lib.name), func(b *testing.B) {
					ops := lib.ops(b, f)
					wire, err := ops.encode()
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					if op == "encode" {
						for b.Loop() {
							if wire, err = ops.encode(); err != nil {
								b.Fatal(err)
							}
						}
					} else {
						for b.Loop() {
							if err := ops.decode(); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.ReportMetric(float64(wire), "wire-bytes")
					if ops.cookies != nil {
						b.ReportMetric(float64(ops.cookies()), "cookies")
					}
				})
			}
		}
	}
}

// TestCodecRoundTrip checks that every library carries the whole fixture,
// value for value, through the encode and decode that BenchmarkCodec runs.
func TestCodecRoundTrip(t *testing.T) {
	for _, f := range loadFixtures(t) {
		for _, lib := range codecLibs {
			t.Run(f.size+"/"+lib.name, func(t *testing.T) {
				ops := lib.ops(t, f)
				for round := range 2 { // the second round reuses state
					wire, err := ops.encode()
					if err != nil {
						t.Fatalf("round %d: encode: %v", round, err)
					}
					if wire < len(cookieName)+2 {
						t.Errorf("round %d: %d wire bytes", round, wire)
					}
					if err := ops.decode(); err != nil {
						t.Fatalf("round %d: decode: %v", round, err)
					}
					got, err := ops.result()
					if err != nil {
						t.Fatalf("round %d: result: %v", round, err)
					}
					if diff := diffValues(f.values, got); diff != "" {
						t.Fatalf("round %d: decoded values differ (-want +got):\n%s", round, diff)
					}
				}
			})
		}
	}
}

// secureCookieOps returns gorilla/securecookie's ops with a serializer, or
// gob for nil.
func secureCookieOps(ser securecookie.Serializer) func(testing.TB, fixture) codecOps {
	return func(tb testing.TB, f fixture) codecOps {
		sc := newSecureCookie(ser)
		var out map[string]any
		encode, input := stringEncoder(tb, func() (string, error) { return sc.Encode(cookieName, f.values) })
		return codecOps{
			encode: encode,
			decode: func() error {
				out = nil // gob and json would merge into the old map
				return sc.Decode(cookieName, input, &out)
			},
			result: func() (map[string]any, error) { return out, nil },
		}
	}
}

// sessionOps measures a session that changed: Set of one key, the smallest
// change there is, then sealing the whole session into Set-Cookie lines.
// Decoding opens the cookies and leaves the values raw.
func sessionOps(tb testing.TB, f fixture) codecOps {
	m := newManager(tb)
	s := csSession(tb, m, f)
	csrf := f.raw["csrf"]
	var lines []string
	encode := func() (int, error) {
		if err := s.Set("csrf", csrf); err != nil {
			return 0, err
		}
		var err error
		lines, err = m.SetCookieHeaders(s)
		return wireBytes(lines), err
	}
	return sessionDecodeOps(tb, m, encode, &lines, false)
}

// eagerSessionOps works from the same Go values as gorilla: every value is
// serialized on encode, and deserialized into an any on decode.
func eagerSessionOps(tb testing.TB, f fixture) codecOps {
	m := newManager(tb)
	ctx := context.Background()
	var lines []string
	encode := func() (int, error) {
		s, err := m.LoadHeader(ctx, "")
		if err != nil {
			return 0, err
		}
		for k, v := range f.values {
			if err := s.Set(k, v); err != nil {
				return 0, err
			}
		}
		lines, err = m.SetCookieHeaders(s)
		return wireBytes(lines), err
	}
	return sessionDecodeOps(tb, m, encode, &lines, true)
}

// sessionDecodeOps completes the ops of a session benchmark: it encodes
// once, and decodes those cookies. eager decodes every value too.
func sessionDecodeOps(tb testing.TB, m *cookiesession.Manager, encode func() (int, error), lines *[]string, eager bool) codecOps {
	if _, err := encode(); err != nil {
		tb.Fatal(err)
	}
	header, _ := setCookies(tb, *lines)
	ctx := context.Background()
	var s *cookiesession.Session
	var vals map[string]any
	decodeAll := func() error {
		vals = make(map[string]any, s.Len())
		for _, k := range s.Keys() {
			v, _, err := cookiesession.Get[any](s, k)
			if err != nil {
				return err
			}
			vals[k] = v
		}
		return nil
	}
	return codecOps{
		encode:  encode,
		cookies: func() int { return countCookies(*lines) },
		decode: func() error {
			var err error
			if s, err = m.LoadHeader(ctx, header); err != nil {
				return err
			}
			if s.IsNew() {
				return errors.New("the cookie did not load")
			}
			if eager {
				return decodeAll()
			}
			return nil
		},
		result: func() (map[string]any, error) {
			if s == nil {
				return nil, errors.New("no session decoded")
			}
			return vals, decodeAll()
		},
	}
}

// codecOpsFor measures Codec.Seal and Codec.Open of the whole session JSON,
// with the serializer given (nil: the default, JSON).
func codecOpsFor(ser cookiesession.Serializer) func(testing.TB, fixture) codecOps {
	return func(tb testing.TB, f fixture) codecOps {
		c, err := cookiesession.NewCodec(newKeyring(tb), &cookiesession.Options{Serializer: ser})
		if err != nil {
			tb.Fatal(err)
		}
		// The raw serializer takes []byte, the JSON one a json.RawMessage.
		var v any = json.RawMessage(f.json)
		if ser != nil {
			v = f.json
		}
		exp := time.Now().Add(lifetime)
		encode, input := stringEncoder(tb, func() (string, error) { return c.Seal(cookieName, v, exp) })
		var out []byte
		return codecOps{
			encode: encode,
			decode: func() error {
				if ser != nil {
					_, err := c.Open(cookieName, input, &out)
					return err
				}
				_, err := c.Open(cookieName, input, (*json.RawMessage)(&out))
				return err
			},
			result: func() (map[string]any, error) { return unmarshalValues(out) },
		}
	}
}

// rawSerializer passes []byte through unchanged, so that Codec benchmarks
// measure the codec alone: compression, AEAD, base64 and framing.
type rawSerializer struct{}

// Marshal returns v, which must be a []byte.
func (rawSerializer) Marshal(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("rawSerializer: %T is not []byte", v)
	}
	return b, nil
}

// Unmarshal stores data in v, which must be a *[]byte. The codec hands
// custom serializers a private copy, so keeping it is safe.
func (rawSerializer) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawSerializer: %T is not *[]byte", v)
	}
	*p = data
	return nil
}

// floorOps is the least any AEAD cookie can cost: a random nonce, an
// XChaCha20-Poly1305 seal of the serialized session bound to the cookie
// name, base64url, and the reverse, all in reused buffers.
func floorOps(tb testing.TB, f fixture) codecOps {
	aead, err := chacha20poly1305.NewX(floorKey)
	if err != nil {
		tb.Fatal(err)
	}
	ad := []byte(cookieName)
	n := aead.NonceSize()
	var sealed, text, opened, plain []byte
	encode := func() (int, error) {
		sealed = sealed[:n]
		rand.Read(sealed) // never fails
		sealed = aead.Seal(sealed, sealed[:n], f.json, ad)
		text = base64.RawURLEncoding.AppendEncode(text[:0], sealed)
		return len(cookieName) + 1 + len(text), nil
	}
	sealed = make([]byte, n, n+len(f.json)+aead.Overhead())
	if _, err := encode(); err != nil {
		tb.Fatal(err)
	}
	input := append([]byte(nil), text...)
	return codecOps{
		encode: encode,
		decode: func() error {
			raw, err := base64.RawURLEncoding.AppendDecode(opened[:0], input)
			opened = raw
			if err != nil {
				return err
			}
			if len(raw) < n {
				return errors.New("floor: too short")
			}
			// The plaintext overwrites the ciphertext.
			plain, err = aead.Open(raw[n:n], raw[:n], raw[n:], ad)
			return err
		},
		result: func() (map[string]any, error) { return unmarshalValues(plain) },
	}
}

// diffValues compares session values, as decoded from JSON.
func diffValues(want, got map[string]any) string { return cmp.Diff(want, got) }

// unmarshalValues decodes a session's JSON as the tests compare it.
func unmarshalValues(data []byte) (map[string]any, error) {
	var v map[string]any
	err := json.Unmarshal(data, &v)
	return v, err
}
