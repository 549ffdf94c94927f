package legacy

import (
	"errors"
	"time"

	"github.com/cookiesession/cookiesession"
)

// The errors the readers return, wrapped with the format and the reason;
// errors.Is finds them.
var (
	// ErrNoKey: a reader's config has no key, or a key of the wrong size.
	// Only the New* constructors return it.
	ErrNoKey = errors.New("legacy: missing or invalid key")
	// ErrTooLarge: the cookie value is longer than MaxValueLen, and is
	// rejected unread.
	ErrTooLarge = errors.New("legacy: cookie value too large")
	// ErrMalformed: the value is not of the format at all (wrong number of
	// parts, bad base64), so no signature can be checked.
	ErrMalformed = errors.New("legacy: malformed cookie value")
	// ErrSignature: the MAC or signature does not match the key (an
	// altered value, or one made with another key).
	ErrSignature = errors.New("legacy: bad signature")
	// ErrAlgorithm: an authentic JWT whose header names an algorithm other
	// than HS256, or a critical extension.
	ErrAlgorithm = errors.New("legacy: algorithm not accepted")
	// ErrExpired: the value is older than the maximum age, or past its
	// expiry.
	ErrExpired = errors.New("legacy: expired")
	// ErrNotYetValid: a JWT whose "nbf" (not before) is still ahead.
	ErrNotYetValid = errors.New("legacy: not yet valid")
	// ErrPayload: the value is authentic, but its contents do not decode
	// into a session (only its key holder can make one).
	ErrPayload = errors.New("legacy: bad payload")
)

// MaxValueLen is the longest cookie value the readers accept, in bytes: a
// browser keeps at most 4096 bytes of a cookie's name and value, and
// gorilla/securecookie refuses longer values too.
const MaxValueLen = 4096

// keepExpiry ends s at end, the legacy session's own end, with
// Session.SetExpiry: a Deadline and no idle timeout of its own, so that
// Config.IdleTimeout still applies. cookiesession caps it at
// Config.Lifetime from the migration; an end over 400 days away, more
// than SetExpiry takes, is left to that cap.
func keepExpiry(s *cookiesession.Session, end, now time.Time) error {
	if end.After(now.Add(400 * 24 * time.Hour)) {
		return nil
	}
	return s.SetExpiry(cookiesession.Expiry{Deadline: end})
}

// clock returns now, or time.Now if now is nil.
func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
