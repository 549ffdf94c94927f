package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

// result is what one run of the command produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the command in-process with the given environment and stdin.
func runCmd(env map[string]string, stdin string, args ...string) result {
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] })
	return result{code, out.String(), errOut.String()}
}

// checkFailure checks a failed run: its exit status, nothing on stdout, and
// one line on stderr that contains every string in want.
func checkFailure(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d; stderr: %s", r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	if code == exitFail && strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr is not one line: %q", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr = %q, want it to contain %q", r.stderr, w)
		}
	}
}

// Fixed key IDs of the test keyring.
const (
	idPrimary  cookiesession.KeyID = 0x11111111
	idDecrypt  cookiesession.KeyID = 0x22222222
	idDisabled cookiesession.KeyID = 0x33333333
	idOther    cookiesession.KeyID = 0x44444444
)

func testKey(t *testing.T, id cookiesession.KeyID) cookiesession.Key {
	t.Helper()
	k, err := cookiesession.NewKey(id, bytes.Repeat([]byte{byte(id)}, cookiesession.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testKeyring returns a keyring with idPrimary primary, idDecrypt
// decrypt-only and idDisabled disabled, as text.
func testKeyring(t *testing.T) string {
	t.Helper()
	kr, err := cookiesession.NewKeyring(testKey(t, idPrimary), testKey(t, idDecrypt), testKey(t, idDisabled))
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Disable(idDisabled); err != nil {
		t.Fatal(err)
	}
	return kr.Marshal()
}

// secretOf returns the secret field of key id's entry in keyring text.
func secretOf(t *testing.T, text string, id cookiesession.KeyID) string {
	t.Helper()
	for _, e := range strings.Split(strings.TrimSpace(text), ",") {
		if parts := strings.Split(e, ":"); len(parts) == 4 && parts[1] == id.String() {
			return parts[3]
		}
	}
	t.Fatalf("no key %v in %q", id, text)
	return ""
}

func TestKeygen(t *testing.T) {
	r := runCmd(nil, "", "keygen")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("keygen: exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.HasSuffix(r.stdout, "\n") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("output %q is not one line", r.stdout)
	}
	kr, err := cookiesession.ParseKeyring(r.stdout)
	if err != nil {
		t.Fatalf("ParseKeyring(keygen output): %v", err)
	}
	keys := kr.Keys()
	if len(keys) != 1 || keys[0].State != cookiesession.KeyPrimary || kr.Primary() != keys[0].ID {
		t.Errorf("keygen keyring has keys %v, want one primary", keys)
	}
	if again := runCmd(nil, "", "keygen"); again.stdout == r.stdout {
		t.Errorf("two runs of keygen printed the same keyring")
	}
}

func TestRotate(t *testing.T) {
	in := testKeyring(t)
	file := filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(file, []byte(in+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const newKey cookiesession.KeyID = 0 // stands for the key rotate generated
	// ki is cookiesession.KeyInfo, with positional fields for brevity.
	type ki struct {
		ID    cookiesession.KeyID
		State cookiesession.KeyState
	}
	var (
		primary  = cookiesession.KeyPrimary
		decrypt  = cookiesession.KeyDecryptOnly
		disabled = cookiesession.KeyDisabled
	)
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    []ki
		wantMsg string
	}{
		{"default", nil, in,
			[]ki{{idPrimary, decrypt}, {idDecrypt, decrypt}, {idDisabled, disabled}, {newKey, primary}},
			"as primary; the old primary is decrypt-only"},
		{"default from file", []string{"-f", file}, "",
			[]ki{{idPrimary, decrypt}, {idDecrypt, decrypt}, {idDisabled, disabled}, {newKey, primary}},
			"as primary"},
		{"add", []string{"-add"}, in,
			[]ki{{idPrimary, primary}, {idDecrypt, decrypt}, {idDisabled, disabled}, {newKey, decrypt}},
			"as decrypt-only"},
		{"promote", []string{"-promote", idDecrypt.String()}, in,
			[]ki{{idPrimary, decrypt}, {idDecrypt, primary}, {idDisabled, disabled}},
			"promoted key 22222222 to primary"},
		{"promote, flag=value", []string{"-promote=22222222"}, in,
			[]ki{{idPrimary, decrypt}, {idDecrypt, primary}, {idDisabled, disabled}},
			"promoted key 22222222"},
		{"disable", []string{"-disable", idDecrypt.String()}, in,
			[]ki{{idPrimary, primary}, {idDecrypt, disabled}, {idDisabled, disabled}},
			"disabled key 22222222"},
		{"enable", []string{"-enable", "33333333"}, in,
			[]ki{{idPrimary, primary}, {idDecrypt, decrypt}, {idDisabled, decrypt}},
			"enabled key 33333333"},
		{"remove", []string{"-remove", "33333333"}, in,
			[]ki{{idPrimary, primary}, {idDecrypt, decrypt}},
			"removed key 33333333"},
		{"add=false is the default step", []string{"-add=false"}, in,
			[]ki{{idPrimary, decrypt}, {idDecrypt, decrypt}, {idDisabled, disabled}, {newKey, primary}},
			"as primary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(nil, tt.stdin, append([]string{"rotate"}, tt.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			kr, err := cookiesession.ParseKeyring(r.stdout)
			if err != nil {
				t.Fatalf("output does not parse: %v", err)
			}
			var got []ki
			var added cookiesession.KeyID
			for i, k := range kr.Keys() {
				got = append(got, ki(k))
				switch k.ID {
				case idPrimary, idDecrypt, idDisabled:
					// Key material must survive the round trip.
					if a, b := secretOf(t, r.stdout, k.ID), secretOf(t, in, k.ID); a != b {
						t.Errorf("key %v: secret changed", k.ID)
					}
				default:
					added, got[i].ID = k.ID, newKey
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.stderr, tt.wantMsg) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line containing %q", r.stderr, tt.wantMsg)
			}
			if added != 0 && !strings.Contains(r.stderr, added.String()) {
				t.Errorf("stderr = %q, want the new key's ID %v", r.stderr, added)
			}
		})
	}
}

func TestRotateErrors(t *testing.T) {
	in := testKeyring(t)
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  []string
	}{
		{"promote unknown", []string{"-promote", idOther.String()}, in, exitFail,
			[]string{"unknown key: 44444444 is not in the keyring"}},
		{"remove unknown", []string{"-remove", "44444444"}, in, exitFail, []string{"unknown key: 44444444"}},
		{"disable primary", []string{"-disable", idPrimary.String()}, in, exitFail,
			[]string{"key state: 11111111 is the primary key; promote another key first", "key state does not allow this"}},
		{"remove primary", []string{"-remove", idPrimary.String()}, in, exitFail,
			[]string{"11111111 is the primary key; promote another key first"}},
		{"promote disabled", []string{"-promote", idDisabled.String()}, in, exitFail,
			[]string{"33333333 is disabled; enable it first with -enable 33333333"}},
		{"two steps", []string{"-add", "-remove", "22222222"}, in, exitUsage, []string{"-add and -remove: give at most one step per run"}},
		{"one step twice", []string{"-promote", "22222222", "-disable", "33333333"}, in, exitUsage, []string{"at most one step"}},
		{"bad ID", []string{"-promote", "xyz"}, in, exitUsage, []string{`key ID "xyz" is not 1 to 8 hexadecimal digits`}},
		{"zero ID", []string{"-disable", "00000000"}, in, exitUsage, []string{"not all zero"}},
		{"ID too long", []string{"-disable", "011111111"}, in, exitUsage, []string{"not 1 to 8 hexadecimal digits"}},
		{"unknown flag", []string{"-frobnicate"}, in, exitUsage, []string{"flag provided but not defined: -frobnicate"}},
		{"argument", []string{"keys.txt"}, in, exitUsage, []string{`unexpected argument "keys.txt"`}},
		{"empty input", nil, "", exitUsage, []string{"standard input: cookiesession: invalid keyring: no keys"}},
		{"bad keyring", nil, "csk1:nope", exitUsage, []string{"invalid keyring"}},
		{"missing file", []string{"-f", filepath.Join(t.TempDir(), "none")}, in, exitUsage, []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(nil, tt.stdin, append([]string{"rotate"}, tt.args...)...)
			checkFailure(t, r, tt.code, tt.want...)
			if strings.Contains(r.stderr, secretOf(t, in, idPrimary)) {
				t.Errorf("stderr shows key material: %q", r.stderr)
			}
		})
	}
}

// The keyring text's comments cannot survive Marshal: rotate says so on
// standard error, and only when the input had one.
func TestRotateComments(t *testing.T) {
	in := testKeyring(t)
	const note = "the comments of the input keyring are not in the output"
	tests := []struct {
		name, stdin string
		args        []string
		note        bool
	}{
		{"none", in, nil, false},
		{"own line", "# production keys\n" + in + "\n", nil, true},
		{"after an entry", strings.Replace(in, ",", " # the primary\n", 1), []string{"-add"}, true},
		{"schedule", "# old schedule\n" + in, []string{"-schedule", "10m"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(nil, tt.stdin, append([]string{"rotate"}, tt.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if got := strings.Contains(r.stderr, note); got != tt.note {
				t.Errorf("note on stderr: %v, want %v; stderr %q", got, tt.note, r.stderr)
			}
			if strings.Contains(r.stdout, "production") || strings.Contains(r.stdout, "the primary") || strings.Contains(r.stdout, "old schedule") {
				t.Errorf("stdout has an input comment: %q", r.stdout)
			}
			if _, err := cookiesession.ParseKeyring(r.stdout); err != nil {
				t.Errorf("output does not parse: %v", err)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, exitUsage, "usage:\n  cookiesession keygen"},
		{"unknown command", []string{"frob"}, exitUsage, `unknown command "frob"`},
		{"keygen argument", []string{"keygen", "x"}, exitUsage, `unexpected argument "x"`},
		{"keygen flag", []string{"keygen", "-n", "2"}, exitUsage, "flag provided but not defined: -n"},
		{"rotate help", []string{"rotate", "-h"}, exitOK, "usage: cookiesession rotate [-f file]"},
		// Both flags take a Go duration, and say so (issue 18 §3: they
		// read "-schedule long" and "-lifetime lifetime").
		{"rotate help: -schedule takes a duration", []string{"rotate", "-h"}, exitOK, "\n  -schedule duration\n"},
		{"rotate help: -lifetime takes a duration", []string{"rotate", "-h"}, exitOK, "\n  -lifetime duration\n"},
		{"inspect help", []string{"inspect", "-help"}, exitOK, "-max-chunks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(nil, "", tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d", r.code, tt.code)
			}
			if r.stdout != "" || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stdout %q, stderr %q; want only stderr, containing %q", r.stdout, r.stderr, tt.want)
			}
		})
	}
	if r := runCmd(nil, "", "help"); r.code != exitOK || !strings.Contains(r.stdout, "cookiesession inspect") {
		t.Errorf("help: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestParseKeyID(t *testing.T) {
	tests := []struct {
		in   string
		want cookiesession.KeyID // 0: an error
	}{
		{"22222222", 0x22222222},
		{"0000abcd", 0xabcd},
		{"abcd", 0xabcd},
		{"ABCD", 0xabcd},
		{"ffffffff", 0xffffffff},
		{"", 0},
		{"0", 0},
		{"00000000", 0},
		{"-1", 0},
		{"+1", 0},
		{"0x12", 0},
		{"1_2", 0},
		{"011111111", 0},
		{"100000000", 0},
		{"key", 0},
	}
	for _, tt := range tests {
		got, err := parseKeyID(tt.in)
		if got != tt.want || (err != nil) != (tt.want == 0) {
			t.Errorf("parseKeyID(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestSecretsNotEchoed pastes keyring text where a file name, a key ID or an
// argument belongs: the error must not repeat the secret.
func TestSecretsNotEchoed(t *testing.T) {
	keys := runCmd(nil, "", "keygen").stdout
	keys = strings.TrimSpace(keys)
	secret := keys[strings.LastIndex(keys, ":")+1:]
	for _, args := range [][]string{
		{"rotate", keys},
		{"rotate", "-f", keys},
		{"rotate", "-promote", keys},
		{"inspect", "-keys", keys, "session=x"},
		{"inspect", keys},
		{"keygen", keys},
		{keys},
	} {
		r := runCmd(map[string]string{"COOKIESESSION_KEYS": keys}, "", args...)
		if r.code == exitOK {
			t.Errorf("%q: exit status 0", args[0])
		}
		if strings.Contains(r.stderr, secret) || strings.Contains(r.stdout, secret) {
			t.Errorf("%q: the secret was echoed: %s", args, r.stderr)
		}
	}
}
