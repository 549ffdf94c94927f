package cookiesession

import "fmt"

// FlashKey is the session key under which [Session.AddFlash] keeps flash
// messages until [Session.Flashes] reads them. It shows in [Session.Keys].
const FlashKey = "_flashes"

// Flash is a one-time message for the next page a visitor sees, such as
// "Logged in as ada." after a login form redirects.
type Flash struct {
	// Level says what kind of message it is, for styling: by convention
	// "info", "success", "warning" or "error", as Django's message levels.
	Level string `json:"level"`
	// Message is the text to show.
	Message string `json:"message"`
}

// AddFlash adds a message, to be shown once, to those the session holds,
// and marks the session modified. Messages are kept in the order added until
// [Session.Flashes] reads them. Like [Session.Set], it returns
// [ErrHeaderWritten] after the response header was sent.
//
// All of a session's messages are kept in one value, under FlashKey, which
// is never compressed, however long: a message may echo what a visitor
// typed next to one that holds a secret, and compressing the two together
// would let the cookie's length reveal the secret (SPEC.md §11).
func (s *Session) AddFlash(level, message string) error {
	s.lock()
	var flashes []Flash
	if raw, ok, err := s.st.values.get(FlashKey); ok {
		if err == nil {
			err = s.m.codec.unmarshal(raw, &flashes)
		}
		if err != nil {
			s.unlock()
			return fmt.Errorf("%w: key %q holds no flash messages: %w", ErrValueType, FlashKey, err)
		}
	}
	raw, err := s.m.codec.ser.Marshal(append(flashes, Flash{level, message}))
	if err != nil {
		s.unlock()
		return fmt.Errorf("cookiesession: serialize flash messages: %w", err)
	}
	s.st.values.set(FlashKey, raw)
	s.st.changed()
	return s.unlockChanged()
}

// Flashes returns the session's flash messages in the order they were added,
// and removes them, so that each is shown once. With none it returns nil and
// leaves the session unchanged. Like [Pop], it returns [ErrHeaderWritten],
// with the messages, after the response header was sent: read flashes
// before writing the page.
func (s *Session) Flashes() ([]Flash, error) {
	flashes, _, err := Pop[[]Flash](s, FlashKey)
	return flashes, err
}
