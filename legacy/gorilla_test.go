package legacy

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	testHashKey  = []byte("gorilla hash key: 32 bytes long!")
	testBlockKey = []byte("gorilla block key, AES-256 key!!")
)

// testGorilla is a reader of cookies named "session" made with keys.
func testGorilla(t testing.TB, keys ...GorillaKeys) *Gorilla {
	t.Helper()
	g, err := NewGorilla(GorillaConfig{Keys: keys, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// gorillaGob is values as a CookieStore serializes session.Values.
func gorillaGob(t testing.TB, values map[any]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gorillaSeal makes the value of a cookie named "session" holding plain,
// signed at ts, in securecookie's format: for values gorilla would never
// write. The interop tests check the reader against gorilla itself.
func gorillaSeal(k GorillaKeys, ts int64, plain []byte) string {
	plain = bytes.Clone(plain)
	if k.Block != nil {
		block, err := aes.NewCipher(k.Block)
		if err != nil {
			panic(err)
		}
		iv := bytes.Repeat([]byte{7}, block.BlockSize()) // tests only
		cipher.NewCTR(block, iv).XORKeyStream(plain, plain)
		plain = append(iv, plain...)
	}
	signed := strconv.FormatInt(ts, 10) + "|" + base64.URLEncoding.EncodeToString(plain)
	return gorillaSign(k.Hash, signed)
}

// gorillaSign appends the MAC of signed ("date|inner") to it, and encodes.
func gorillaSign(hashKey []byte, signed string) string {
	mac := hmac.New(sha256.New, hashKey)
	mac.Write([]byte("session|" + signed))
	return base64.URLEncoding.EncodeToString(append([]byte(signed+"|"), mac.Sum(nil)...))
}

func TestGorillaDecode(t *testing.T) {
	both := GorillaKeys{Hash: testHashKey, Block: testBlockKey}
	hashOnly := GorillaKeys{Hash: testHashKey}
	now := testNow.Unix()
	const maxAge = 30 * 24 * 60 * 60
	session := gorillaGob(t, map[any]any{"visits": 41, "user": "ada"})
	valid := gorillaSeal(both, now, session)
	for _, tc := range []struct {
		name, value string
		keys        []GorillaKeys // default: both
		want        error
	}{
		{"valid", valid, nil, nil},
		{"not encrypted", gorillaSeal(hashOnly, now, session), []GorillaKeys{hashOnly}, nil},
		{"at the max age", gorillaSeal(both, now-maxAge, session), nil, nil},
		{"a second past it", gorillaSeal(both, now-maxAge-1, session), nil, ErrExpired},
		{"signed in the future", gorillaSeal(both, now+60, session), nil, nil}, // as securecookie
		{"rotated: the second pair", gorillaSeal(hashOnly, now, session), []GorillaKeys{{Hash: []byte("new hash key")}, hashOnly}, nil},
		{"wrong key", gorillaSeal(GorillaKeys{Hash: []byte("another hash key"), Block: testBlockKey}, now, session), nil, ErrSignature},
		{"encrypted, read without the block key", valid, []GorillaKeys{hashOnly}, ErrPayload},
		{"tampered", tamper(valid), nil, ErrSignature},
		{"truncated", valid[:len(valid)-8], nil, ErrSignature},
		{"cut mid-character", valid[:len(valid)-1], nil, ErrMalformed},
		{"empty", "", nil, ErrMalformed},
		{"not base64", "***", nil, ErrMalformed},
		{"no MAC", base64.URLEncoding.EncodeToString([]byte("123|abc")), nil, ErrMalformed},
		{"short MAC", base64.URLEncoding.EncodeToString([]byte("123|abc|xyz")), nil, ErrSignature},
		{"too large", strings.Repeat("A", MaxValueLen+1), nil, ErrTooLarge},
		{"signed, bad date", gorillaSign(testHashKey, "12x|"+base64.URLEncoding.EncodeToString(session)), []GorillaKeys{hashOnly}, ErrPayload},
		{"signed, inner not base64", gorillaSign(testHashKey, strconv.FormatInt(now, 10)+"|!!"), []GorillaKeys{hashOnly}, ErrPayload},
		{"signed, too short to decrypt", gorillaSign(testHashKey, strconv.FormatInt(now, 10)+"|"+base64.URLEncoding.EncodeToString([]byte("short"))), nil, ErrPayload},
		{"signed, not gob", gorillaSeal(both, now, []byte("not gob at all")), nil, ErrPayload},
		{"signed, an int key", gorillaSeal(both, now, gorillaGob(t, map[any]any{7: "seven"})), nil, ErrPayload},
		{"signed, a forged map count", gorillaSeal(both, now, hugeMapGob(t)), nil, ErrPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = []GorillaKeys{both}
			}
			values, err := testGorilla(t, keys...).Decode(tc.value)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(map[string]any{"visits": 41, "user": "ada"}, values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

// hugeMapGob is session.Values with one entry, whose element count says
// 2^36: gob would make a map that large if it made the map.
func hugeMapGob(t testing.TB) []byte {
	t.Helper()
	b := gorillaGob(t, map[any]any{"a": 1})
	// The type's message, then the value's: its length, the type id, a
	// zero delta, the count (1), the key's type name.
	i := bytes.Index(b, []byte("\x01\x06string"))
	second := 1 + int(b[0])
	if i < 0 || second >= i || b[second] >= 0x7f-5 {
		t.Fatalf("unexpected gob stream % x", b)
	}
	out := append(bytes.Clone(b[:i]), 0xfb, 0x10, 0, 0, 0, 0) // 2^36: 5 bytes, big-endian
	out = append(out, b[i+1:]...)
	out[second] += 5
	return out
}

// tamper changes one character in the middle of a base64 value.
func tamper(v string) string {
	b := []byte(v)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestNewGorilla(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    GorillaConfig
		want error // nil: accepted
	}{
		{"hash key", GorillaConfig{Keys: []GorillaKeys{{Hash: testHashKey}}}, nil},
		{"AES-128", GorillaConfig{Keys: []GorillaKeys{{Hash: testHashKey, Block: make([]byte, 16)}}}, nil},
		{"no keys", GorillaConfig{}, ErrNoKey},
		{"empty hash key", GorillaConfig{Keys: []GorillaKeys{{Hash: testHashKey}, {}}}, ErrNoKey},
		{"block key of 20 bytes", GorillaConfig{Keys: []GorillaKeys{{Hash: testHashKey, Block: make([]byte, 20)}}}, ErrNoKey},
		{"negative MaxAge", GorillaConfig{Keys: []GorillaKeys{{Hash: testHashKey}}, MaxAge: -time.Second}, errors.New("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGorilla(tc.c)
			if (err == nil) != (tc.want == nil) || tc.want != nil && tc.want.Error() != "" && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err == nil && g.Cookie() != "session" {
				t.Errorf("Cookie() = %q, want the default session", g.Cookie())
			}
		})
	}
}

// FuzzGorillaDecode: Decode never panics, and accepts only values whose MAC
// the key made. With sign, the fuzzed bytes are sealed with the key, to
// reach the date check, the decryption and gob.
func FuzzGorillaDecode(f *testing.F) {
	both := GorillaKeys{Hash: testHashKey, Block: testBlockKey}
	session := gorillaGob(f, map[any]any{"visits": 41, "user": "ada"})
	f.Add(gorillaSeal(both, testNow.Unix(), session), false)
	f.Add(string(session), true)
	f.Add("", false)
	f.Add("garbage with no MAC", true)
	f.Add(string(hugeMapGob(f)), true)
	g := testGorilla(f, both)
	f.Fuzz(func(t *testing.T, value string, sign bool) {
		if sign {
			value = gorillaSeal(both, testNow.Unix(), []byte(value))
		}
		_, err := g.Decode(value)
		if err == nil {
			b, _ := base64.URLEncoding.DecodeString(value)
			i := bytes.IndexByte(b, '|')
			j := i + 1 + bytes.IndexByte(b[i+1:], '|')
			if gorillaSign(testHashKey, string(b[:j])) != base64.URLEncoding.EncodeToString(b) {
				t.Fatalf("accepted a value the key did not sign: %q", value)
			}
		}
	})
}
