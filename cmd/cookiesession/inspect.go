package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// keysEnv is the environment variable inspect reads the keyring from.
const keysEnv = "COOKIESESSION_KEYS"

// maxChunksLimit is the most cookies the library splits a session over.
const maxChunksLimit = 10

func inspect(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	const cmd = "inspect"
	fs := newFlagSet(cmd, "[-keys file] [-name session] [-purpose p] [-max-chunks n] [-json] [cookie]", stderr)
	keysFile := fs.String("keys", "", "read the keyring from `file` instead of $"+keysEnv)
	name := fs.String("name", "", "the session cookie's `name` (Config.Name); default "+cookiesession.DefaultName+
		", or "+cookiesession.DefaultPlainName+" for input that names cookies and not that one")
	purpose := fs.String("purpose", "", "the `purpose` the cookie was sealed for (Config.Codec.Purpose)")
	maxChunks := fs.Int("max-chunks", maxChunksLimit, "the most cookies one session may span, 1 to 10 (Config.MaxChunks)")
	asJSON := fs.Bool("json", false, "print what inspect found as one JSON object on standard output")
	// failOpen reports a cookie that did not open: on stderr, and with
	// -json as an object on stdout too.
	failOpen := func(code, format string, a ...any) int {
		if *asJSON {
			if err := writeJSON(stdout, inspectFailure{Error: code, Message: fmt.Sprintf(format, a...)}); err != nil {
				fmt.Fprintf(stderr, "cookiesession %s: writing the report: %v\n", cmd, err)
			}
		}
		return fail(stderr, cmd, exitFail, format, a...)
	}
	if st := parseFlags(fs, args); st >= 0 {
		return st
	}

	var kr *cookiesession.Keyring
	var err error
	if *keysFile != "" {
		kr, _, err = readKeyring(*keysFile, nil)
	} else if text := getenv(keysEnv); text != "" {
		if kr, err = parseKeyring(text); err != nil {
			err = fmt.Errorf("$%s: %w", keysEnv, err)
		}
	} else {
		err = fmt.Errorf("no keyring: set $%s or pass -keys file", keysEnv)
	}
	if err != nil {
		return fail(stderr, cmd, exitUsage, "%v", err)
	}
	// Read the input first: the default name depends on it. Each argument
	// is read like a line of input: a cookie or a header.
	input := strings.Join(fs.Args(), "\n")
	if fs.NArg() == 0 {
		data, err := io.ReadAll(io.LimitReader(stdin, maxInput+1))
		if err != nil {
			return fail(stderr, cmd, exitUsage, "reading standard input: %v", err)
		}
		if len(data) > maxInput {
			return fail(stderr, cmd, exitUsage, "standard input is over %d bytes", maxInput)
		}
		input = string(data)
	}
	if *name == "" {
		// The library's default, unless the input names cookies and none
		// of them is that.
		*name = cookiesession.DefaultName
		if strings.Contains(input, "=") && !strings.Contains(input, cookiesession.DefaultName) {
			*name = cookiesession.DefaultPlainName
		}
	}
	m, err := cookiesession.New(kr, cookiesession.Config{
		Name:      *name,
		MaxChunks: *maxChunks,
		// Any session that many cookies can hold, whatever the
		// application's MaxSize: a browser keeps 4096 bytes a cookie.
		MaxSize: *maxChunks * 4096,
		Now:     clock,
		Codec:   cookiesession.Options{Purpose: *purpose},
	})
	if err != nil {
		return fail(stderr, cmd, exitUsage, "%v", err)
	}

	header := cookieHeader(input, *name)
	if header == "" {
		return fail(stderr, cmd, exitUsage, "no cookie given: pass a cookie value or a Cookie header as an argument or on standard input")
	}

	s, err := m.LoadHeader(context.Background(), header)
	if err != nil {
		return failOpen(openErrorCode(err), "%s", openError(err, *name, *purpose))
	}
	if s.IsNew() {
		return failOpen("no_session", "no session cookie: the input has no cookie named %q (set -name to the application's cookie name)", *name)
	}

	values := make(map[string]json.RawMessage)
	for _, k := range s.Keys() {
		v, _, err := cookiesession.Get[json.RawMessage](s, k)
		if err != nil {
			return failOpen("not_json", "the value of key %q is not JSON: inspect reads sessions stored with the default JSON serializer only", k)
		}
		values[k] = v
	}
	// The cookie opened: given as an argument, it is a live session, now in
	// the shell's history and, while inspect ran, in the process list.
	warnArgv := func(code int) int {
		if code == exitOK && fs.NArg() > 0 {
			fmt.Fprintf(stderr, "cookiesession %s: %s\n", cmd, argvWarning)
		}
		return code
	}
	if *asJSON {
		return warnArgv(inspectJSON(stdout, stderr, kr, s, header, *name, values))
	}
	var payload bytes.Buffer
	enc := json.NewEncoder(&payload)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(values); err != nil {
		return fail(stderr, cmd, exitFail, "printing the payload: %v", err)
	}

	info := s.Info()
	var b strings.Builder
	line := func(label, format string, a ...any) {
		fmt.Fprintf(&b, "%-12s%s\n", label+":", fmt.Sprintf(format, a...))
	}
	state := "primary"
	if !info.Primary {
		state = "not primary"
		for _, k := range kr.Keys() {
			if k.ID == info.KeyID {
				state = k.State.String() + ", not primary"
			}
		}
	}
	line("key", "%v (%s)", info.KeyID, state)
	if h, ok := findHeader(header, *name, info.KeyID); ok {
		line("version", "%d", h.version)
		line("nonce", "%s", hex.EncodeToString(h.nonce))
		line("cookies", "%d", h.cookies)
	}
	line("issued", "%s", info.IssuedAt.UTC().Format(time.RFC3339))
	line("expires", "%s", info.ExpiresAt.UTC().Format(time.RFC3339))
	line("compressed", "%s", yesNo(info.Compressed))
	line("session ID", "%s", s.ID())
	b.WriteString("payload:\n")
	b.Write(payload.Bytes())
	io.WriteString(stdout, b.String())
	return warnArgv(exitOK)
}

// argvWarning is what inspect says on standard error after it opened a
// cookie given as an argument.
const argvWarning = "warning: this live session cookie came from the command line, so it is in your shell history " +
	"and was visible to other users in the process list; pass cookies on standard input instead " +
	"(cookiesession inspect < cookie.txt), and clear the history entry"

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// cookieHeader turns inspect's input into a Cookie header value. Lines are
// joined with "; ", after dropping a leading "Cookie:" or "Set-Cookie:"
// from each. Input without "=" is a bare value of the cookie called name.
func cookieHeader(input, name string) string {
	var parts []string
	for _, l := range strings.Split(input, "\n") {
		l = strings.TrimSpace(l)
		for _, p := range []string{"cookie:", "set-cookie:"} {
			if len(l) >= len(p) && strings.EqualFold(l[:len(p)], p) {
				l = strings.TrimSpace(l[len(p):])
			}
		}
		if l != "" {
			parts = append(parts, l)
		}
	}
	h := strings.Join(parts, "; ")
	if h != "" && !strings.Contains(h, "=") {
		h = name + "=" + h
	}
	return h
}

// sealedHeader holds the clear header fields of a sealed value (SPEC.md §4),
// and the number of cookies it was split over (SPEC.md §14).
type sealedHeader struct {
	version byte
	nonce   []byte
	cookies int
}

// Sizes from SPEC.md §4: the 30-byte clear header is 40 base64url characters.
const (
	headerBytes = 30
	headerChars = 40
)

// findHeader reads the clear header of the first cookie called name in the
// Cookie header whose key ID is id: the cookie that opened, unless the
// header carries several under one key.
func findHeader(header, name string, id cookiesession.KeyID) (sealedHeader, bool) {
	for _, pair := range strings.Split(header, ";") {
		n, v, ok := strings.Cut(pair, "=")
		if !ok || strings.Trim(n, " \t") != name {
			continue
		}
		v = strings.Trim(v, " \t")
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		count := 1
		if digits, text, ok := strings.Cut(v, "."); ok {
			c, err := strconv.Atoi(digits)
			if err != nil {
				continue
			}
			count, v = c, text
		}
		if len(v) < headerChars {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(v[:headerChars])
		if err != nil || len(raw) != headerBytes || cookiesession.KeyID(binary.BigEndian.Uint32(raw[2:6])) != id {
			continue
		}
		return sealedHeader{version: raw[0], nonce: raw[6:headerBytes], cookies: count}, true
	}
	return sealedHeader{}, false
}

// openError explains, in one line, why a session cookie did not open.
func openError(err error, name, purpose string) string {
	var why string
	switch {
	case errors.Is(err, cookiesession.ErrExpired):
		why = "expired: the session is past its sealed expiry"
	case errors.Is(err, cookiesession.ErrAuthFailed):
		why = fmt.Sprintf("authentication failed: wrong cookie name (-name %q) or purpose (-purpose %q), or the cookie was altered or truncated", name, purpose)
	case errors.Is(err, cookiesession.ErrUnknownKey):
		why = "unknown key: the cookie was sealed under a key that is not in the keyring"
	case errors.Is(err, cookiesession.ErrKeyDisabled):
		why = "key disabled: the cookie's key is in the keyring but disabled, so it opens nothing"
	case errors.Is(err, cookiesession.ErrUnsupportedVersion):
		why = "unsupported version: the cookie has a format version or flags that this build does not know"
	case errors.Is(err, cookiesession.ErrTooLarge):
		why = "too large: the cookie is over the payload size limit"
	case errors.Is(err, cookiesession.ErrMalformed):
		why = "malformed: the input is not a sealed session cookie"
	default:
		why = "the cookie did not open"
	}
	return why + " (" + err.Error() + ")"
}
