package cookiesession

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The keyring text vectors in testdata/keyring-vectors.json are made by
// genKeyringVectors, and checked against it by TestKeyringVectorsUpToDate.
// To change them on purpose:
//
//	go test -run TestKeyringVectorsUpToDate -update-keyring
var updateKeyring = flag.Bool("update-keyring", false, "rewrite testdata/keyring-vectors.json from genKeyringVectors")

const keyringVectorsFile = "testdata/keyring-vectors.json"

type keyringVectorFile struct {
	Format    string          `json:"format"`
	Generator string          `json:"generator"`
	Notes     []string        `json:"notes"`
	Vectors   []keyringVector `json:"vectors"`
}

// keyringVector is one text and either what it parses to or its error.
type keyringVector struct {
	Description string `json:"description"`
	Text        string `json:"text"`

	Keys      []keyringVectorKey `json:"keys,omitempty"`
	Canonical string             `json:"canonical,omitempty"`
	StatesAt  []keyringStatesAt  `json:"states_at,omitempty"`

	Error string `json:"error,omitempty"`
}

// keyringVectorKey is a parsed entry, as written.
type keyringVectorKey struct {
	ID           string `json:"id"`
	State        string `json:"state"`
	Secret       string `json:"secret_hex"`
	PrimaryFrom  string `json:"primary_from,omitempty"`
	DisabledFrom string `json:"disabled_from,omitempty"`
}

// keyringStatesAt gives every key's state at one time, in keyring order.
type keyringStatesAt struct {
	Now    int64    `json:"now"`
	States []string `json:"states"`
}

var keyringSentinels = map[string]error{
	"ErrInvalidKeyring": ErrInvalidKeyring,
	"ErrInvalidKey":     ErrInvalidKey,
	"ErrDuplicateKeyID": ErrDuplicateKeyID,
}

func genKeyringVectors(t testing.TB) keyringVectorFile {
	secret := func(fill byte) string {
		b := make([]byte, KeySize)
		for i := range b {
			b[i] = fill + byte(i)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	s1, s2, s3 := secret(1), secret(33), secret(65)
	e := func(id, state, sec string) string { return "csk1:" + id + ":" + state + ":" + sec }
	p := e("5eed0001", "primary", s1)
	d := e("5eed0002", "decrypt-only", s2)
	x := e("5eed0003", "disabled", s3)
	const T, D = "2026-12-01T10:00:00Z", "2026-12-15T10:05:00Z"
	tT, _ := time.Parse(time.RFC3339, T)
	tD, _ := time.Parse(time.RFC3339, D)
	promoted := e("5eed0002", "decrypt-only", s2) + ":primary-from=" + T
	retiring := p + ":disabled-from=" + D

	var vs []keyringVector
	// ok adds a text that parses; times are the instants at which the
	// vector gives every key's state.
	ok := func(desc, text string, times ...int64) {
		kr, err := ParseKeyring(text)
		if err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		v := keyringVector{Description: desc, Text: text, Canonical: kr.Marshal()}
		for _, sk := range kr.snap.Load().keys() {
			k := keyringVectorKey{ID: sk.key.id.String(), State: sk.state.String(), Secret: hex.EncodeToString(sk.key.material())}
			if sk.primaryFrom != 0 {
				k.PrimaryFrom = formatScheduleTime(sk.primaryFrom)
			}
			if sk.disabledFrom != 0 {
				k.DisabledFrom = formatScheduleTime(sk.disabledFrom)
			}
			v.Keys = append(v.Keys, k)
		}
		for _, now := range times {
			at := keyringStatesAt{Now: now}
			for _, e := range kr.snap.Load().at(now).entries {
				at.States = append(at.States, e.state.String())
			}
			v.StatesAt = append(v.StatesAt, at)
		}
		vs = append(vs, v)
	}
	bad := func(desc, text, errName string) {
		_, err := ParseKeyring(text)
		if !errors.Is(err, keyringSentinels[errName]) {
			t.Fatalf("%s: got %v, want %s", desc, err, errName)
		}
		vs = append(vs, keyringVector{Description: desc, Text: text, Error: errName})
	}

	ok("one primary key", p)
	ok("the example of SPEC.md section 10: two keys separated by a comma", p+","+d)
	ok("all three states; order is kept", d+","+x+","+p)
	ok("separators: spaces, tabs, CR LF, repeated commas, around and between entries", " \t\r\n,,"+d+"\r\n\t"+p+" , ,"+x+"\n\n")
	ok("comment lines, an indented comment, and a comment at the end without a line feed",
		"# cookiesession keys for the shop\n# rotated 2026-11-30\n"+p+"\n   # the previous key, kept for old sessions\n"+d+"\n# end")
	ok("a comment after an entry on its line, and a commented-out entry", p+" # current\n#"+x+"\n"+d+"# old, CR LF next\r\n")
	ok("a comment ends at LF, not at CR: the entry after CR is part of the comment", p+"\n# one comment\r"+x+"\n"+d)
	ok("scheduled promotion: key 2 primary from T; key 1 decrypt-only from T and disabled from D",
		"# one-step rotation\n"+retiring+"\n"+promoted+"\n",
		tT.Unix()-1, tT.Unix(), tD.Unix()-1, tD.Unix())
	ok("scheduled end of a decrypt-only key", p+","+d+":disabled-from="+D, tD.Unix()-1, tD.Unix())
	ok("promotion scheduled with no end for the old key", p+","+promoted+","+x, tT.Unix()-1, tT.Unix())
	ok("the end of the old key at the very time of the promotion", p+":disabled-from="+T+","+promoted, tT.Unix()-1, tT.Unix())
	ok("a time at the end of 9999", p+","+d+":disabled-from=9999-12-31T23:59:59Z", maxUnixTime-1, maxUnixTime)
	ok("a time one second after 1970 began", p+":disabled-from=1970-01-01T00:00:02Z,"+d+":primary-from=1970-01-01T00:00:01Z", 0, 1, 2)

	// Syntax: ErrInvalidKeyring.
	bad("empty text", "", "ErrInvalidKeyring")
	bad("only separators", " ,\r\n\t,", "ErrInvalidKeyring")
	bad("only comments", "# no keys yet\n# csk1:5eed0001:primary:"+s1+"\n", "ErrInvalidKeyring")
	bad("prefix csk2", strings.Replace(p, "csk1", "csk2", 1), "ErrInvalidKeyring")
	bad("prefix in upper case", strings.Replace(p, "csk1", "CSK1", 1), "ErrInvalidKeyring")
	bad("no secret field", "csk1:5eed0001:primary", "ErrInvalidKeyring")
	bad("key ID of 7 digits", e("5eed001", "primary", s1), "ErrInvalidKeyring")
	bad("key ID of 9 digits", e("5eed00001", "primary", s1), "ErrInvalidKeyring")
	bad("key ID in upper case", e("5EED0001", "primary", s1), "ErrInvalidKeyring")
	bad("key ID not hexadecimal", e("5eed000g", "primary", s1), "ErrInvalidKeyring")
	bad("state in another case", e("5eed0001", "Primary", s1), "ErrInvalidKeyring")
	bad("unknown state", e("5eed0001", "active", s1), "ErrInvalidKeyring")
	bad("a field after the secret that is not a schedule", p+":x", "ErrInvalidKeyring")
	bad("a colon after the secret and nothing after it: an empty schedule", p+":", "ErrInvalidKeyring")
	bad("a colon after the secret, then a separator and another entry", p+":,"+d, "ErrInvalidKeyring")
	bad("unknown schedule attribute", p+",csk1:5eed0002:decrypt-only:"+s2+":promote-at="+T, "ErrInvalidKeyring")
	bad("schedule time with an offset instead of Z", p+","+d+":primary-from=2026-12-01T10:00:00+00:00", "ErrInvalidKeyring")
	bad("schedule time with a lower-case z", p+","+d+":primary-from=2026-12-01T10:00:00z", "ErrInvalidKeyring")
	bad("schedule time with a fraction of a second", p+","+d+":primary-from=2026-12-01T10:00:00.5Z", "ErrInvalidKeyring")
	bad("schedule time with a one-digit hour", p+","+d+":primary-from=2026-12-01T9:00:00Z", "ErrInvalidKeyring")
	bad("schedule time on a day that does not exist", p+","+d+":primary-from=2026-02-30T10:00:00Z", "ErrInvalidKeyring")
	bad("schedule time with a leap second", p+","+d+":primary-from=2026-12-31T23:59:60Z", "ErrInvalidKeyring")
	bad("schedule time at the very start of 1970", p+","+d+":primary-from=1970-01-01T00:00:00Z", "ErrInvalidKeyring")
	bad("schedule time before 1970", p+","+d+":primary-from=1969-12-31T23:59:59Z", "ErrInvalidKeyring")
	bad("a field after the schedule", p+","+promoted+":x", "ErrInvalidKeyring")
	bad("two schedules on one entry", retiring+","+d+":primary-from="+T+":disabled-from="+D, "ErrInvalidKeyring")
	bad("primary-from on the primary", p+":primary-from="+T+","+d, "ErrInvalidKeyring")
	bad("primary-from on a disabled key", p+","+x+":primary-from="+T, "ErrInvalidKeyring")
	bad("disabled-from on a disabled key", p+","+x+":disabled-from="+D, "ErrInvalidKeyring")
	bad("semicolon is not a separator", p+";"+d, "ErrInvalidKeyring")
	bad("no primary", d+","+x, "ErrInvalidKeyring")
	bad("two primaries", p+","+strings.Replace(d, "decrypt-only", "primary", 1), "ErrInvalidKeyring")
	bad("two scheduled promotions", p+","+promoted+","+e("5eed0003", "decrypt-only", s3)+":primary-from="+D, "ErrInvalidKeyring")
	bad("disabled-from on the primary with no promotion", retiring+","+d, "ErrInvalidKeyring")
	bad("disabled-from on the primary before its promotion", p+":disabled-from=2026-12-01T09:59:59Z,"+promoted, "ErrInvalidKeyring")

	// Keys: ErrInvalidKey.
	bad("key ID 0", e("00000000", "primary", s1), "ErrInvalidKey")
	bad("empty secret", e("5eed0001", "primary", ""), "ErrInvalidKey")
	bad("secret of 42 characters", e("5eed0001", "primary", s1[:42]), "ErrInvalidKey")
	bad("secret of 44 characters", e("5eed0001", "primary", s1+"A"), "ErrInvalidKey")
	bad("secret with padding", p+"=", "ErrInvalidKey")
	bad("secret in the standard base64 alphabet", e("5eed0002", "primary", strings.ReplaceAll(s2, "-", "+")), "ErrInvalidKey")
	bad("secret with non-zero unused bits in its last character", e("5eed0001", "primary", s1[:42]+"B"), "ErrInvalidKey")
	bad("secret with a character outside base64url", e("5eed0001", "primary", s1[:42]+"!"), "ErrInvalidKey")
	bad("all-zero key material", e("5eed0001", "primary", strings.Repeat("A", 43)), "ErrInvalidKey")
	bad("key ID 0 and a bad secret", e("00000000", "primary", "short"), "ErrInvalidKey")

	// Duplicates: ErrDuplicateKeyID.
	bad("one entry twice", p+","+p, "ErrDuplicateKeyID")
	bad("one key ID with two secrets and states", p+","+e("5eed0001", "decrypt-only", s2), "ErrDuplicateKeyID")

	// Order: the first entry with an error decides; within an entry, syntax
	// before key before duplicate; keyring-wide rules last.
	bad("order: a bad key in entry 1 before bad syntax in entry 2", e("5eed0001", "primary", "short")+","+e("5eed0002", "active", s2), "ErrInvalidKey")
	bad("order: bad syntax in entry 1 before a bad key in entry 2", e("5eed0001", "active", s1)+","+e("5eed0002", "primary", "short"), "ErrInvalidKeyring")
	bad("order: key ID 0 with a bad state is a syntax error", e("00000000", "active", s1), "ErrInvalidKeyring")
	bad("order: a bad secret with a bad schedule is a syntax error", e("5eed0001", "primary", "short")+":primary-from=soon", "ErrInvalidKeyring")
	bad("order: a duplicate ID with a bad secret is a key error", p+","+e("5eed0001", "decrypt-only", "short"), "ErrInvalidKey")
	bad("order: a duplicate in entry 2 before bad syntax in entry 3", p+","+p+",nonsense", "ErrDuplicateKeyID")
	bad("order: an entry's error before no primary", d+","+e("5eed0003", "disabled", "short"), "ErrInvalidKey")
	bad("order: 257 entries (each the same key) are too many, before any duplicate is read", strings.Repeat(p+"\n", MaxKeyringEntries+1), "ErrInvalidKeyring")
	bad("order: a duplicate before two primaries", p+","+strings.Replace(d, "decrypt-only", "primary", 1)+","+p, "ErrDuplicateKeyID")

	return keyringVectorFile{
		Format:    "cookiesession keyring text form, csk1 (SPEC.md section 10)",
		Generator: "go test -run TestKeyringVectorsUpToDate -update-keyring",
		Notes: []string{
			"Parse 'text'. If 'error' is present, parsing fails with that error, named by its Go sentinel (SPEC.md section 10). Otherwise it succeeds.",
			"On success, 'keys' lists the entries in order: key ID, state and schedule as written, and the key material in hexadecimal. 'canonical' is the keyring written back in canonical form: entries in order, separated by single commas, with no comments.",
			"'states_at', when present, gives each key's state at Unix time 'now', in keyring order.",
			"Every string is UTF-8; texts use only ASCII.",
			"The keys are published here and must never be used.",
		},
		Vectors: vs,
	}
}

func TestKeyringVectorsUpToDate(t *testing.T) {
	checkVectorFile(t, keyringVectorsFile, encodeVectors(t, genKeyringVectors(t)), *updateKeyring, "-update-keyring")
}

// TestKeyringVectors parses every vector in testdata/keyring-vectors.json,
// reading only the file, as an implementation in another language would.
func TestKeyringVectors(t *testing.T) {
	var f keyringVectorFile
	readVectorFile(t, keyringVectorsFile, &f)
	if len(f.Vectors) < 50 {
		t.Fatalf("only %d vectors in %s", len(f.Vectors), keyringVectorsFile)
	}
	for _, v := range f.Vectors {
		t.Run(v.Description, func(t *testing.T) {
			kr, err := ParseKeyring(v.Text)
			var reloaded Keyring
			rerr := reloaded.Reload(v.Text)
			if v.Error != "" {
				want, ok := keyringSentinels[v.Error]
				if !ok {
					t.Fatalf("unknown error name %q", v.Error)
				}
				for _, err := range []error{err, rerr} {
					if !errors.Is(err, want) || !wrapsOneOf(err, keyringSentinels) {
						t.Fatalf("got %v, want %s and no other sentinel", err, v.Error)
					}
					for _, part := range strings.FieldsFunc(v.Text, func(r rune) bool { return isKeyringSep(r) || r == ':' }) {
						if len(part) >= 40 && strings.Contains(err.Error(), part[:20]) {
							t.Fatalf("error %q quotes key material", err)
						}
					}
				}
				return
			}
			if err != nil || rerr != nil {
				t.Fatalf("ParseKeyring: %v; Reload: %v", err, rerr)
			}
			var got []keyringVectorKey
			for _, sk := range kr.snap.Load().keys() {
				k := keyringVectorKey{ID: sk.key.id.String(), State: sk.state.String(), Secret: hex.EncodeToString(sk.key.material())}
				if sk.primaryFrom != 0 {
					k.PrimaryFrom = time.Unix(sk.primaryFrom, 0).UTC().Format(time.RFC3339)
				}
				if sk.disabledFrom != 0 {
					k.DisabledFrom = time.Unix(sk.disabledFrom, 0).UTC().Format(time.RFC3339)
				}
				got = append(got, k)
			}
			if diff := cmp.Diff(v.Keys, got); diff != "" {
				t.Fatalf("keys (-want +got):\n%s", diff)
			}
			if kr.Marshal() != v.Canonical || reloaded.Marshal() != v.Canonical {
				t.Fatalf("Marshal:\n%s\nwant\n%s", kr.Marshal(), v.Canonical)
			}
			for _, at := range v.StatesAt {
				kr.SetClock(func() time.Time { return time.Unix(at.Now, 0) })
				var states []string
				for _, k := range kr.Keys() {
					states = append(states, k.State.String())
				}
				if diff := cmp.Diff(at.States, states); diff != "" {
					t.Fatalf("states at %d (-want +got):\n%s", at.Now, diff)
				}
			}
		})
	}
}

// wrapsOneOf reports whether err wraps exactly one of the sentinels.
func wrapsOneOf(err error, sentinels map[string]error) bool {
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	return n == 1
}
