package cookiesession

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The test vectors in testdata/vectors.json are made by genVectors. They
// never change silently: TestVectorsUpToDate regenerates them in memory and
// fails on any difference. To change them on purpose, after a format change:
//
//	go test -run TestVectorsUpToDate -update
var update = flag.Bool("update", false, "rewrite testdata/vectors.json from genVectors")

const vectorsFile = "testdata/vectors.json"

type vectorFile struct {
	Format    string   `json:"format"`
	Generator string   `json:"generator"`
	Notes     []string `json:"notes"`
	Vectors   []vector `json:"vectors"`
}

// vector is one test vector. Times are Unix seconds. Either Payload (with the
// fields describing the opened value) or Error is set.
type vector struct {
	Description string `json:"description"`
	Kind        string `json:"kind"`
	Keyring     string `json:"keyring"`
	CookieName  string `json:"cookie_name"`
	Purpose     string `json:"purpose"`
	Now         int64  `json:"now"`
	ClockSkew   int64  `json:"clock_skew"`
	MaxPayload  int    `json:"max_payload"`
	Sealed      string `json:"sealed"`
	Chunks      int    `json:"chunks,omitempty"`

	Payload    *string `json:"payload,omitempty"`
	PayloadHex *string `json:"payload_hex,omitempty"`
	KeyID      string  `json:"key_id,omitempty"`
	Primary    bool    `json:"primary,omitempty"`
	IssuedAt   int64   `json:"issued_at,omitempty"`
	ExpiresAt  int64   `json:"expires_at,omitempty"`
	Compressed bool    `json:"compressed,omitempty"`

	Error string `json:"error,omitempty"`
}

var sentinels = map[string]error{
	"ErrMalformed":          ErrMalformed,
	"ErrUnsupportedVersion": ErrUnsupportedVersion,
	"ErrUnknownKey":         ErrUnknownKey,
	"ErrKeyDisabled":        ErrKeyDisabled,
	"ErrAuthFailed":         ErrAuthFailed,
	"ErrExpired":            ErrExpired,
	"ErrTooLarge":           ErrTooLarge,
}

// genVectors builds the vectors deterministically: fixed keys, a fixed clock,
// and nonces from a fixed stream instead of crypto/rand.
func genVectors(t testing.TB) vectorFile {
	k1, k2, k3 := testKey(t, 0x5eed0001, 1), testKey(t, 0x5eed0002, 33), testKey(t, 0x5eed0003, 65)
	kr, err := NewKeyring(k1, k2, k3)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Disable(k3.id); err != nil {
		t.Fatal(err)
	}
	keyring := kr.Marshal()
	nonces := &detReader{label: "cookiesession test vector nonces"}
	nonce := func() []byte {
		n := make([]byte, nonceSize)
		nonces.Read(n)
		return n
	}
	base := vector{Kind: "value", Keyring: keyring, CookieName: "session", Now: t0, ClockSkew: 10, MaxPayload: DefaultMaxPayloadSize}
	var vs []vector

	// seal makes a vector with the codec itself, which must open it.
	seal := func(desc string, payload string, mod func(*vector, *Options)) {
		v := base
		v.Description = desc
		o := Options{Serializer: rawSerializer{}}
		if mod != nil {
			mod(&v, &o)
		}
		o.Now = func() time.Time { return time.Unix(t0, 0) }
		o.MaxPayloadSize = v.MaxPayload
		c, err := NewCodec(kr, &o)
		if err != nil {
			t.Fatal(err)
		}
		c.rand = nonces
		exp := time.Unix(t0+3600, 0)
		var split func(int) (int, error)
		if v.Chunks != 0 {
			split = func(int) (int, error) { return v.Chunks, nil }
		}
		text, _, err := c.appendSeal(nil, v.CookieName, vectorKinds[v.Kind], []byte(payload), time.Unix(t0, 0), exp, split)
		if err != nil {
			t.Fatal(err)
		}
		v.Sealed = string(text)
		v.setPayload([]byte(payload))
		v.KeyID, v.Primary, v.IssuedAt, v.ExpiresAt = k1.id.String(), true, t0, t0+3600
		rawText, _ := base64.RawURLEncoding.DecodeString(v.Sealed)
		v.Compressed = rawText[1] == methodDeflate
		vs = append(vs, v)
	}
	// raw makes a vector field by field, for values the codec never makes.
	raw := func(desc string, r rawValue, mod func(*vector)) {
		v := base
		v.Description = desc
		if r.version == 0 {
			r.version = formatVersion
		}
		if r.kind == kindSession {
			v.Kind = "session"
		}
		if r.key.id == 0 {
			r.key = k1
		}
		if r.iat == 0 && r.exp == 0 {
			r.iat, r.exp = t0, t0+3600
		}
		if r.name == "" {
			r.name = v.CookieName
		}
		r.nonce = nonce()
		v.Sealed, v.Chunks = r.seal(t), r.chunks
		mod(&v)
		vs = append(vs, v)
	}
	fail := func(name string) func(*vector) { return func(v *vector) { v.Error = name } }

	cartJSON := `{"cart":[` + strings.Repeat(`{"sku":"TEA-0042","qty":1,"price_cents":1299},`, 8) + `{"sku":"MUG-0007","qty":2,"price_cents":899}],"csrf":"Zq3nW8xY1t4kVb2PoL9sHcE6mRfA0uJd7iGgNyTwXeQ","user_id":1042}`

	seal("small JSON payload, stored uncompressed (below the threshold)", `{"user_id":1042,"visits":3}`, nil)
	seal("cart JSON payload, stored DEFLATE-compressed (Options.Compress)", cartJSON, func(v *vector, o *Options) { o.Compress, o.CompressThreshold = true, 256 })
	seal("the same cart with compression off (the default)", cartJSON, func(v *vector, o *Options) { o.CompressThreshold = 256 })
	seal("purpose bound into the associated data", `{"token":"abc"}`, func(v *vector, o *Options) { v.Purpose, o.Purpose = "csrf", "csrf" })
	seal("cookie name with a __Host- prefix", `"x"`, func(v *vector, o *Options) { v.CookieName = "__Host-sid" })
	seal("opened 9 s after expiry, within the 10 s skew allowance", `"late"`, func(v *vector, o *Options) { v.Now = t0 + 3600 + 9 })
	// ok marks a raw vector as opening to payload, with the given fields.
	ok := func(payload string, k Key, iat, exp int64, compressed bool, maxPayload int) func(*vector) {
		return func(v *vector) {
			v.setPayload([]byte(payload))
			v.KeyID, v.Primary = k.id.String(), k.id == k1.id
			v.IssuedAt, v.ExpiresAt, v.Compressed = iat, exp, compressed
			if maxPayload != 0 {
				v.MaxPayload = maxPayload
			}
		}
	}
	raw("sealed under the decrypt-only key", rawValue{key: k2, body: []byte(`"old"`)}, ok(`"old"`, k2, t0, t0+3600, false, 0))
	raw("empty payload", rawValue{}, ok(``, k1, t0, t0+3600, false, 0))
	raw("expires_at equal to issued_at, opened within the skew", rawValue{iat: t0, exp: t0, body: []byte(`1`)}, ok(`1`, k1, t0, t0, false, 0))
	raw("inflates to exactly max_payload (16)", rawValue{flags: 1, body: deflate(t, []byte(`"aaaaaaaaaaaaaa"`))}, ok(`"aaaaaaaaaaaaaa"`, k1, t0, t0+3600, true, 16))
	raw("uncompressed payload of exactly max_payload (16): the longest text, 104 characters", rawValue{body: []byte(`"fourteen bytes"`)}, ok(`"fourteen bytes"`, k1, t0, t0+3600, false, 16))
	seal("purpose in UTF-8", `{"n":1}`, func(v *vector, o *Options) { v.Purpose, o.Purpose = "pañuelo ✓", "pañuelo ✓" })

	seal("expired: opened at expires_at + skew", `"x"`, func(v *vector, o *Options) { v.Now = t0 + 3600 + 10 })
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrExpired")
	seal("sealed for cookie \"session\", opened as \"Session\"", `"x"`, nil)
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	vs[len(vs)-1].CookieName = "Session"
	seal("sealed for purpose \"csrf\", opened with no purpose", `"x"`, func(v *vector, o *Options) { o.Purpose = "csrf" })
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	seal("last ciphertext byte flipped", `"x"`, nil)
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	vs[len(vs)-1].Sealed = flipByte(vs[len(vs)-1].Sealed, -1)
	seal("flags byte flipped to claim DEFLATE", `"x"`, nil)
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	vs[len(vs)-1].Sealed = flipByte(vs[len(vs)-1].Sealed, 1)
	seal("last 3 bytes cut off (and the rest encoded again)", `"x"`, nil)
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	vs[len(vs)-1].Sealed = editRaw(vs[len(vs)-1].Sealed, func(b []byte) []byte { return b[:len(b)-3] })
	raw("sealed under a disabled key", rawValue{key: k3, body: []byte(`"x"`)}, fail("ErrKeyDisabled"))
	raw("sealed under a key not in the keyring", rawValue{key: testKey(t, 0x5eed0004, 97), body: []byte(`"x"`)}, fail("ErrUnknownKey"))
	raw("format version 1", rawValue{version: 1, body: []byte(`"x"`)}, fail("ErrUnsupportedVersion"))
	raw("format version 3", rawValue{version: 3, body: []byte(`"x"`)}, fail("ErrUnsupportedVersion"))
	raw("authentic, but a reserved flag bit is set", rawValue{flags: 0x80, body: []byte(`"x"`)}, fail("ErrUnsupportedVersion"))
	raw("authentic, but compression method 2", rawValue{flags: 2, body: []byte(`"x"`)}, fail("ErrUnsupportedVersion"))
	raw("authentic, but expires_at < issued_at", rawValue{iat: t0, exp: t0 - 1, body: []byte(`"x"`)}, fail("ErrMalformed"))
	raw("authentic, but expires_at after year 9999", rawValue{iat: t0, exp: maxUnixTime + 1, body: []byte(`"x"`)}, fail("ErrMalformed"))
	raw("authentic, but the DEFLATE stream is invalid", rawValue{flags: 1, body: []byte{0xff, 0xff}}, fail("ErrMalformed"))
	raw("authentic, but a byte follows the DEFLATE stream", rawValue{flags: 1, body: append(deflate(t, []byte(`"x"`)), 0)}, fail("ErrMalformed"))
	raw("authentic decompression bomb: inflates past max_payload (4096)", rawValue{flags: 1, body: deflate(t, make([]byte, 4097))}, func(v *vector) {
		v.Error, v.MaxPayload = "ErrTooLarge", 4096
	})
	raw("authentic, uncompressed payload over max_payload (16): the text is longer than 104 characters", rawValue{body: []byte(`"seventeen bytes"`)}, func(v *vector) {
		v.Error, v.MaxPayload = "ErrTooLarge", 16
	})
	raw("DEFLATE method with an empty body", rawValue{flags: 1}, fail("ErrMalformed"))
	raw("issued_at before 1970", rawValue{iat: -1, exp: t0 + 3600, body: []byte(`1`)}, fail("ErrMalformed"))
	raw("key ID 0", rawValue{body: []byte(`1`)}, func(v *vector) { v.Sealed, v.Error = setByte(v.Sealed, 2, 0, 0, 0, 0), "ErrUnknownKey" })
	raw("version 0", rawValue{body: []byte(`1`)}, func(v *vector) { v.Sealed, v.Error = setByte(v.Sealed, 0, 0), "ErrUnsupportedVersion" })

	// Two faults at once: the order of the checks in SPEC.md section 6
	// decides the error.
	raw("version 1 under an unknown key: the version is checked first", rawValue{version: 1, key: testKey(t, 0x5eed0004, 97), body: []byte(`1`)}, fail("ErrUnsupportedVersion"))
	raw("disabled key and an altered tag: the key state is checked first", rawValue{key: k3, body: []byte(`1`)}, func(v *vector) {
		v.Sealed, v.Error = flipByte(v.Sealed, -1), "ErrKeyDisabled"
	})
	raw("reserved flag bit and an altered tag: authentication comes before the flags", rawValue{flags: 0x80, body: []byte(`1`)}, func(v *vector) {
		v.Sealed, v.Error = flipByte(v.Sealed, -1), "ErrAuthFailed"
	})
	raw("reserved flag bit and expires_at < issued_at: the flags are checked first", rawValue{flags: 0x80, iat: t0, exp: t0 - 1}, fail("ErrUnsupportedVersion"))
	raw("expired, with an invalid DEFLATE stream: expiry is checked before inflating", rawValue{flags: 1, iat: t0 - 7200, exp: t0 - 3600, body: []byte{0xff, 0xff}}, fail("ErrExpired"))
	raw("expired decompression bomb: expiry is checked before inflating", rawValue{flags: 1, iat: t0 - 7200, exp: t0 - 3600, body: deflate(t, make([]byte, 4097))}, func(v *vector) {
		v.Error, v.MaxPayload = "ErrExpired", 4096
	})
	// Values split over several cookies (SPEC.md §14): the count is bound
	// into the associated data.
	seal("split over 2 cookies: the chunk count is bound into the associated data", `{"cart":["tea","mug"]}`, func(v *vector, o *Options) { v.Chunks = 2 })
	seal("split over 10 cookies", `{"cart":["tea","mug"]}`, func(v *vector, o *Options) { v.Chunks = 10 })
	seal("sealed as 2 chunks, opened as one cookie", `"x"`, func(v *vector, o *Options) { v.Chunks = 2 })
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	vs[len(vs)-1].Chunks = 0
	seal("sealed as 2 chunks, opened as 3", `"x"`, func(v *vector, o *Options) { v.Chunks = 2 })
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	vs[len(vs)-1].Chunks = 3
	seal("sealed as one cookie, opened as 2 chunks", `"x"`, nil)
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	vs[len(vs)-1].Chunks = 2

	// What a value holds, a Codec value or a session payload, is bound
	// into the associated data (SPEC.md §4.1): neither opens as the other.
	sessPayload := string(vectorPayload(t))
	session := func(v *vector, o *Options) { v.Kind = "session" }
	seal("a session payload (kind session): the codec layer returns its bytes", sessPayload, session)
	seal("a session payload opened as a Codec value", sessPayload, session)
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	vs[len(vs)-1].Kind = "value"
	seal("a Codec value opened as a session payload", sessPayload, nil)
	vs[len(vs)-1] = asFailure(vs[len(vs)-1], "ErrAuthFailed")
	vs[len(vs)-1].Kind = "session"
	raw("kind 3, which no opener accepts", rawValue{kind: 3, body: []byte(`"x"`)}, fail("ErrAuthFailed"))
	raw("a session payload compressed as a whole: malformed, never inflated", rawValue{kind: kindSession, flags: 1, body: deflate(t, []byte(sessPayload))}, fail("ErrMalformed"))
	raw("a session compressed as a whole, and expired: the method is checked first", rawValue{kind: kindSession, flags: 1, iat: t0 - 7200, exp: t0 - 3600, body: deflate(t, []byte(sessPayload))}, fail("ErrMalformed"))
	raw("a session payload, split over 2 cookies", rawValue{kind: kindSession, body: []byte(sessPayload), chunks: 2}, ok(sessPayload, k1, t0, t0+3600, false, 0))
	vs = append(vs,
		failure(base, "text longer than any value under max_payload (16) can be: 105 characters", strings.Repeat("A", 105), "ErrTooLarge", 16),
		failure(base, "empty text", "", "ErrMalformed", 0),
		failure(base, "105 characters, none of them base64url: the length is checked first", strings.Repeat("!", 105), "ErrTooLarge", 16),
		failure(base, "82 characters: 61 bytes, one short of the minimum", strings.Repeat("A", 82), "ErrMalformed", 0),
		failure(base, "padding character", strings.Repeat("A", 84)+"==", "ErrMalformed", 0),
		failure(base, "standard base64 alphabet", strings.Repeat("A", 83)+"+", "ErrMalformed", 0),
		failure(base, "length 1 mod 4", strings.Repeat("A", 85), "ErrMalformed", 0),
		failure(base, "non-zero unused bits in the last character", strings.Repeat("A", 82)+"B", "ErrMalformed", 0),
	)
	// A line feed that base64 decoders commonly skip: the rest is a valid value.
	lf := vs[0]
	lf.Description = "a valid value with a line feed inserted"
	lf.Sealed = lf.Sealed[:40] + "\n" + lf.Sealed[40:]
	vs = append(vs, asFailure(lf, "ErrMalformed"))
	return vectorFile{
		Format:    "cookiesession sealed value, format version 2 (SPEC.md sections 4 to 9)",
		Generator: "go test -run TestVectorsUpToDate -update",
		Notes: []string{
			"Times are Unix seconds. clock_skew is in seconds. max_payload is in bytes.",
			"Open 'sealed' as a value of kind 'kind' ('value': a Codec value, kind byte 0x01; 'session': a session payload, kind byte 0x02; SPEC.md section 4.1) for 'cookie_name' and 'purpose' with 'keyring' at time 'now'.",
			"'chunks', when present, is the chunk count bound into the associated data (SPEC.md section 4.1): 'sealed' is then the text of all chunks joined, without the count prefix of the first cookie.",
			"On success the payload bytes equal 'payload', UTF-8 text, or, for a payload that is not valid UTF-8, the bytes of 'payload_hex' (lowercase hexadecimal); key_id, primary, issued_at, expires_at and compressed describe the value. The payload is what the codec layer returns (SPEC.md section 6): a session payload is decoded further by section 13, and testdata/payload_vectors.json has its vectors.",
			"Otherwise the error is 'error', named by its Go sentinel (SPEC.md section 9).",
			"An absent boolean means false; an absent 'chunks' means one cookie.",
			"The keys are published here and must never be used.",
		},
		Vectors: vs,
	}
}

// vectorKinds maps a vector's "kind" to the kind byte bound into the
// associated data (SPEC.md §4.1).
var vectorKinds = map[string]byte{"value": kindValue, "session": kindSession}

// setPayload records p as the payload the vector opens to: as text if it
// is UTF-8, else in hexadecimal.
func (v *vector) setPayload(p []byte) {
	v.Payload, v.PayloadHex = nil, nil
	if utf8.Valid(p) {
		s := string(p)
		v.Payload = &s
	} else {
		s := hex.EncodeToString(p)
		v.PayloadHex = &s
	}
}

// payload returns the payload the vector opens to.
func (v *vector) payload() ([]byte, bool) {
	switch {
	case v.Payload != nil:
		return []byte(*v.Payload), true
	case v.PayloadHex != nil:
		b, err := hex.DecodeString(*v.PayloadHex)
		return b, err == nil
	}
	return nil, false
}

func asFailure(v vector, errName string) vector {
	v.PayloadHex = nil
	v.Payload, v.KeyID, v.Primary, v.IssuedAt, v.ExpiresAt, v.Compressed = nil, "", false, 0, 0, false
	v.Error = errName
	return v
}

func failure(base vector, desc, sealed, errName string, maxPayload int) vector {
	v := base
	v.Description, v.Sealed, v.Error = desc, sealed, errName
	if maxPayload != 0 {
		v.MaxPayload = maxPayload
	}
	return v
}

// editRaw decodes a value, applies edit to its bytes, and encodes it again.
func editRaw(text string, edit func([]byte) []byte) string {
	raw, _ := base64.RawURLEncoding.DecodeString(text)
	return base64.RawURLEncoding.EncodeToString(edit(raw))
}

// setByte overwrites the bytes of a value from offset i on.
func setByte(text string, i int, b ...byte) string {
	return editRaw(text, func(raw []byte) []byte { copy(raw[i:], b); return raw })
}

// flipByte flips the low bit of byte i (negative: from the end) of a value.
func flipByte(text string, i int) string {
	return editRaw(text, func(raw []byte) []byte {
		if i < 0 {
			i += len(raw)
		}
		raw[i] ^= 1
		return raw
	})
}

func encodeVectors(t testing.TB, f any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkVectorFile compares a vector file with what its generator makes
// now, after rewriting it when rewrite is set (by the test flag named in
// flagName).
func checkVectorFile(t *testing.T, name string, want []byte, rewrite bool, flagName string) {
	t.Helper()
	if rewrite {
		if err := os.WriteFile(name, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from what its generator makes now. If the format changed on purpose, run: go test -run %s %s", name, t.Name(), flagName)
	}
}

// readVectorFile decodes a vector file strictly.
func readVectorFile(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestVectorsUpToDate(t *testing.T) {
	checkVectorFile(t, vectorsFile, encodeVectors(t, genVectors(t)), *update, "-update")
}

// TestVectors opens every vector in testdata/vectors.json, reading only the
// file: it is what an implementation in another language would do.
func TestVectors(t *testing.T) {
	var f vectorFile
	readVectorFile(t, vectorsFile, &f)
	if len(f.Vectors) < 30 {
		t.Fatalf("only %d vectors in %s", len(f.Vectors), vectorsFile)
	}
	for _, v := range f.Vectors {
		t.Run(v.Description, func(t *testing.T) {
			kr, err := ParseKeyring(v.Keyring)
			if err != nil {
				t.Fatal(err)
			}
			// One clock for the keyring (a schedule, if a vector has one)
			// and the codec.
			now := func() time.Time { return time.Unix(v.Now, 0) }
			kr.SetClock(now)
			c, err := NewCodec(kr, &Options{
				Purpose:        v.Purpose,
				Serializer:     rawSerializer{},
				ClockSkew:      time.Duration(v.ClockSkew) * time.Second,
				MaxPayloadSize: v.MaxPayload,
				Now:            now,
			})
			if err != nil {
				t.Fatal(err)
			}
			var payload []byte
			var info Info
			kind, known := vectorKinds[v.Kind]
			switch {
			case kind == kindValue && v.Chunks == 0:
				info, err = c.Open(v.CookieName, v.Sealed, &payload)
			case known:
				buf := getBuf()
				var p []byte
				p, info, err = c.openPayload(buf, v.CookieName, kind, []byte(v.Sealed), v.Chunks, c.now().Unix())
				payload = bytes.Clone(p)
				putBuf(buf)
			default:
				t.Fatalf("unknown kind %q", v.Kind)
			}
			if v.Error != "" {
				want, ok := sentinels[v.Error]
				if !ok {
					t.Fatalf("unknown error name %q", v.Error)
				}
				if !errors.Is(err, want) || !wrapsOne(err) {
					t.Fatalf("Open: got %v, want %s", err, v.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if want, ok := v.payload(); !ok || !bytes.Equal(payload, want) {
				t.Fatalf("payload = %q, want %q", payload, want)
			}
			if info.KeyID.String() != v.KeyID || info.Primary != v.Primary || info.IssuedAt.Unix() != v.IssuedAt ||
				info.ExpiresAt.Unix() != v.ExpiresAt || info.Compressed != v.Compressed {
				t.Fatalf("info = %+v, want key %s primary %v issued %d expires %d compressed %v",
					info, v.KeyID, v.Primary, v.IssuedAt, v.ExpiresAt, v.Compressed)
			}
		})
	}
}
