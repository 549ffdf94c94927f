package cookiesession

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// testClock is an injectable clock. Tests move it instead of sleeping.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(unix int64) *testClock { return &testClock{t: time.Unix(unix, 0).UTC()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// oneKeyring returns a keyring of key 1 alone, primary.
func oneKeyring(t testing.TB) *Keyring {
	t.Helper()
	kr, err := NewKeyring(testKey(t, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// t0 is the fixed time most tests start from: 2026-11-22T00:00:00Z.
const t0 = 1795305600

// detReader is a deterministic stand-in for crypto/rand, used only to make
// test vectors reproducible: SHA-256 of a label and a counter.
type detReader struct {
	label string
	n     uint64
	buf   []byte
}

func (r *detReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		h := sha256.New()
		h.Write([]byte(r.label))
		h.Write(binary.BigEndian.AppendUint64(nil, r.n))
		r.n++
		r.buf = h.Sum(r.buf)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// rawValue describes a sealed value field by field, so tests can build values
// that the codec itself would never produce (other versions, flags, times).
type rawValue struct {
	version, flags byte
	kind           byte // what the value holds: 0 means kindValue
	key            Key
	nonce          []byte // nil: 24 bytes of 0x07
	iat, exp       int64
	body           []byte
	name, purpose  string
	chunks         int // bound into the associated data if 2 or more
}

// seal encodes v straight from SPEC.md §4, independently of the codec.
func (v rawValue) seal(t testing.TB) string {
	t.Helper()
	nonce := v.nonce
	if nonce == nil {
		nonce = make([]byte, 24)
		for i := range nonce {
			nonce[i] = 7
		}
	}
	header := []byte{v.version, v.flags}
	header = binary.BigEndian.AppendUint32(header, uint32(v.key.id))
	header = append(header, nonce...)
	ad := append([]byte{}, header...)
	ad = append(ad, cmp.Or(v.kind, kindValue))
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(v.name)))
	ad = append(ad, v.name...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(v.purpose)))
	ad = append(ad, v.purpose...)
	if v.chunks >= 2 {
		ad = binary.BigEndian.AppendUint32(ad, uint32(v.chunks))
	}
	plain := binary.BigEndian.AppendUint64(nil, uint64(v.iat))
	plain = binary.BigEndian.AppendUint64(plain, uint64(v.exp))
	plain = append(plain, v.body...)
	aead, err := chacha20poly1305.NewX(v.key.material())
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(header, nonce, plain, ad))
}

// rawV1 seals the payload `"v"` in format version 1 (SPEC.md of v1: no kind
// in the associated data), under key 1 of testKeyring, for name and purpose.
// Version 2 rejects it, by its version byte, before anything else.
func rawV1(t testing.TB, name, purpose string) string {
	t.Helper()
	k := testKey(t, 1, 1)
	header := []byte{1, 0}
	header = binary.BigEndian.AppendUint32(header, uint32(k.id))
	header = append(header, make([]byte, nonceSize)...)
	ad := append([]byte{}, header...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(name)))
	ad = append(ad, name...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(purpose)))
	ad = append(ad, purpose...)
	plain := binary.BigEndian.AppendUint64(nil, uint64(t0))
	plain = binary.BigEndian.AppendUint64(plain, uint64(t0+3600))
	plain = append(plain, `"v"`...)
	aead, err := chacha20poly1305.NewX(k.material())
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(header, header[6:], plain, ad))
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}

// fixture returns one of the session JSON fixtures in testdata/sessions.
func fixture(t testing.TB, size string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sessions/" + size + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plainName names the cookie "session" unless cfg names it: the tests spell
// cookie names out, and TestDefaultName covers the __Host- default.
func plainName(cfg *Config) {
	if cfg.Name == "" {
		cfg.Name = DefaultPlainName
	}
}

// fixtureValues returns the top-level values of a session fixture, each as
// it appears in the file.
func fixtureValues(t testing.TB, size string) map[string]json.RawMessage {
	t.Helper()
	var vals map[string]json.RawMessage
	if err := json.Unmarshal(fixture(t, size), &vals); err != nil {
		t.Fatal(err)
	}
	return vals
}
