package cookiesession

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// scheduledKeyringText returns a keyring text of n entries: a primary key
// and n-1 decrypt-only keys, each disabled from its own hour of 2030, so
// that every entry starts a phase of the keyring.
func scheduledKeyringText(n int) string {
	var b strings.Builder
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := make([]byte, KeySize)
	for i := 1; i <= n; i++ {
		for j := range m {
			m[j] = byte(j + 1)
		}
		m[0], m[1] = byte(i), byte(i>>8)
		state := "decrypt-only"
		if i == 1 {
			state = "primary"
		}
		fmt.Fprintf(&b, "csk1:%08x:%s:%s", i, state, base64.RawURLEncoding.EncodeToString(m))
		if i > 1 {
			b.WriteString(":" + disabledFromAttr + base.Add(time.Duration(i)*time.Hour).Format(scheduleLayout))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestKeyringEntryCap runs the attack of issue 19 item 6: a keyring text
// (well under the 1 MiB a KeySource may return) whose every entry is
// scheduled, which cost 1.2 s and 356 MB to parse at 2,000 entries. It is
// refused by its count, before any entry is read.
func TestKeyringEntryCap(t *testing.T) {
	if _, err := ParseKeyring(scheduledKeyringText(MaxKeyringEntries)); err != nil {
		t.Fatalf("ParseKeyring(%d entries): %v", MaxKeyringEntries, err)
	}
	for _, n := range []int{MaxKeyringEntries + 1, 2000, 9000} {
		text := scheduledKeyringText(n)
		if len(text) > maxKeyringText {
			t.Fatalf("%d entries take %d bytes, over the KeySource cap", n, len(text))
		}
		_, err := ParseKeyring(text)
		if !errors.Is(err, ErrInvalidKeyring) || !strings.Contains(err.Error(), "more than 256") {
			t.Fatalf("ParseKeyring(%d entries): got %v, want ErrInvalidKeyring for the count", n, err)
		}
		var kr Keyring
		if err := kr.Reload(text); !errors.Is(err, ErrInvalidKeyring) {
			t.Fatalf("Reload(%d entries): got %v, want ErrInvalidKeyring", n, err)
		}
	}
	// The count comes before the entries: a bad entry is not even read.
	text := "csk1:nothex:primary:x\n" + scheduledKeyringText(MaxKeyringEntries)
	if _, err := ParseKeyring(text); err == nil || !strings.Contains(err.Error(), "more than 256") {
		t.Fatalf("ParseKeyring(bad first entry, %d entries): got %v, want the count error", MaxKeyringEntries+1, err)
	}
}

// TestKeyringAddCap checks that a keyring built by Add and Rotate stops at
// MaxKeyringEntries too, so that Marshal always gives a text that parses.
func TestKeyringAddCap(t *testing.T) {
	kr, err := ParseKeyring(scheduledKeyringText(MaxKeyringEntries - 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Rotate(); err != nil {
		t.Fatalf("Rotate to %d keys: %v", MaxKeyringEntries, err)
	}
	if err := kr.Add(testKey(t, 0xfeed, 7)); !errors.Is(err, ErrInvalidKeyring) {
		t.Fatalf("Add of key %d: got %v, want ErrInvalidKeyring", MaxKeyringEntries+1, err)
	}
	if _, err := kr.Rotate(); !errors.Is(err, ErrInvalidKeyring) {
		t.Fatalf("Rotate to %d keys: got %v, want ErrInvalidKeyring", MaxKeyringEntries+1, err)
	}
	if got := len(kr.Keys()); got != MaxKeyringEntries {
		t.Fatalf("keyring has %d keys after the refused changes, want %d", got, MaxKeyringEntries)
	}
	if _, err := ParseKeyring(kr.Marshal()); err != nil {
		t.Fatalf("ParseKeyring(Marshal()): %v", err)
	}
}

// BenchmarkParseKeyringScheduled measures parsing a keyring whose every
// entry is scheduled: at the cap, and at 2,000 entries (refused).
func BenchmarkParseKeyringScheduled(b *testing.B) {
	for _, n := range []int{MaxKeyringEntries, 2000} {
		text := scheduledKeyringText(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseKeyring(text)
			}
		})
	}
}
