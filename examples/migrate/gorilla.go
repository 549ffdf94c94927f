package main

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// errGorilla: the gorilla session cookie does not verify (bad MAC,
// expired timestamp, wrong keys) or does not decode.
var errGorilla = errors.New("gorilla session not migrated")

// gorillaSessions reads the cookie of a gorilla/sessions CookieStore with
// the application's own keys, through gorilla's code: securecookie checks
// the HMAC and the timestamp against the store's MaxAge, then decrypts and
// gob-decodes session.Values. Types the application stored in its sessions
// must still be registered with gob.Register, as the application did.
type gorillaSessions struct {
	// Cookie is the session name passed to store.Get. Default: "session".
	Cookie string
	// Store is a CookieStore made as the application made it, with
	// sessions.NewCookieStore(hashKey, blockKey) and the same MaxAge.
	Store *sessions.CookieStore
}

// load is a Migration.Load: it copies r's gorilla session.Values into s.
// The new session has string keys only, so a value under any other key
// fails the migration rather than being left behind.
func (g *gorillaSessions) load(r *http.Request, s *cookiesession.Session) error {
	name := cmp.Or(g.Cookie, "session")
	if _, err := r.Cookie(name); err != nil {
		return nil // no gorilla cookie
	}
	// New, not Get: Get caches the session in a registry for the request.
	old, err := g.Store.New(r, name)
	if err != nil {
		// One error per key pair tried; joined, errors.Is sees each,
		// such as securecookie.ErrMacInvalid.
		var multi securecookie.MultiError
		if errors.As(err, &multi) {
			err = errors.Join(multi...)
		}
		return fmt.Errorf("%w: %w", errGorilla, err)
	}
	values := make(map[string]any, len(old.Values))
	for k, v := range old.Values {
		key, ok := k.(string)
		if !ok {
			return fmt.Errorf("%w: a key of type %T, not string", errGorilla, k)
		}
		values[key] = v
	}
	for k, v := range values {
		if err := s.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}
