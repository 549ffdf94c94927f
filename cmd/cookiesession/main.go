// Command cookiesession makes and rotates cookiesession keyrings, and opens
// session cookies to show what is inside them.
//
// Install it with
//
//	go install github.com/cookiesession/cookiesession/cmd/cookiesession@latest
//
// # Making a keyring
//
//	cookiesession keygen [-o file] [-json]
//
// prints a new keyring, holding one primary key, in the text form that
// cookiesession.ParseKeyring reads (SPEC.md §10). The output is a secret:
// send it straight to a secret store or an environment variable, such as
// COOKIESESSION_KEYS, or write it with -o.
//
// -o file writes the keyring to the file instead of standard output, with
// mode 0600, replacing the file atomically (a new file renamed over it), so
// that a process watching the file never reads half of it. Prefer it to
// "> file", which makes a file that every user can read.
//
// # Rotating keys
//
//	cookiesession rotate [-f file] [-o file] [-json] [step]
//
// reads a keyring from the file, or from standard input, and prints the
// changed keyring on standard output, or writes it with -o. Without a step
// it adds a new primary key and keeps the old primary as decrypt-only, which
// suits a single instance. The output holds the keys alone: comments in
// the input are not kept, and rotate says so on standard error.
//
// With several instances, rotate in one step with a scheduled promotion:
//
//	-schedule duration  add a new key, decrypt-only until this long from
//	                    now, then primary (as 10m or 2h); the old primary
//	                    then becomes decrypt-only, and stops opening
//	                    sessions at the promotion plus -lifetime plus 5
//	                    minutes (the largest clock skew allowance)
//	-lifetime duration  with -schedule: the longest lifetime of a session,
//	                    Config.Lifetime or the longest expiry the application
//	                    sets with SetExpiry (default 336h, 14 days)
//
// Deploy the result to every instance before the promotion: each instance
// loads the new key as decrypt-only and promotes it when its own clock
// reaches the time (SPEC.md §10.4). The keyring starts with a comment that
// says when. For example, with instances that reload keys.txt:
//
//	cookiesession rotate -schedule 10m -f keys.txt -o keys.txt
//
// Or rotate in stages, one step per run, and deploy each result everywhere
// before the next step:
//
//	-add         add a new decrypt-only key (its ID goes to standard error,
//	             and with -json to the report's key_id)
//	-promote ID  make decrypt-only key ID the primary; the old primary
//	             becomes decrypt-only
//	-disable ID  stop key ID opening cookies, keeping it on record
//	-enable ID   make disabled key ID decrypt-only again
//	-remove ID   delete key ID from the keyring
//
// An ID is the 8 hexadecimal digits of the keyring text. The primary key can
// be neither disabled nor removed: promote another key first. For example:
//
//	cookiesession rotate -add -f keys.txt -o keys2.txt
//	cookiesession rotate -promote 1a2b3c4d -f keys2.txt -o keys3.txt
//	cookiesession rotate -remove 0badcafe -f keys3.txt -o keys4.txt
//
// # Inspecting a cookie
//
//	cookiesession inspect [-keys file] [-name session] [-purpose p] [-max-chunks n] [-json] [cookie]
//
// opens a session cookie with the keyring in the COOKIESESSION_KEYS
// environment variable, or in the file that -keys names, and prints the key
// that sealed it (and whether it is primary), the format version, the
// nonce, the number of cookies it spans, when it was issued and when it
// expires (RFC 3339, UTC), whether it was compressed, the session ID, and the
// session's values as a JSON object.
//
// The cookie comes from standard input, or from the arguments if there are
// any. Prefer standard input: a cookie in the arguments shows up in ps and
// in the shell's history, and it is a live session; inspect says so on
// standard error when such a cookie opens (the exit status is still 0). It may be a bare value,
// read as the value of the cookie -name names, or a whole Cookie header such
// as "session=2.AQ...; session.1=xY...; theme=dark", which may carry a session
// split over several cookies. -name defaults to the library's default,
// "__Host-session", or to "session" for a header that names cookies but not
// "__Host-session". A leading "Cookie:" is ignored, as is the
// "Set-Cookie:" of a response line (whose attributes are dropped), and
// several lines, or several arguments, are read as one header. A failed
// authentication means the cookie was altered, or the -name or -purpose
// differ from the application's: the seal cannot tell which. -purpose must
// match the application's Options.Purpose, and -max-chunks (default 10, the
// most the library allows) bounds how many cookies one session may span.
// inspect reads values as JSON, the library's default serializer.
//
// # JSON reports
//
// With -json, keygen, rotate and inspect print one JSON object on standard
// output, for scripts; messages for people still go to standard error. The
// key text never appears in it: keygen and rotate need -o with -json, and
// refuse to run without it (exit status 2), since standard output holds
// the report. keygen and rotate print
//
//	{
//	  "step": "schedule",
//	  "key_id": "1a2b3c4d",
//	  "primary": "0badcafe",
//	  "file": "keys.txt",
//	  "keys": [
//	    {"id": "0badcafe", "state": "primary", "disabled_from": "2026-12-15T10:15:00Z"},
//	    {"id": "1a2b3c4d", "state": "decrypt-only", "primary_from": "2026-12-01T10:00:00Z"}
//	  ]
//	}
//
// step is keygen, or for rotate: rotate (no step flag), add, schedule,
// promote, disable, enable or remove. key_id is the key the step added
// (keygen, rotate, add, schedule) or changed (the others); primary is the
// primary key now; keys are the resulting keyring's keys in order, each
// with its state now and its schedule (primary_from, disabled_from: RFC
// 3339 in UTC, absent when none). So the next step of a staged rotation is
//
//	id=$(cookiesession rotate -add -json -f keys.txt -o keys2.txt | jq -r .key_id)
//	cookiesession rotate -promote "$id" -f keys2.txt -o keys3.txt
//
// inspect prints key_id, key_state (the key's state now), primary (whether
// it is the primary key), version, nonce (hexadecimal), cookies (how many
// the session spans), issued and expires (RFC 3339, UTC), compressed,
// session_id and values (the session's values as a JSON object). When the
// cookie does not open (exit status 1) it prints {"error": CODE, "message":
// TEXT} instead, with the line that standard error shows, and CODE one of
// expired, auth_failed, unknown_key, key_disabled, unsupported_version,
// too_large, malformed, not_opened, no_session or not_json. Usage errors
// (exit status 2) print nothing on standard output.
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
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"

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
  cookiesession keygen [-o file] [-json]
  cookiesession rotate [-f file] [-o file] [-json] [-add | -schedule duration [-lifetime duration] | -promote ID | -disable ID | -enable ID | -remove ID]
  cookiesession inspect [-keys file] [-name session] [-purpose p] [-max-chunks n] [-json] [cookie]

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
	fs := newFlagSet("keygen", "[-o file] [-json]", stderr)
	out := fs.String("o", "", "write the keyring to `file`, with mode 0600, instead of standard output")
	asJSON := fs.Bool("json", false, "print a JSON report (the new key's ID, the keys) on standard output; needs -o")
	if st := parseFlags(fs, args); st >= 0 {
		return st
	}
	if fs.NArg() > 0 {
		return fail(stderr, "keygen", exitUsage, "unexpected argument %q", fs.Arg(0))
	}
	if *asJSON && *out == "" {
		return fail(stderr, "keygen", exitUsage, needsFile)
	}
	k, err := cookiesession.GenerateKey()
	if err != nil {
		return fail(stderr, "keygen", exitFail, "%v", err)
	}
	kr, err := cookiesession.NewKeyring(k)
	if err != nil {
		return fail(stderr, "keygen", exitFail, "%v", err)
	}
	if err := writeKeyring(*out, stdout, kr.Marshal()+"\n"); err != nil {
		return fail(stderr, "keygen", exitFail, "%v", err)
	}
	if *asJSON {
		if err := writeJSON(stdout, newKeyringReport(kr, "keygen", k.ID(), *out)); err != nil {
			return fail(stderr, "keygen", exitFail, "%v", err)
		}
	}
	return exitOK
}

// parseKeyring parses a keyring and sets its clock to the CLI's clock, now,
// so that its schedules resolve at the same time as -schedule computes.
func parseKeyring(text string) (*cookiesession.Keyring, error) {
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		return nil, err
	}
	kr.SetClock(clock)
	return kr, nil
}

// readKeyring parses the keyring in the file path names, or on stdin if
// path is empty; commented reports whether the text held a comment.
func readKeyring(path string, stdin io.Reader) (kr *cookiesession.Keyring, commented bool, err error) {
	src, r := "standard input", stdin
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, false, err
		}
		defer f.Close()
		src, r = path, f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", src, err)
	}
	if len(data) > maxInput {
		return nil, false, fmt.Errorf("%s: over %d bytes, not a keyring", src, maxInput)
	}
	kr, err = parseKeyring(string(data))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", src, err)
	}
	// No entry holds a '#' (SPEC.md §10.1): every one starts a comment.
	return kr, bytes.IndexByte(data, '#') >= 0, nil
}
