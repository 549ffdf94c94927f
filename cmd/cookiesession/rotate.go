package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// keyIDFlag is a flag holding a key ID; set records that it was given.
type keyIDFlag struct {
	id  cookiesession.KeyID
	set bool
}

func (f *keyIDFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return f.id.String()
}

func (f *keyIDFlag) Set(s string) error {
	id, err := parseKeyID(s)
	if err != nil {
		return err
	}
	f.id, f.set = id, true
	return nil
}

// parseKeyID reads a key ID as the keyring text writes it: 8 hexadecimal
// digits. Fewer digits, and upper case, are accepted too.
func parseKeyID(s string) (cookiesession.KeyID, error) {
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil || n == 0 || len(s) > 8 {
		return 0, fmt.Errorf("key ID %q is not 1 to 8 hexadecimal digits, not all zero", s)
	}
	return cookiesession.KeyID(n), nil
}

func rotate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const cmd = "rotate"
	fs := newFlagSet(cmd, "[-f file] [-o file] [-json] [-add | -schedule duration [-lifetime duration] | -promote ID | -disable ID | -enable ID | -remove ID]", stderr)
	file := fs.String("f", "", "read the keyring from `file` instead of standard input")
	out := fs.String("o", "", "write the keyring to `file`, with mode 0600, instead of standard output")
	add := fs.Bool("add", false, "add a new decrypt-only key; its ID goes to standard error")
	asJSON := fs.Bool("json", false, "print a JSON report (the key added or changed, the resulting states and schedules) on standard output; needs -o")
	schedule := fs.Duration("schedule", 0, "add a new key that becomes primary this `duration` from now, and end the old primary after -lifetime")
	lifetime := fs.Duration("lifetime", cookiesession.DefaultLifetime, "with -schedule: the longest `duration` of a session (Config.Lifetime, or the longest SetExpiry)")
	var promote, disable, enable, remove keyIDFlag
	fs.Var(&promote, "promote", "make decrypt-only key `ID` the primary key")
	fs.Var(&disable, "disable", "disable key `ID`, which then opens nothing")
	fs.Var(&enable, "enable", "make disabled key `ID` decrypt-only again")
	fs.Var(&remove, "remove", "remove key `ID` from the keyring")
	if st := parseFlags(fs, args); st >= 0 {
		return st
	}
	if fs.NArg() > 0 {
		return fail(stderr, cmd, exitUsage, "unexpected argument %q (the keyring comes from standard input or -f)", fs.Arg(0))
	}
	var steps []string
	lifetimeSet := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "f", "o", "json":
		case "lifetime":
			lifetimeSet = true
		case "add":
			if *add {
				steps = append(steps, "-add")
			}
		default:
			steps = append(steps, "-"+f.Name)
		}
	})
	if len(steps) > 1 {
		return fail(stderr, cmd, exitUsage, "%s: give at most one step per run", strings.Join(steps, " and "))
	}
	scheduled := len(steps) == 1 && steps[0] == "-schedule"
	switch {
	case *asJSON && *out == "":
		return fail(stderr, cmd, exitUsage, needsFile)
	case lifetimeSet && !scheduled:
		return fail(stderr, cmd, exitUsage, "-lifetime goes with -schedule")
	case scheduled && *schedule <= 0:
		return fail(stderr, cmd, exitUsage, "-schedule %v: give a duration after now, such as 10m", *schedule)
	case *lifetime <= 0 || *lifetime > maxLifetime:
		return fail(stderr, cmd, exitUsage, "-lifetime %v: give a duration from 1s to 400 days (9600h)", *lifetime)
	}

	kr, commented, err := readKeyring(*file, stdin)
	if err != nil {
		return fail(stderr, cmd, exitUsage, "%v", err)
	}
	// The steps that change one named key; at most one flag is set.
	idSteps := []struct {
		flag *keyIDFlag
		run  func(cookiesession.KeyID) error
		done string
	}{
		{&promote, kr.Promote, "promoted key %v to primary"},
		{&disable, kr.Disable, "disabled key %v"},
		{&enable, kr.Enable, "enabled key %v as decrypt-only"},
		{&remove, kr.Remove, "removed key %v"},
	}
	var id cookiesession.KeyID // the key the step changes
	var done string
	for _, st := range idSteps {
		if st.flag.set {
			id, done = st.flag.id, st.done
			err = st.run(id)
		}
	}
	var comment string
	switch {
	case done != "":
	case scheduled:
		id, comment, err = scheduleKey(kr, now(), *schedule, *lifetime)
		if err != nil {
			return fail(stderr, cmd, exitFail, "%v", err)
		}
		done = comment
	case *add:
		id, err = addKey(kr)
		done = "added key %v as decrypt-only; promote it once every instance has it"
	default:
		id, err = kr.Rotate()
		done = "added key %v as primary; the old primary is decrypt-only"
	}
	if err != nil {
		return fail(stderr, cmd, exitFail, "%s", stepError(kr, id, err))
	}
	msg := done
	text := kr.Marshal() + "\n"
	if comment != "" {
		text = "# " + comment + "\n" + text
	} else {
		msg = fmt.Sprintf(done, id)
	}
	if err := writeKeyring(*out, stdout, text); err != nil {
		return fail(stderr, cmd, exitFail, "%v", err)
	}
	if *asJSON {
		step := "rotate"
		if len(steps) == 1 {
			step = steps[0][1:]
		}
		if err := writeJSON(stdout, newKeyringReport(kr, step, id, *out)); err != nil {
			return fail(stderr, cmd, exitFail, "%v", err)
		}
	}
	fmt.Fprintf(stderr, "cookiesession rotate: %s\n", msg)
	if commented {
		// Marshal writes keys only: say so, rather than drop them unseen.
		fmt.Fprintln(stderr, "cookiesession rotate: the comments of the input keyring are not in the output; add back the ones still true")
	}
	return exitOK
}

// maxLifetime is the longest session lifetime the library allows: 400 days.
const maxLifetime = 400 * 24 * time.Hour

// maxSkew is the largest clock skew allowance a Codec takes
// (Options.ClockSkew): the margin a scheduled end of a key leaves after the
// last session sealed under it has expired (SPEC.md §10.4).
const maxSkew = 5 * time.Minute

// now is the CLI's one clock: -schedule computes its times from it, and
// every keyring a command reads resolves its schedules against it (see
// parseKeyring), as does inspect's expiry check. Tests replace it.
var now = time.Now

// clock reads now when it is called, so a keyring parsed before a test
// replaces now still follows it.
func clock() time.Time { return now() }

// scheduleKey adds a new key to kr as decrypt-only, schedules it to become
// primary after wait, and schedules the current primary to stop opening
// sessions once the longest session sealed under it has expired. It
// returns the new key's ID and a one-line description of the schedule.
func scheduleKey(kr *cookiesession.Keyring, now time.Time, wait, lifetime time.Duration) (cookiesession.KeyID, string, error) {
	for _, k := range kr.Stats() {
		if !k.PrimaryFrom.IsZero() && k.PrimaryFrom.After(now) {
			return 0, "", fmt.Errorf("%w: key %v is already scheduled to become primary at %s; run -schedule again after that",
				cookiesession.ErrKeyState, k.ID, k.PrimaryFrom.Format(time.RFC3339))
		}
	}
	old := kr.Primary()
	id, err := addKey(kr)
	if err != nil {
		return 0, "", err
	}
	at := now.Add(wait)
	if err := kr.PromoteAt(id, at); err != nil {
		return 0, "", err
	}
	for _, k := range kr.Stats() {
		if k.ID == id {
			at = k.PrimaryFrom // rounded up to the second
		}
	}
	end := at.Add(lifetime + maxSkew)
	if err := kr.DisableAt(old, end); err != nil {
		return 0, "", err
	}
	return id, fmt.Sprintf("added key %v as decrypt-only; it becomes primary at %s, and key %v stops opening sessions at %s. Deploy this keyring to every instance before %s.",
		id, at.UTC().Format(time.RFC3339), old, end.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)), nil
}

// addKey adds a new random key to kr as decrypt-only.
func addKey(kr *cookiesession.Keyring) (cookiesession.KeyID, error) {
	for {
		k, err := cookiesession.GenerateKey()
		if err != nil {
			return 0, err
		}
		// A random 32-bit ID can, rarely, be taken already: draw again.
		if err := kr.Add(k); !errors.Is(err, cookiesession.ErrDuplicateKeyID) {
			return k.ID(), err
		}
	}
}

// stepError explains why a rotation step on key id was refused.
func stepError(kr *cookiesession.Keyring, id cookiesession.KeyID, err error) string {
	switch {
	case errors.Is(err, cookiesession.ErrUnknownKey):
		return fmt.Sprintf("unknown key: %v is not in the keyring, which has %v", id, kr)
	case errors.Is(err, cookiesession.ErrKeyState) && id == kr.Primary():
		return fmt.Sprintf("key state: %v is the primary key; promote another key first (%v)", id, err)
	case errors.Is(err, cookiesession.ErrKeyState):
		return fmt.Sprintf("key state: %v is disabled; enable it first with -enable %v (%v)", id, id, err)
	}
	return err.Error()
}
