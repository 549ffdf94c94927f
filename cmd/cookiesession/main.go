// Command cookiesession makes and rotates cookiesession keyrings, and opens
// session cookies to show what is inside them.
//
// Install it with
//
//	go install github.com/cookiesession/cookiesession/cmd/cookiesession@latest
//
// # Making a keyring
//
//	cookiesession keygen
//
// prints a new keyring, holding one primary key, in the text form that
// cookiesession.ParseKeyring reads (SPEC.md §10). The output is a secret:
// send it straight to a secret store or an environment variable, such as
// COOKIESESSION_KEYS.
//
// # Rotating keys
//
//	cookiesession rotate [-f file] [step]
//
// reads a keyring from the file, or from standard input, and prints the
// changed keyring on standard output. Without a step it adds a new primary
// key and keeps the old primary as decrypt-only, which suits a single
// instance. With several instances, rotate in stages, one step per run, and
// deploy each result everywhere before the next step:
//
//	-add         add a new decrypt-only key (its ID goes to standard error)
//	-promote ID  make decrypt-only key ID the primary; the old primary
//	             becomes decrypt-only
//	-disable ID  stop key ID opening cookies, keeping it on record
//	-enable ID   make disabled key ID decrypt-only again
//	-remove ID   delete key ID from the keyring
//
// An ID is the 8 hexadecimal digits of the keyring text. The primary key can
// be neither disabled nor removed: promote another key first. For example:
//
//	cookiesession rotate -add < keys.txt > keys2.txt
//	cookiesession rotate -promote 1a2b3c4d < keys2.txt > keys3.txt
//	cookiesession rotate -remove 0badcafe < keys3.txt > keys4.txt
//
// # Inspecting a cookie
//
//	cookiesession inspect [-keys file] [-name session] [-purpose p] [-max-chunks n] [cookie]
//
// opens a session cookie with the keyring in the COOKIESESSION_KEYS
// environment variable, or in the file that -keys names, and prints the key
// that sealed it (and whether it is primary), the format version, the
// nonce, the number of cookies it spans, when it was issued and when it
// expires (RFC 3339, UTC), whether it was compressed, the session ID, and the
// session's values as a JSON object.
//
// The cookie comes from the arguments, or from standard input if there are
// none. It may be a bare value, read as the value of the cookie -name names,
// or a whole Cookie header such as
// "session=2.AQ...; session.1=xY...; theme=dark", which may carry a session
// split over several cookies. -name defaults to the library's default,
// "__Host-session", or to "session" for a header that names cookies but not
// "__Host-session". A leading "Cookie:" is ignored, as is the
// "Set-Cookie:" of a response line (whose attributes are dropped), and
// several lines, or several arguments, are read as one header. A failed
// authentication means the cookie was altered, or the -name or -purpose
// differ from the application's: the seal cannot tell which. -purpose must
// match the application's
// Options.Purpose, and -max-chunks (default 10, the most the library
// allows) bounds how many cookies one session may span. inspect reads values
// as JSON, the library's default serializer.
//
// # Exit status
//
//	0  success
//	1  the cookie did not open, the input had no session cookie, or the
//	   keyring does not allow the rotation step asked for; standard error
//	   says why in one line
//	2  usage error: bad flags or arguments, or a keyring that cannot be
//	   read or parsed
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/cookiesession/cookiesession"
)

// Exit statuses of run.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// maxInput bounds what the command reads from a file or standard input.
const maxInput = 1 << 20

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

const usageText = `usage:
  cookiesession keygen
  cookiesession rotate [-f file] [-add | -promote ID | -disable ID | -enable ID | -remove ID]
  cookiesession inspect [-keys file] [-name session] [-purpose p] [-max-chunks n] [cookie]

Run "go doc github.com/cookiesession/cookiesession/cmd/cookiesession" for details.
`

// run runs the command with the arguments after the program name, and
// returns its exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	// Keyring text pasted where a file name, key ID or cookie belongs would
	// otherwise come back in an error message.
	stderr = redactWriter{stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "keygen":
		return keygen(rest, stdout, stderr)
	case "rotate":
		return rotate(rest, stdin, stdout, stderr)
	case "inspect":
		return inspect(rest, stdin, stdout, stderr, getenv)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	fmt.Fprintf(stderr, "cookiesession: unknown command %q\n%s", cmd, usageText)
	return exitUsage
}

// secretText matches keyring entries, and anything else that starts like
// one, up to a separator.
var secretText = regexp.MustCompile(`(?i)csk1:[^\s",;]*`)

// redactWriter replaces keyring text with a placeholder. Every message goes
// to it whole, in one Write.
type redactWriter struct{ w io.Writer }

func (r redactWriter) Write(p []byte) (int, error) {
	if _, err := r.w.Write(secretText.ReplaceAll(p, []byte("csk1:<redacted>"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// newFlagSet returns a flag set for a subcommand that reports to stderr.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cookiesession "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: cookiesession %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs. It returns -1 if the command should go
// on, and otherwise the exit status: 0 after -h, 2 after a usage error.
func parseFlags(fs *flag.FlagSet, args []string) int {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage // fs has printed the error and the usage
	}
	return -1
}

// fail prints a one-line message for the subcommand and returns status.
func fail(stderr io.Writer, cmd string, status int, format string, a ...any) int {
	fmt.Fprintf(stderr, "cookiesession %s: %s\n", cmd, fmt.Sprintf(format, a...))
	return status
}

func keygen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("keygen", "", stderr)
	if st := parseFlags(fs, args); st >= 0 {
		return st
	}
	if fs.NArg() > 0 {
		return fail(stderr, "keygen", exitUsage, "unexpected argument %q", fs.Arg(0))
	}
	k, err := cookiesession.GenerateKey()
	if err != nil {
		return fail(stderr, "keygen", exitFail, "%v", err)
	}
	kr, err := cookiesession.NewKeyring(k)
	if err != nil {
		return fail(stderr, "keygen", exitFail, "%v", err)
	}
	fmt.Fprintln(stdout, kr.Marshal())
	return exitOK
}

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

// readKeyring parses the keyring in the file path names, or on stdin if
// path is empty.
func readKeyring(path string, stdin io.Reader) (*cookiesession.Keyring, error) {
	src, r := "standard input", stdin
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src, r = path, f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", src, err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("%s: over %d bytes, not a keyring", src, maxInput)
	}
	kr, err := cookiesession.ParseKeyring(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return kr, nil
}

func rotate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const cmd = "rotate"
	fs := newFlagSet(cmd, "[-f file] [-add | -promote ID | -disable ID | -enable ID | -remove ID]", stderr)
	file := fs.String("f", "", "read the keyring from `file` instead of standard input")
	add := fs.Bool("add", false, "add a new decrypt-only key; its ID goes to standard error")
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
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "f" && (f.Name != "add" || *add) {
			steps = append(steps, "-"+f.Name)
		}
	})
	if len(steps) > 1 {
		return fail(stderr, cmd, exitUsage, "%s: give at most one step per run", strings.Join(steps, " and "))
	}

	kr, err := readKeyring(*file, stdin)
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
	switch {
	case done != "":
	case *add:
		id, err = addKey(kr)
		done = "added key %v as decrypt-only; promote it once every instance has it"
	default:
		id, err = kr.Rotate()
		done = "added key %v as primary; the old primary is decrypt-only"
	}
	msg := fmt.Sprintf(done, id)
	if err != nil {
		return fail(stderr, cmd, exitFail, "%s", stepError(kr, id, err))
	}
	fmt.Fprintln(stdout, kr.Marshal())
	fmt.Fprintf(stderr, "cookiesession rotate: %s\n", msg)
	return exitOK
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
