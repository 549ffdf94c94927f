package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/google/go-cmp/cmp"
)

// at sets the CLI's clock for one test.
func at(t *testing.T, tm time.Time) {
	t.Helper()
	old := now
	now = func() time.Time { return tm }
	t.Cleanup(func() { now = old })
}

// scheduleDates are the clock readings the date-dependent CLI tests run
// at: the date the test was written for, the real date, and one far past
// it. A command that reads any clock but the CLI's gives a different answer
// at one of them.
func scheduleDates() []time.Time {
	return []time.Time{
		time.Date(2026, 12, 1, 9, 50, 0, 0, time.UTC),
		time.Now().UTC().Truncate(time.Second),
		time.Date(2099, 12, 1, 9, 50, 0, 0, time.UTC),
	}
}

func TestRotateSchedule(t *testing.T) {
	in := testKeyring(t)
	tests := []struct {
		name     string
		args     []string
		wait     time.Duration // until the promotion
		lifetime time.Duration // then until the old primary ends, less the skew
	}{
		{"default lifetime", []string{"-schedule", "10m"}, 10 * time.Minute, cookiesession.DefaultLifetime},
		{"one-hour sessions", []string{"-schedule", "2h", "-lifetime", "1h"}, 2 * time.Hour, time.Hour},
	}
	for _, day := range scheduleDates() {
		for _, tt := range tests {
			t.Run(day.Format("2006-01-02")+"/"+tt.name, func(t *testing.T) {
				// A quarter second past the whole second: the promotion
				// rounds up to the next one.
				start := day.Add(250 * time.Millisecond)
				at(t, start)
				promoteAt := day.Add(tt.wait + time.Second)
				disableAt := promoteAt.Add(tt.lifetime + maxSkew)
				promote, disable := promoteAt.Format(time.RFC3339), disableAt.Format(time.RFC3339)

				r := runCmd(nil, in, append([]string{"rotate"}, tt.args...)...)
				if r.code != exitOK {
					t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
				}
				kr, err := cookiesession.ParseKeyring(r.stdout)
				if err != nil {
					t.Fatalf("output does not parse: %v", err)
				}
				stats := kr.Stats()
				if len(stats) != 4 {
					t.Fatalf("%d keys, want 4", len(stats))
				}
				added := stats[3].ID
				// The states at the start, with the schedules as written.
				kr.SetClock(func() time.Time { return start })
				want := []cookiesession.KeyStats{
					{ID: idPrimary, State: cookiesession.KeyPrimary, DisabledFrom: disableAt},
					{ID: idDecrypt, State: cookiesession.KeyDecryptOnly},
					{ID: idDisabled, State: cookiesession.KeyDisabled},
					{ID: added, State: cookiesession.KeyDecryptOnly, PrimaryFrom: promoteAt},
				}
				if diff := cmp.Diff(want, kr.Stats()); diff != "" {
					t.Fatalf("keys (-want +got):\n%s", diff)
				}
				msg := "added key " + added.String() + " as decrypt-only; it becomes primary at " + promote +
					", and key 11111111 stops opening sessions at " + disable + ". Deploy this keyring to every instance before " + promote + "."
				if r.stderr != "cookiesession rotate: "+msg+"\n" {
					t.Errorf("stderr %q, want %q", r.stderr, msg)
				}
				if first, _, _ := strings.Cut(r.stdout, "\n"); first != "# "+msg {
					t.Errorf("first line %q, want the schedule as a comment", first)
				}
				// A second -schedule before the promotion is refused.
				again := runCmd(nil, r.stdout, "rotate", "-schedule", "10m")
				checkFailure(t, again, exitFail, "already scheduled to become primary at "+promote)

				// Once the CLI's clock has passed the promotion, a rotate
				// writes the keyring as it is then: the promotion done.
				at(t, promoteAt)
				later := runCmd(nil, r.stdout, "rotate", "-add")
				if later.code != exitOK {
					t.Fatalf("rotate -add after the promotion: exit %d, stderr %q", later.code, later.stderr)
				}
				if !strings.Contains(later.stdout, added.String()+":primary:") || strings.Contains(later.stdout, "primary-from") {
					t.Errorf("after the promotion, the keyring is written as\n%s\nwant key %v primary, with no primary-from", later.stdout, added)
				}
			})
		}
	}
}

func TestRotateScheduleErrors(t *testing.T) {
	in := testKeyring(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no duration", []string{"-schedule", "0s"}, "-schedule 0s: give a duration after now"},
		{"negative", []string{"-schedule", "-5m"}, "give a duration after now"},
		{"not a duration", []string{"-schedule", "soon"}, `invalid value "soon" for flag -schedule`},
		{"lifetime alone", []string{"-lifetime", "1h"}, "-lifetime goes with -schedule"},
		{"lifetime with -add", []string{"-add", "-lifetime", "1h"}, "-lifetime goes with -schedule"},
		{"lifetime too long", []string{"-schedule", "10m", "-lifetime", "9601h"}, "from 1s to 400 days"},
		{"with another step", []string{"-schedule", "10m", "-add"}, "at most one step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFailure(t, runCmd(nil, in, append([]string{"rotate"}, tt.args...)...), exitUsage, tt.want)
		})
	}
}

// TestOutputFile checks -o: mode 0600 whatever the umask and the old
// file's mode, the file replaced whole, nothing on standard output.
func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(keys, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCmd(nil, "", "keygen", "-o", keys)
	if r.code != exitOK || r.stdout != "" || r.stderr != "" {
		t.Fatalf("keygen -o: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	check := func(path string) string {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cookiesession.ParseKeyring(string(b)); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		return string(b)
	}
	first := check(keys)

	// rotate reads and writes the same file.
	r = runCmd(nil, "", "rotate", "-schedule", "10m", "-f", keys, "-o", keys)
	if r.code != exitOK || r.stdout != "" {
		t.Fatalf("rotate -o: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	second := check(keys)
	if !strings.Contains(second, strings.TrimSpace(first)) {
		t.Errorf("the old key is gone:\n%s\nthen\n%s", first, second)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in the directory: %v", entries)
	}

	r = runCmd(nil, "", "keygen", "-o", filepath.Join(dir, "missing", "keys.txt"))
	checkFailure(t, r, exitFail, "missing")
}
