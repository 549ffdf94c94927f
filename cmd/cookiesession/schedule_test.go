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

// at sets the clock of -schedule for one test.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	old := now
	now = func() time.Time { return tm }
	t.Cleanup(func() { now = old })
	return tm
}

func TestRotateSchedule(t *testing.T) {
	at(t, "2026-12-01T09:50:00.25Z")
	in := testKeyring(t)
	tests := []struct {
		name     string
		args     []string
		promote  string
		disable  string
		lifetime time.Duration
	}{
		{"default lifetime", []string{"-schedule", "10m"}, "2026-12-01T10:00:01Z", "2026-12-15T10:05:01Z", 0},
		{"one-hour sessions", []string{"-schedule", "2h", "-lifetime", "1h"}, "2026-12-01T11:50:01Z", "2026-12-01T12:55:01Z", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
			ts := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
			// The clock is real here, long after 2026-12-01: show the states
			// as written, with the schedules.
			kr.SetClock(func() time.Time { return ts("2026-12-01T09:50:00Z") })
			want := []cookiesession.KeyStats{
				{ID: idPrimary, State: cookiesession.KeyPrimary, DisabledFrom: ts(tt.disable)},
				{ID: idDecrypt, State: cookiesession.KeyDecryptOnly},
				{ID: idDisabled, State: cookiesession.KeyDisabled},
				{ID: added, State: cookiesession.KeyDecryptOnly, PrimaryFrom: ts(tt.promote)},
			}
			if diff := cmp.Diff(want, kr.Stats()); diff != "" {
				t.Fatalf("keys (-want +got):\n%s", diff)
			}
			msg := "added key " + added.String() + " as decrypt-only; it becomes primary at " + tt.promote +
				", and key 11111111 stops opening sessions at " + tt.disable + ". Deploy this keyring to every instance before " + tt.promote + "."
			if r.stderr != "cookiesession rotate: "+msg+"\n" {
				t.Errorf("stderr %q, want %q", r.stderr, msg)
			}
			if first, _, _ := strings.Cut(r.stdout, "\n"); first != "# "+msg {
				t.Errorf("first line %q, want the schedule as a comment", first)
			}
			// A second -schedule before the promotion is refused.
			again := runCmd(nil, r.stdout, "rotate", "-schedule", "10m")
			checkFailure(t, again, exitFail, "already scheduled to become primary at "+tt.promote)
		})
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
