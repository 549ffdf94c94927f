package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

// decodeReport decodes one JSON object from a run's stdout into v, and
// fails on anything after it.
func decodeReport(t *testing.T, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
}

// readKeys parses the keyring file that a run wrote, at the CLI's clock.
func readKeys(t *testing.T, path string) *cookiesession.Keyring {
	t.Helper()
	kr, _, err := readKeyring(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestKeygenJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "keys.txt")
	r := runCmd(nil, "", "keygen", "-json", "-o", out)
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var got keyringReport
	decodeReport(t, r.stdout, &got)
	id := readKeys(t, out).Primary().String()
	want := keyringReport{Step: "keygen", KeyID: id, Primary: id, File: out, Keys: []keyReport{{ID: id, State: "primary"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if strings.Contains(r.stdout, "csk1:") {
		t.Errorf("the report holds key text: %s", r.stdout)
	}
}

func TestRotateJSON(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 50, 0, 0, time.UTC)
	at(t, start)
	in := testKeyring(t)
	const added = "<new>" // stands for the ID of the key the run generated
	var (
		p, d, x = idPrimary.String(), idDecrypt.String(), idDisabled.String()
	)
	key := func(id, state string) keyReport { return keyReport{ID: id, State: state} }
	promoteAt := start.Add(10 * time.Minute).Format(time.RFC3339)
	endAt := start.Add(10*time.Minute + cookiesession.DefaultLifetime + maxSkew).Format(time.RFC3339)
	tests := []struct {
		name string
		args []string
		want keyringReport
	}{
		{"default", nil, keyringReport{Step: "rotate", KeyID: added, Primary: added,
			Keys: []keyReport{key(p, "decrypt-only"), key(d, "decrypt-only"), key(x, "disabled"), key(added, "primary")}}},
		{"add", []string{"-add"}, keyringReport{Step: "add", KeyID: added, Primary: p,
			Keys: []keyReport{key(p, "primary"), key(d, "decrypt-only"), key(x, "disabled"), key(added, "decrypt-only")}}},
		{"schedule", []string{"-schedule", "10m"}, keyringReport{Step: "schedule", KeyID: added, Primary: p,
			Keys: []keyReport{
				{ID: p, State: "primary", DisabledFrom: endAt},
				key(d, "decrypt-only"), key(x, "disabled"),
				{ID: added, State: "decrypt-only", PrimaryFrom: promoteAt},
			}}},
		{"promote", []string{"-promote", d}, keyringReport{Step: "promote", KeyID: d, Primary: d,
			Keys: []keyReport{key(p, "decrypt-only"), key(d, "primary"), key(x, "disabled")}}},
		{"disable", []string{"-disable", d}, keyringReport{Step: "disable", KeyID: d, Primary: p,
			Keys: []keyReport{key(p, "primary"), key(d, "disabled"), key(x, "disabled")}}},
		{"enable", []string{"-enable", x}, keyringReport{Step: "enable", KeyID: x, Primary: p,
			Keys: []keyReport{key(p, "primary"), key(d, "decrypt-only"), key(x, "decrypt-only")}}},
		{"remove", []string{"-remove", x}, keyringReport{Step: "remove", KeyID: x, Primary: p,
			Keys: []keyReport{key(p, "primary"), key(d, "decrypt-only")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "keys.txt")
			r := runCmd(nil, in, append([]string{"rotate", "-json", "-o", out}, tt.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var got keyringReport
			decodeReport(t, r.stdout, &got)
			// The report describes the file that was written.
			kr := readKeys(t, out)
			if diff := cmp.Diff(newKeyringReport(kr, "", 0, "").Keys, got.Keys); diff != "" {
				t.Errorf("keys in the file (-) and in the report (+):\n%s", diff)
			}
			// The new key's ID is random: find it in the file, where it is
			// the one key the input did not have.
			newID := ""
			for _, k := range kr.Keys() {
				if k.ID != idPrimary && k.ID != idDecrypt && k.ID != idDisabled {
					newID = k.ID.String()
				}
			}
			if newID != "" {
				if got.KeyID != newID {
					t.Errorf("key_id %q; want the new key %q", got.KeyID, newID)
				}
				for _, s := range []*string{&got.KeyID, &got.Primary} {
					if *s == newID {
						*s = added
					}
				}
				for i := range got.Keys {
					if got.Keys[i].ID == newID {
						got.Keys[i].ID = added
					}
				}
			}
			tt.want.File = out
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			if strings.Contains(r.stdout, "csk1:") {
				t.Errorf("the report holds key text: %s", r.stdout)
			}
		})
	}
}

// TestJSONNeedsFile checks that keygen and rotate refuse -json without -o:
// standard output holds the report, and the key text must not go there.
func TestJSONNeedsFile(t *testing.T) {
	in := testKeyring(t)
	for _, args := range [][]string{
		{"keygen", "-json"},
		{"rotate", "-json"},
		{"rotate", "-json", "-add"},
		{"rotate", "-json", "-schedule", "10m"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runCmd(nil, in, args...)
			checkFailure(t, r, exitUsage, "-json prints a report on standard output", "add -o file")
		})
	}
}

func TestInspectJSON(t *testing.T) {
	text := testKeyring(t)
	env := map[string]string{keysEnv: text}
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	issued := time.Now().Add(-time.Hour)
	c := seal(t, kr, cookiesession.Config{}, issued, map[string]any{"user": "ann", "tags": []string{"<a>", "b"}})
	older := seal(t, keyringWith(t, idDecrypt), cookiesession.Config{}, issued, map[string]any{"n": 3})
	report := func(c sealed, id cookiesession.KeyID, state string, primary bool, values map[string]json.RawMessage) inspectReport {
		return inspectReport{
			KeyID: id.String(), KeyState: state, Primary: primary,
			Version: 2, Nonce: nonceOf(t, c.value()), Cookies: 1,
			Issued:    c.issued.Format(time.RFC3339),
			Expires:   c.issued.Add(cookiesession.DefaultLifetime).Format(time.RFC3339),
			SessionID: c.id,
			Values:    values,
		}
	}
	tests := []struct {
		name  string
		stdin string
		want  inspectReport
	}{
		{"primary", c.header, report(c, idPrimary, "primary", true, map[string]json.RawMessage{
			"tags": json.RawMessage(`["<a>","b"]`), "user": json.RawMessage(`"ann"`)})},
		{"decrypt-only", older.header, report(older, idDecrypt, "decrypt-only", false, map[string]json.RawMessage{
			"n": json.RawMessage(`3`)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(env, tt.stdin, "inspect", "-json")
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var got inspectReport
			decodeReport(t, r.stdout, &got)
			// Compare values as data, whatever the indentation.
			compact := func(m map[string]json.RawMessage) map[string]any {
				out := map[string]any{}
				for k, v := range m {
					var x any
					if err := json.Unmarshal(v, &x); err != nil {
						t.Fatal(err)
					}
					out[k] = x
				}
				return out
			}
			if diff := cmp.Diff(compact(tt.want.Values), compact(got.Values)); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			tt.want.Values, got.Values = nil, nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInspectJSONFailures checks the error object of a cookie that does not
// open, next to the usual line on standard error, and that a usage error
// prints nothing on standard output.
func TestInspectJSONFailures(t *testing.T) {
	text := testKeyring(t)
	env := map[string]string{keysEnv: text}
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		t.Fatal(err)
	}
	c := seal(t, kr, cookiesession.Config{}, time.Now().Add(-time.Hour), map[string]any{"user": "ann"})
	expired := seal(t, kr, cookiesession.Config{}, time.Now().Add(-cookiesession.DefaultLifetime-time.Hour), map[string]any{"user": "ann"})
	unknown := seal(t, keyringWith(t, idOther), cookiesession.Config{}, time.Now(), map[string]any{"user": "ann"})
	tests := []struct {
		name, stdin string
		code        string
	}{
		{"expired", expired.header, "expired"},
		{"tampered", tamper(c.header), "auth_failed"},
		{"unknown key", unknown.header, "unknown_key"},
		{"malformed", "__Host-session=abc", "malformed"},
		{"no session cookie", "theme=dark", "no_session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(env, tt.stdin, "inspect", "-json")
			if r.code != exitFail || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q; want 1 and one line", r.code, r.stderr)
			}
			var got inspectFailure
			decodeReport(t, r.stdout, &got)
			want := inspectFailure{Error: tt.code, Message: strings.TrimSuffix(strings.TrimPrefix(r.stderr, "cookiesession inspect: "), "\n")}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
	r := runCmd(nil, c.header, "inspect", "-json")
	checkFailure(t, r, exitUsage, "no keyring")
}
