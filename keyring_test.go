package cookiesession

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testKey returns a key whose ID is id and whose material is 32 bytes
// counting up from fill.
func testKey(t testing.TB, id KeyID, fill byte) Key {
	t.Helper()
	b := make([]byte, KeySize)
	for i := range b {
		b[i] = fill + byte(i)
	}
	k, err := NewKey(id, b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewKeyRejects(t *testing.T) {
	tests := []struct {
		name   string
		id     KeyID
		secret []byte
	}{
		{"short", 1, make([]byte, 16)},
		{"long", 1, bytes.Repeat([]byte{1}, 33)},
		{"empty", 1, nil},
		{"all zero", 1, make([]byte, 32)},
		{"zero id", 0, bytes.Repeat([]byte{1}, 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewKey(tt.id, tt.secret)
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("NewKey: got %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	seen := map[KeyID]bool{}
	for range 100 {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if k.ID() == 0 || seen[k.ID()] {
			t.Fatalf("GenerateKey gave ID %v, zero or repeated", k.ID())
		}
		seen[k.ID()] = true
		if _, err := NewKey(k.ID(), k.material()); err != nil {
			t.Fatalf("generated key is not valid: %v", err)
		}
	}
}

// TestSecretsNeverPrinted formats keys and keyrings with every common verb,
// at the top level and inside exported and unexported fields, and logs them
// through both slog handlers; the key material must never appear in raw,
// decimal, hex or base64 form.
func TestSecretsNeverPrinted(t *testing.T) {
	k := testKey(t, 0x0a0b0c0d, 0x41) // material is printable ASCII "ABCD..."
	kr, err := NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	m := k.material()
	secretForms := []string{
		string(m[:8]),
		fmt.Sprintf("%x", m[:8]),
		fmt.Sprintf("%X", m[:8]),
		strings.Trim(fmt.Sprintf("%d", m[:4]), "[]"),
		strings.Trim(fmt.Sprintf("%x", m[:4]), "[]"),
		kr.Marshal()[len("csk1:0a0b0c0d:primary:"):][:12],
	}
	type hidden struct {
		name string
		k    Key
		kr   *Keyring
	}
	type shown struct {
		K  Key
		KR *Keyring
	}
	values := []any{k, &k, kr, []Key{k}, shown{k, kr}, &shown{k, kr}, hidden{"x", k, kr}, &hidden{"x", k, kr}, map[string]Key{"k": k}}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		for _, v := range values {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(h)
		for _, v := range values {
			l.Info("key", "v", v)
		}
	}
	outputs = append(outputs, logs.String())
	_, err = NewKeyring(k, k)
	outputs = append(outputs, err.Error())
	for _, out := range outputs {
		for _, s := range secretForms {
			if strings.Contains(out, s) {
				t.Errorf("output %q contains key material %q", out, s)
			}
		}
	}
	if got, want := fmt.Sprint(k), "key 0a0b0c0d"; got != want {
		t.Errorf("fmt.Sprint(key) = %q, want %q", got, want)
	}
}

func TestNewKeyringRejects(t *testing.T) {
	a, b := testKey(t, 1, 1), testKey(t, 2, 2)
	if _, err := NewKeyring(a, b, a); !errors.Is(err, ErrDuplicateKeyID) {
		t.Errorf("duplicate: got %v, want ErrDuplicateKeyID", err)
	}
	if _, err := NewKeyring(Key{}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("zero Key: got %v, want ErrInvalidKey", err)
	}
}

func TestKeyringStagedRotation(t *testing.T) {
	a, b := testKey(t, 1, 1), testKey(t, 2, 2)
	kr, err := NewKeyring(a)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want []KeyInfo
	}{
		{"add", func() error { return kr.Add(b) },
			[]KeyInfo{{1, KeyPrimary}, {2, KeyDecryptOnly}}},
		{"promote", func() error { return kr.Promote(2) },
			[]KeyInfo{{1, KeyDecryptOnly}, {2, KeyPrimary}}},
		{"promote primary is a no-op", func() error { return kr.Promote(2) },
			[]KeyInfo{{1, KeyDecryptOnly}, {2, KeyPrimary}}},
		{"disable old", func() error { return kr.Disable(1) },
			[]KeyInfo{{1, KeyDisabled}, {2, KeyPrimary}}},
		{"enable again", func() error { return kr.Enable(1) },
			[]KeyInfo{{1, KeyDecryptOnly}, {2, KeyPrimary}}},
		{"disable again", func() error { return kr.Disable(1) },
			[]KeyInfo{{1, KeyDisabled}, {2, KeyPrimary}}},
		{"remove old", func() error { return kr.Remove(1) },
			[]KeyInfo{{2, KeyPrimary}}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.want, kr.Keys()); diff != "" {
			t.Fatalf("%s: keys (-want +got):\n%s", s.name, diff)
		}
	}
}

func TestKeyringRefusals(t *testing.T) {
	a, b, c := testKey(t, 1, 1), testKey(t, 2, 2), testKey(t, 3, 3)
	tests := []struct {
		name string
		do   func(kr *Keyring) error
		want error
	}{
		{"disable primary", func(kr *Keyring) error { return kr.Disable(1) }, ErrKeyState},
		{"remove primary", func(kr *Keyring) error { return kr.Remove(1) }, ErrKeyState},
		{"promote disabled", func(kr *Keyring) error { return kr.Promote(3) }, ErrKeyState},
		{"enable primary", func(kr *Keyring) error { return kr.Enable(1) }, ErrKeyState},
		{"promote unknown", func(kr *Keyring) error { return kr.Promote(9) }, ErrUnknownKey},
		{"disable unknown", func(kr *Keyring) error { return kr.Disable(9) }, ErrUnknownKey},
		{"remove unknown", func(kr *Keyring) error { return kr.Remove(9) }, ErrUnknownKey},
		{"add duplicate", func(kr *Keyring) error { return kr.Add(b) }, ErrDuplicateKeyID},
		{"add zero key", func(kr *Keyring) error { return kr.Add(Key{}) }, ErrInvalidKey},
		{"reload junk", func(kr *Keyring) error { return kr.Reload("nonsense") }, ErrInvalidKeyring},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := NewKeyring(a, b, c)
			if err != nil {
				t.Fatal(err)
			}
			if err := kr.Disable(3); err != nil {
				t.Fatal(err)
			}
			before := kr.Keys()
			if err := tt.do(kr); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if diff := cmp.Diff(before, kr.Keys()); diff != "" {
				t.Errorf("a refused change altered the keyring (-before +after):\n%s", diff)
			}
		})
	}
}

func TestKeyringRotate(t *testing.T) {
	kr, err := NewKeyring(testKey(t, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	id, err := kr.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	want := []KeyInfo{{1, KeyDecryptOnly}, {id, KeyPrimary}}
	if diff := cmp.Diff(want, kr.Keys()); diff != "" {
		t.Fatalf("keys after Rotate (-want +got):\n%s", diff)
	}
	if kr.Primary() != id {
		t.Fatalf("Primary() = %v, want %v", kr.Primary(), id)
	}
}

func TestZeroKeyring(t *testing.T) {
	var kr Keyring
	if kr.Primary() != 0 || len(kr.Keys()) != 0 {
		t.Fatalf("zero keyring is not empty: %v", &kr)
	}
	if _, err := NewCodec(&kr, nil); !errors.Is(err, ErrInvalidKeyring) {
		t.Fatalf("NewCodec(empty keyring): got %v, want ErrInvalidKeyring", err)
	}
	if _, err := kr.Rotate(); err != nil {
		t.Fatalf("Rotate on zero keyring: %v", err)
	}
	if _, err := NewCodec(&kr, nil); err != nil {
		t.Fatalf("NewCodec after Rotate: %v", err)
	}
}

// specExample is the published example keyring of SPEC.md §10.
const specExample = "csk1:5eed0001:primary:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA,csk1:5eed0002:decrypt-only:ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0A"

func TestParseKeyringSpecExample(t *testing.T) {
	kr, err := ParseKeyring(specExample)
	if err != nil {
		t.Fatal(err)
	}
	want := []KeyInfo{{0x5eed0001, KeyPrimary}, {0x5eed0002, KeyDecryptOnly}}
	if diff := cmp.Diff(want, kr.Keys()); diff != "" {
		t.Fatalf("keys (-want +got):\n%s", diff)
	}
	e := kr.load().byID[0x5eed0002]
	for i, b := range e.key.material() {
		if b != byte(33+i) {
			t.Fatalf("key 5eed0002 byte %d = %d, want %d", i, b, 33+i)
		}
	}
	if got := kr.Marshal(); got != specExample {
		t.Fatalf("Marshal() = %q, want the SPEC example", got)
	}
	spec, err := readFile("SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(spec, specExample) {
		t.Fatal("SPEC.md no longer contains the example keyring this test checks")
	}
}

func TestParseKeyring(t *testing.T) {
	a, b := testKey(t, 0xa, 1), testKey(t, 0xb, 2)
	kr, _ := NewKeyring(a, b)
	good := kr.Marshal()
	entries := strings.Split(good, ",")
	tests := []struct {
		name string
		text string
		want error // nil: parses, and Marshal gives good back
	}{
		{"canonical", good, nil},
		{"newlines and spaces", "\n  " + entries[0] + "\n\t" + entries[1] + "\r\n", nil},
		{"empty", "", ErrInvalidKeyring},
		{"only separators", " ,\n", ErrInvalidKeyring},
		{"no primary", strings.Replace(entries[0], "primary", "disabled", 1), ErrInvalidKeyring},
		{"two primaries", entries[0] + "," + strings.Replace(entries[1], "decrypt-only", "primary", 1), ErrInvalidKeyring},
		{"duplicate id", entries[0] + "," + entries[0], ErrDuplicateKeyID},
		{"wrong prefix", "csk2" + entries[0][4:], ErrInvalidKeyring},
		{"uppercase id", "csk1:0000000A" + entries[0][13:], ErrInvalidKeyring},
		{"short id", "csk1:a" + entries[0][13:], ErrInvalidKeyring},
		{"zero id", "csk1:00000000" + entries[0][13:], ErrInvalidKey},
		{"bad state", strings.Replace(entries[0], "primary", "active", 1), ErrInvalidKeyring},
		{"short secret", entries[0][:len(entries[0])-3], ErrInvalidKey},
		{"padded secret", entries[0] + "=", ErrInvalidKey},
		{"std base64 secret", entries[0][:len(entries[0])-43] + "+" + entries[0][len(entries[0])-42:], ErrInvalidKey},
		{"zero secret", "csk1:0000000a:primary:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ErrInvalidKey},
		{"extra field", entries[0] + ":x", ErrInvalidKeyring},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := ParseKeyring(tt.text)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := kr.Marshal(); got != good {
					t.Fatalf("Marshal() = %q, want %q", got, good)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			for _, e := range entries {
				secret := e[strings.LastIndexByte(e, ':')+1:]
				if strings.Contains(err.Error(), secret[:10]) {
					t.Fatalf("error %q quotes key material", err)
				}
			}
		})
	}
}

func TestReload(t *testing.T) {
	kr, err := NewKeyring(testKey(t, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	next, _ := NewKeyring(testKey(t, 2, 2), testKey(t, 1, 1))
	if err := kr.Reload(next.Marshal()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(next.Keys(), kr.Keys()); diff != "" {
		t.Fatalf("keys after Reload (-want +got):\n%s", diff)
	}
	if kr.Marshal() != next.Marshal() {
		t.Fatal("key material differs after Reload")
	}
}
