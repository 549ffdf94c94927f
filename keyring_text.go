package cookiesession

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// keyTextPrefix starts every entry of the keyring text form (SPEC.md §10).
const keyTextPrefix = "csk1:"

// ParseKeyring parses the keyring text form of SPEC.md §10: entries
// "csk1:<id>:<state>:<secret>", separated by commas or white space, with
// exactly one primary. Errors wrap [ErrInvalidKeyring], [ErrInvalidKey] or
// [ErrDuplicateKeyID] and never contain key material; an error in one entry
// names the entry by its position.
func ParseKeyring(text string) (*Keyring, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidKeyring)
	}
	ks := make([]stateKey, 0, len(fields))
	for i, f := range fields {
		k, st, err := parseKeyEntry(f)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		ks = append(ks, stateKey{k, st})
	}
	return newKeyring(ks)
}

func parseKeyEntry(f string) (Key, KeyState, error) {
	rest, ok := strings.CutPrefix(f, keyTextPrefix)
	if !ok {
		return Key{}, 0, fmt.Errorf("%w: does not start with %q", ErrInvalidKeyring, keyTextPrefix)
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 {
		return Key{}, 0, fmt.Errorf("%w: want csk1:<id>:<state>:<secret>", ErrInvalidKeyring)
	}
	idText, stText, secretText := parts[0], parts[1], parts[2]
	if len(idText) != 8 || strings.Trim(idText, "0123456789abcdef") != "" {
		return Key{}, 0, fmt.Errorf("%w: key ID must be 8 lowercase hex digits", ErrInvalidKeyring)
	}
	id, _ := strconv.ParseUint(idText, 16, 32) // validated above
	st, ok := parseKeyState(stText)
	if !ok {
		return Key{}, 0, fmt.Errorf("%w: key %s: state must be primary, decrypt-only or disabled", ErrInvalidKeyring, idText)
	}
	secret, err := base64.RawURLEncoding.Strict().DecodeString(secretText)
	if err != nil { // CR and LF, which base64 would skip, were split off above
		return Key{}, 0, fmt.Errorf("%w: key %s: key material is not base64url without padding", ErrInvalidKey, idText)
	}
	k, err := NewKey(KeyID(id), secret)
	return k, st, err
}

// Marshal returns the keyring in the text form that [ParseKeyring] reads,
// entries in keyring order, separated by commas. The result contains every
// secret: write it only to a secret store.
//
// Keyring deliberately does not implement encoding.TextMarshaler or
// json.Marshaler, so loggers and encoders never emit the secrets by accident.
func (kr *Keyring) Marshal() string {
	var b strings.Builder
	for i, e := range kr.load().entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(keyTextPrefix)
		b.WriteString(e.key.id.String())
		b.WriteByte(':')
		b.WriteString(e.state.String())
		b.WriteByte(':')
		b.WriteString(base64.RawURLEncoding.EncodeToString(e.key.material()))
	}
	return b.String()
}
