package fuzz

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	cs "github.com/cookiesession/cookiesession"
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
