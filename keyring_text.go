package cookiesession

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// keyTextPrefix starts every entry of the keyring text form (SPEC.md §10).
const keyTextPrefix = "csk1:"

// Schedule attributes of an entry (SPEC.md §10), and their time layout:
// RFC 3339 in UTC, to the second.
const (
	primaryFromAttr  = "primary-from="
	disabledFromAttr = "disabled-from="
	scheduleLayout   = "2006-01-02T15:04:05Z"
)

// ParseKeyring parses the keyring text form of SPEC.md §10: entries
// "csk1:<id>:<state>:<secret>", each optionally followed by
// ":primary-from=<time>" or ":disabled-from=<time>" (RFC 3339, UTC, such as
// 2026-12-01T10:00:00Z), separated by commas or white space, with exactly
// one primary at every time. A "#" starts a comment that runs to the end of
// its line.
//
// A text holds at most [MaxKeyringEntries] entries.
//
// Errors wrap [ErrInvalidKeyring] (syntax, states, schedules, too many
// entries), [ErrInvalidKey]
// (key ID 0, key material) or [ErrDuplicateKeyID], in the order SPEC.md §10
// defines, and never contain key material; an error in one entry names the
// entry by its position.
func ParseKeyring(text string) (*Keyring, error) {
	ks, err := parseKeyringText(text)
	if err != nil {
		return nil, err
	}
	return newKeyring(ks)
}

// MaxKeyringEntries is the most entries a keyring may hold: 256, far more
// than rotation needs (a key a day for a 30-day lifetime keeps about 31).
// [ParseKeyring], [Keyring.Reload] and [Keyring.Watch] reject a longer text
// before reading any entry, and [Keyring.Add] and [Keyring.Rotate] a 257th
// key, with an error wrapping [ErrInvalidKeyring] (SPEC.md §10.5). The
// bound keeps a keyring's cost small: each scheduled change is a phase of
// the keyring that lists every key.
const MaxKeyringEntries = 256

// isKeyringSep reports whether r separates entries.
func isKeyringSep(r rune) bool {
	return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
}

// stripComments removes every "#" and the rest of its line.
func stripComments(text string) string {
	if !strings.Contains(text, "#") {
		return text
	}
	var b strings.Builder
	for line := range strings.SplitAfterSeq(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			b.WriteString(line[:i])
			if strings.HasSuffix(line, "\n") {
				b.WriteByte('\n')
			}
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// parseKeyringText checks each entry in turn, as SPEC.md §10 orders: its
// syntax, then its key, then its ID against the entries before it. The
// rules over the whole keyring are newSnapshot's.
func parseKeyringText(text string) ([]stateKey, error) {
	fields := strings.FieldsFunc(stripComments(text), isKeyringSep)
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKeyring)
	}
	// The count comes first: building a keyring's phases takes time and
	// memory that grow with the square of its scheduled entries.
	if len(fields) > MaxKeyringEntries {
		return nil, fmt.Errorf("%w: %d entries, more than %d", ErrInvalidKeyring, len(fields), MaxKeyringEntries)
	}
	ks := make([]stateKey, 0, len(fields))
	seen := make(map[KeyID]bool, len(fields))
	for i, f := range fields {
		sk, err := parseKeyEntry(f)
		if err == nil && seen[sk.key.id] {
			err = fmt.Errorf("%w: %v appears twice", ErrDuplicateKeyID, sk.key.id)
		}
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		seen[sk.key.id] = true
		ks = append(ks, sk)
	}
	return ks, nil
}

func parseKeyEntry(f string) (stateKey, error) {
	var sk stateKey
	rest, ok := strings.CutPrefix(f, keyTextPrefix)
	if !ok {
		return sk, fmt.Errorf("%w: does not start with %q", ErrInvalidKeyring, keyTextPrefix)
	}
	// The schedule's time has colons; the other fields have none.
	parts := strings.SplitN(rest, ":", 4)
	if len(parts) < 3 {
		return sk, fmt.Errorf("%w: want csk1:<id>:<state>:<secret>", ErrInvalidKeyring)
	}
	idText, stText, secretText := parts[0], parts[1], parts[2]
	if len(idText) != 8 || strings.Trim(idText, "0123456789abcdef") != "" {
		return sk, fmt.Errorf("%w: key ID must be 8 lowercase hex digits", ErrInvalidKeyring)
	}
	id, _ := strconv.ParseUint(idText, 16, 32) // validated above
	sk.state, ok = parseKeyState(stText)
	if !ok {
		return sk, fmt.Errorf("%w: key %s: state must be primary, decrypt-only or disabled", ErrInvalidKeyring, idText)
	}
	if len(parts) == 4 {
		if err := parseSchedule(&sk, parts[3]); err != nil {
			return sk, fmt.Errorf("%w: key %s: %w", ErrInvalidKeyring, idText, err)
		}
		sk.key.id = KeyID(id)
		if err := checkSchedule(sk); err != nil {
			return sk, err
		}
	}

	// The syntax is valid; now the key itself.
	secret, err := base64.RawURLEncoding.Strict().DecodeString(secretText)
	if err != nil { // CR and LF, which base64 would skip, were split off above
		if id == 0 {
			return sk, fmt.Errorf("%w: key ID 0 is reserved", ErrInvalidKey)
		}
		return sk, fmt.Errorf("%w: key %s: key material is not base64url without padding", ErrInvalidKey, idText)
	}
	sk.key, err = NewKey(KeyID(id), secret)
	return sk, err
}

// parseSchedule reads "primary-from=<time>" or "disabled-from=<time>" into
// sk.
func parseSchedule(sk *stateKey, s string) error {
	var dst *int64
	var text string
	if t, ok := strings.CutPrefix(s, primaryFromAttr); ok {
		dst, text = &sk.primaryFrom, t
	} else if t, ok := strings.CutPrefix(s, disabledFromAttr); ok {
		dst, text = &sk.disabledFrom, t
	} else {
		return fmt.Errorf("want primary-from=<time> or disabled-from=<time> after the secret")
	}
	t, err := time.Parse(scheduleLayout, text)
	if err != nil || t.Format(scheduleLayout) != text || t.Unix() <= 0 {
		return fmt.Errorf("time must be like 2026-12-01T10:00:00Z (RFC 3339, UTC, whole seconds, after 1970)")
	}
	*dst = t.Unix()
	return nil
}

func formatScheduleTime(t int64) string { return time.Unix(t, 0).UTC().Format(scheduleLayout) }

// Marshal returns the keyring in the text form that [ParseKeyring] reads,
// entries in keyring order, separated by commas, with their schedules. The
// result contains every secret: write it only to a secret store.
//
// Keyring deliberately does not implement encoding.TextMarshaler or
// json.Marshaler, so loggers and encoders never emit the secrets by accident.
func (kr *Keyring) Marshal() string {
	var b strings.Builder
	for i, sk := range kr.snap.Load().keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(keyTextPrefix)
		b.WriteString(sk.key.id.String())
		b.WriteByte(':')
		b.WriteString(sk.state.String())
		b.WriteByte(':')
		b.WriteString(base64.RawURLEncoding.EncodeToString(sk.key.material()))
		switch {
		case sk.primaryFrom != 0:
			b.WriteString(":" + primaryFromAttr + formatScheduleTime(sk.primaryFrom))
		case sk.disabledFrom != 0:
			b.WriteString(":" + disabledFromAttr + formatScheduleTime(sk.disabledFrom))
		}
	}
	return b.String()
}
