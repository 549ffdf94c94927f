package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/cookiesession/cookiesession"
)

// The -json reports: one JSON object on standard output, for scripts. The
// field names are part of the command's interface.

// keyReport is one key of a keyring, as it stands at the CLI's clock.
type keyReport struct {
	// ID is the key's ID, 8 hexadecimal digits.
	ID string `json:"id"`
	// State is primary, decrypt-only or disabled.
	State string `json:"state"`
	// PrimaryFrom and DisabledFrom are the key's schedule, RFC 3339 in
	// UTC, past or to come; absent when nothing is scheduled.
	PrimaryFrom  string `json:"primary_from,omitempty"`
	DisabledFrom string `json:"disabled_from,omitempty"`
}

// keyringReport is what keygen -json and rotate -json print.
type keyringReport struct {
	// Step is what the run did: keygen; or, for rotate, rotate (the
	// default step), add, schedule, promote, disable, enable or remove.
	Step string `json:"step"`
	// KeyID is the key that the step added (keygen, rotate, add,
	// schedule) or changed (the others).
	KeyID string `json:"key_id"`
	// Primary is the ID of the primary key now.
	Primary string `json:"primary"`
	// File is where the keyring went: the -o file.
	File string `json:"file"`
	// Keys are the resulting keyring's keys, in keyring order.
	Keys []keyReport `json:"keys"`
}

// newKeyringReport describes kr after step, which added or changed key id.
func newKeyringReport(kr *cookiesession.Keyring, step string, id cookiesession.KeyID, file string) keyringReport {
	r := keyringReport{Step: step, KeyID: id.String(), Primary: kr.Primary().String(), File: file, Keys: []keyReport{}}
	for _, k := range kr.Stats() {
		r.Keys = append(r.Keys, keyReport{
			ID:           k.ID.String(),
			State:        k.State.String(),
			PrimaryFrom:  rfc3339(k.PrimaryFrom),
			DisabledFrom: rfc3339(k.DisabledFrom),
		})
	}
	return r
}

// rfc3339 formats t in UTC, or returns "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// inspectReport is what inspect -json prints for a cookie that opened.
type inspectReport struct {
	// KeyID is the key that sealed the session; KeyState its state now;
	// Primary whether it is the primary key (if not, the application
	// re-seals the session under the primary when it next saves it).
	KeyID    string `json:"key_id"`
	KeyState string `json:"key_state"`
	Primary  bool   `json:"primary"`
	// Version is the format version, Nonce the nonce in hexadecimal,
	// Cookies the number of cookies the session spans; absent if the
	// cookie's clear header could not be found again in the input.
	Version int    `json:"version,omitempty"`
	Nonce   string `json:"nonce,omitempty"`
	Cookies int    `json:"cookies,omitempty"`
	// Issued and Expires are RFC 3339 times in UTC.
	Issued  string `json:"issued"`
	Expires string `json:"expires"`
	// Compressed is whether the whole payload was compressed (never, for a
	// session: its values are compressed one by one).
	Compressed bool `json:"compressed"`
	// SessionID is the session's ID, 32 hexadecimal digits.
	SessionID string `json:"session_id"`
	// Values are the session's values, as JSON.
	Values map[string]json.RawMessage `json:"values"`
}

// inspectFailure is what inspect -json prints when the input holds no
// session cookie that opens (exit status 1).
type inspectFailure struct {
	// Error says why, in one word: expired, auth_failed, unknown_key,
	// key_disabled, unsupported_version, too_large, malformed, not_opened,
	// no_session or not_json.
	Error string `json:"error"`
	// Message is the line that standard error shows.
	Message string `json:"message"`
}

// openErrorCode names the reason a cookie did not open, for inspectFailure.
func openErrorCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{cookiesession.ErrExpired, "expired"},
		{cookiesession.ErrAuthFailed, "auth_failed"},
		{cookiesession.ErrUnknownKey, "unknown_key"},
		{cookiesession.ErrKeyDisabled, "key_disabled"},
		{cookiesession.ErrUnsupportedVersion, "unsupported_version"},
		{cookiesession.ErrTooLarge, "too_large"},
		{cookiesession.ErrMalformed, "malformed"},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "not_opened"
}

// writeJSON writes v to w as one indented JSON object, in one Write.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// needsFile is the usage error of keygen -json and rotate -json without -o:
// standard output holds the report, so the keyring needs a file.
const needsFile = "-json prints a report on standard output, so the keyring must go to a file: add -o file"

// inspectJSON prints the inspectReport of session s, opened from header
// (whose session cookie is called name) with kr, holding values.
func inspectJSON(stdout, stderr io.Writer, kr *cookiesession.Keyring, s *cookiesession.Session, header, name string, values map[string]json.RawMessage) int {
	info := s.Info()
	r := inspectReport{
		KeyID:      info.KeyID.String(),
		Primary:    info.Primary,
		Issued:     rfc3339(info.IssuedAt),
		Expires:    rfc3339(info.ExpiresAt),
		Compressed: info.Compressed,
		SessionID:  s.ID(),
		Values:     values,
	}
	for _, k := range kr.Keys() {
		if k.ID == info.KeyID {
			r.KeyState = k.State.String()
		}
	}
	if h, ok := findHeader(header, name, info.KeyID); ok {
		r.Version, r.Nonce, r.Cookies = int(h.version), hex.EncodeToString(h.nonce), h.cookies
	}
	if err := writeJSON(stdout, r); err != nil {
		return fail(stderr, "inspect", exitFail, "%v", err)
	}
	return exitOK
}
