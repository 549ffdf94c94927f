package fuzz

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	cs "github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

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
	// Comments and schedules.
	f.Add("# keys\n" + p + " # primary\n#" + x + "\n" + d)
	f.Add(p + ":disabled-from=2026-12-15T10:00:00Z," + d + ":primary-from=2026-12-01T10:00:00Z")
	f.Add(p + "," + d + ":primary-from=2026-12-01T10:00:00+01:00")

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
		// A "#" comments out the rest of its line.
		var uncommented []string
		for _, line := range strings.Split(text, "\n") {
			line, _, _ = strings.Cut(line, "#")
			uncommented = append(uncommented, line)
		}
		fields := strings.FieldsFunc(strings.Join(uncommented, "\n"), isKeyringSep)
		keys := kr.Keys()
		if len(keys) != len(fields) {
			t.Fatalf("ParseKeyring(%q): %d keys from %d entries", text, len(keys), len(fields))
		}
		primaries := 0
		for i, k := range keys {
			// The state now may differ from the one written: a schedule
			// (SPEC.md §10) can have changed it.
			if !strings.HasPrefix(fields[i], "csk1:"+k.ID.String()+":") {
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
