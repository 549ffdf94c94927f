package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

// sealed is a session stored in cookies by a real Manager.
type sealed struct {
	setCookies []string // Set-Cookie header values
	header     string   // the Cookie header a browser would send back
	id         string   // session ID
	issued     time.Time
}

// seal stores values in a new session of a Manager with kr and cfg, whose
// clock reads now, and returns its cookies.
func seal(t *testing.T, kr *cookiesession.Keyring, cfg cookiesession.Config, now time.Time, values map[string]any) sealed {
	t.Helper()
	cfg.Now = func() time.Time { return now }
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.LoadHeader(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	lines, err := m.SetCookieHeaders(s)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, l := range lines {
		pair, _, _ := strings.Cut(l, ";")
		pairs = append(pairs, pair)
	}
	return sealed{lines, strings.Join(pairs, "; "), s.ID(), now.Truncate(time.Second).UTC()}
}

// value returns the value of the first cookie in c.
func (c sealed) value() string {
	_, v, _ := strings.Cut(strings.Split(c.header, "; ")[0], "=")
	return v
}

// keyringWith returns a keyring whose primary key is id.
func keyringWith(t *testing.T, id cookiesession.KeyID) *cookiesession.Keyring {
	t.Helper()
	kr, err := cookiesession.NewKeyring(testKey(t, id))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// parseReport splits inspect's output into its labelled fields and the
// payload JSON.
func parseReport(t *testing.T, out string) (map[string]string, string) {
	t.Helper()
	head, payload, ok := strings.Cut(out, "payload:\n")
	if !ok {
		t.Fatalf("no payload in output %q", out)
	}
	fields := make(map[string]string)
	for _, l := range strings.Split(strings.TrimSuffix(head, "\n"), "\n") {
		label, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("bad output line %q", l)
		}
		fields[label] = strings.TrimSpace(v)
	}
	return fields, payload
}

// nonceOf reads the nonce of the sealed text in a first cookie value.
func nonceOf(t *testing.T, v string) string {
	t.Helper()
	if _, text, ok := strings.Cut(v, "."); ok {
		v = text
	}
	raw, err := base64.RawURLEncoding.DecodeString(v[:40])
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(raw[6:30])
}

func TestInspect(t *testing.T) {
	text := testKeyring(t)
	env := map[string]string{keysEnv: text}
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	keysFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keysFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	small := map[string]any{"user": "ann", "n": 3, "tags": []string{"<a>", "b"}}
	// JSONSerializer stores "<a>" unescaped; inspect prints values as stored.
	const smallJSON = `{
  "n": 3,
  "tags": [
    "<a>",
    "b"
  ],
  "user": "ann"
}
`
	one := seal(t, kr, cookiesession.Config{}, at, small)
	big := make([]byte, 3600)
	rand.Read(big)
	bigText := base64.RawURLEncoding.EncodeToString(big)
	two := seal(t, kr, cookiesession.Config{}, at, map[string]any{"blob": bigText})
	if len(two.setCookies) != 2 {
		t.Fatalf("the large session takes %d cookies, want 2", len(two.setCookies))
	}
	// An application with a larger MaxSize writes a session of 3 cookies
	// over the default 6144 bytes: inspect reads any session MaxChunks
	// cookies can hold.
	huge := make([]byte, 6000)
	rand.Read(huge)
	hugeText := base64.RawURLEncoding.EncodeToString(huge)
	three := seal(t, kr, cookiesession.Config{MaxSize: 12000}, at, map[string]any{"blob": hugeText})
	if len(three.setCookies) != 3 || len(three.header) <= cookiesession.DefaultMaxSize {
		t.Fatalf("the larger session takes %d cookies, %d bytes; want 3, over %d", len(three.setCookies), len(three.header), cookiesession.DefaultMaxSize)
	}
	named := seal(t, kr, cookiesession.Config{Name: "__Host-sid", Codec: cookiesession.Options{Purpose: "admin"}}, at, small)
	older := seal(t, keyringWith(t, idDecrypt), cookiesession.Config{}, at, small)
	empty := seal(t, kr, cookiesession.Config{}, at, map[string]any{"k": nil})

	fields := func(c sealed, key string, cookies int, compressed string) map[string]string {
		return map[string]string{
			"key":        key,
			"version":    "2",
			"nonce":      nonceOf(t, c.value()),
			"cookies":    string(rune('0' + cookies)),
			"issued":     c.issued.Format(time.RFC3339),
			"expires":    c.issued.Add(cookiesession.DefaultLifetime).Format(time.RFC3339),
			"compressed": compressed,
			"session ID": c.id,
		}
	}
	primary := idPrimary.String() + " (primary)"
	tests := []struct {
		name        string
		env         map[string]string
		args        []string
		stdin       string
		wantFields  map[string]string
		wantPayload string
	}{
		{"bare value argument", env, []string{one.value()}, "", fields(one, primary, 1, "no"), smallJSON},
		{"bare value on stdin", env, nil, one.value() + "\n", fields(one, primary, 1, "no"), smallJSON},
		{"header among other cookies", env, []string{"theme=dark; " + one.header + "; lang=en"}, "",
			fields(one, primary, 1, "no"), smallJSON},
		{"header split over arguments", env, []string{"theme=dark;", one.header}, "", fields(one, primary, 1, "no"), smallJSON},
		{"Cookie: line on stdin", env, nil, "Cookie: " + one.header + "\r\n", fields(one, primary, 1, "no"), smallJSON},
		{"keys from file", nil, []string{"-keys", keysFile, one.header}, "", fields(one, primary, 1, "no"), smallJSON},
		{"-keys overrides env", map[string]string{keysEnv: "junk"}, []string{"-keys", keysFile, one.header}, "",
			fields(one, primary, 1, "no"), smallJSON},
		{"chunked header", env, []string{two.header}, "", fields(two, primary, 2, "no"),
			"{\n  \"blob\": \"" + bigText + "\"\n}\n"},
		{"chunked, one cookie per argument", env, strings.Split(two.header, "; "), "", fields(two, primary, 2, "no"),
			"{\n  \"blob\": \"" + bigText + "\"\n}\n"},
		{"chunked, Set-Cookie lines on stdin", env, nil,
			"Set-Cookie: " + strings.Join(two.setCookies, "\nSet-Cookie: ") + "\n", fields(two, primary, 2, "no"),
			"{\n  \"blob\": \"" + bigText + "\"\n}\n"},
		{"over the default MaxSize", env, nil, three.header + "\n", fields(three, primary, 3, "no"),
			"{\n  \"blob\": \"" + hugeText + "\"\n}\n"},
		{"name and purpose", env, []string{"-name", "__Host-sid", "-purpose", "admin", named.value()}, "",
			fields(named, primary, 1, "no"), smallJSON},
		{"decrypt-only key", env, []string{older.header}, "",
			fields(older, idDecrypt.String()+" (decrypt-only, not primary)", 1, "no"), smallJSON},
		{"null value", env, []string{empty.header}, "", fields(empty, primary, 1, "no"), "{\n  \"k\": null\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(tt.env, tt.stdin, append([]string{"inspect"}, tt.args...)...)
			// A cookie in the arguments is in the shell's history: inspect
			// warns (TestInspectArgvWarning).
			wantStderr := ""
			if tt.stdin == "" {
				wantStderr = "cookiesession inspect: " + argvWarning + "\n"
			}
			if r.code != exitOK || r.stderr != wantStderr {
				t.Fatalf("exit %d, stderr %q, want %q", r.code, r.stderr, wantStderr)
			}
			got, payload := parseReport(t, r.stdout)
			if diff := cmp.Diff(tt.wantFields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if payload != tt.wantPayload {
				t.Errorf("payload:\n%s\nwant:\n%s", payload, tt.wantPayload)
			}
			var v map[string]json.RawMessage
			if err := json.Unmarshal([]byte(payload), &v); err != nil {
				t.Errorf("payload is not a JSON object: %v", err)
			}
		})
	}
}

// TestInspectArgvWarning runs issue 19 item 12: a live cookie given on the
// command line, where it lands in the shell's history and the process
// list. inspect still reports it, and warns on standard error; the same
// cookie on standard input gets no warning.
func TestInspectArgvWarning(t *testing.T) {
	text := testKeyring(t)
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	c := seal(t, kr, cookiesession.Config{}, time.Now().Add(-time.Minute), map[string]any{"user": "ada"})
	env := map[string]string{keysEnv: text}

	for _, tt := range []struct {
		args []string
		want string // in standard output
	}{
		{[]string{"inspect", c.header}, `"user": "ada"`},
		{[]string{"inspect", "-json", c.header}, `"values": {
    "user": "ada"
  }`},
	} {
		r := runCmd(env, "", tt.args...)
		if r.code != exitOK || !strings.Contains(r.stdout, tt.want) {
			t.Fatalf("%q: exit %d, stdout %q", tt.args[:len(tt.args)-1], r.code, r.stdout)
		}
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], "warning:") || !strings.Contains(lines[0], "shell history") ||
			!strings.Contains(lines[0], "standard input") {
			t.Fatalf("%q: stderr %q, want one warning line about shell history and standard input", tt.args[:len(tt.args)-1], r.stderr)
		}
		if strings.Contains(r.stderr, c.value()) {
			t.Fatal("the warning repeats the cookie")
		}

		stdin := tt.args[: len(tt.args)-1 : len(tt.args)-1]
		r = runCmd(env, c.header+"\n", stdin...)
		if r.code != exitOK || r.stderr != "" {
			t.Fatalf("%q on standard input: exit %d, stderr %q, want no warning", stdin, r.code, r.stderr)
		}
	}
}

// withVersion returns a sealed text with its version byte set to v.
func withVersion(t *testing.T, text string, v byte) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] = v
	return base64.RawURLEncoding.EncodeToString(raw)
}

// tamper changes one character in the middle of s.
func tamper(s string) string {
	i := len(s) / 2
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestInspectFailures(t *testing.T) {
	text := testKeyring(t)
	env := map[string]string{keysEnv: text}
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	small := map[string]any{"user": "ann"}
	one := seal(t, kr, cookiesession.Config{}, now, small)
	purposed := seal(t, kr, cookiesession.Config{Codec: cookiesession.Options{Purpose: "admin"}}, now, small)
	unknown := seal(t, keyringWith(t, idOther), cookiesession.Config{}, now, small)
	disabled := seal(t, keyringWith(t, idDisabled), cookiesession.Config{}, now, small)
	past := time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC)
	expired := seal(t, kr, cookiesession.Config{}, past, small)
	big := make([]byte, 3600)
	rand.Read(big)
	two := seal(t, kr, cookiesession.Config{}, now, map[string]any{"blob": big})
	if len(two.setCookies) != 2 {
		t.Fatalf("the large session takes %d cookies, want 2", len(two.setCookies))
	}
	first, rest, _ := strings.Cut(two.header, "; ")

	const authHint = "authentication failed: wrong cookie name"
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		stdin string
		code  int
		want  []string
	}{
		{"tampered", env, []string{tamper(one.value())}, "", exitFail, []string{authHint, "or the cookie was altered"}},
		{"wrong name", env, []string{"-name", "sid", one.value()}, "", exitFail, []string{authHint, `-name "sid"`}},
		{"wrong purpose", env, []string{purposed.value()}, "", exitFail, []string{authHint, `-purpose ""`}},
		{"unknown key", env, []string{unknown.header}, "", exitFail,
			[]string{"unknown key: the cookie was sealed under a key that is not in the keyring", "44444444"}},
		{"disabled key", env, []string{disabled.header}, "", exitFail, []string{"key disabled:", "33333333"}},
		{"expired", env, []string{expired.header}, "", exitFail,
			[]string{"expired: the session is past its sealed expiry", "2020-01-15T12:00:00Z"}},
		{"unsupported version", env, []string{withVersion(t, one.value(), 3)}, "", exitFail,
			[]string{"unsupported version:", "version 3"}},
		{"too large", env, []string{strings.Repeat("A", 200000)}, "", exitFail, []string{"too large:"}},
		{"malformed", env, []string{"session=not*base64"}, "", exitFail,
			[]string{"malformed: the input is not a sealed session cookie"}},
		{"truncated", env, []string{one.value()[:60]}, "", exitFail, []string{"malformed:"}},
		{"missing chunk", env, []string{first}, "", exitFail, []string{"malformed:", `"__Host-session.1" is missing`}},
		{"chunk without first", env, []string{rest}, "", exitFail, []string{"malformed:", "without a first cookie"}},
		{"chunk count over -max-chunks", env, []string{"-max-chunks", "1", two.header}, "", exitFail,
			[]string{"malformed:", "over MaxChunks 1"}},
		{"no session cookie", env, []string{"theme=dark; lang=en"}, "", exitFail,
			[]string{`no session cookie: the input has no cookie named "session"`}},
		{"other cookie name", env, []string{"-name", "sid", one.header}, "", exitFail, []string{`no cookie named "sid"`}},
		{"empty stdin", env, nil, "", exitUsage, []string{"no cookie given"}},
		{"blank stdin", env, nil, " \n\t\n", exitUsage, []string{"no cookie given"}},
		{"empty argument", env, []string{""}, "", exitUsage, []string{"no cookie given"}},
		{"no keyring", nil, []string{one.value()}, "", exitUsage, []string{"no keyring: set $COOKIESESSION_KEYS or pass -keys file"}},
		{"bad env keyring", map[string]string{keysEnv: "csk1:zz"}, []string{one.value()}, "", exitUsage,
			[]string{"$COOKIESESSION_KEYS: entry 1: cookiesession: invalid keyring"}},
		{"missing keys file", env, []string{"-keys", filepath.Join(t.TempDir(), "none"), one.value()}, "", exitUsage,
			[]string{"no such file"}},
		{"bad -max-chunks", env, []string{"-max-chunks", "11", one.value()}, "", exitUsage, []string{"MaxChunks 11 is outside 1..10"}},
		{"bad -name", env, []string{"-name", "a b", one.value()}, "", exitUsage, []string{"invalid configuration"}},
		{"unknown flag", env, []string{"-x", one.value()}, "", exitUsage, []string{"flag provided but not defined: -x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(tt.env, tt.stdin, append([]string{"inspect"}, tt.args...)...)
			checkFailure(t, r, tt.code, tt.want...)
			if tt.code == exitFail && !strings.HasPrefix(r.stderr, "cookiesession inspect: ") {
				t.Errorf("stderr = %q, want the command's prefix", r.stderr)
			}
		})
	}
}
