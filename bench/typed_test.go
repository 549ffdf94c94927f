package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"testing"

	"github.com/cookiesession/cookiesession"
)

// The fixtures as Go types: what a handler reads its session into.
type (
	// smallSession is small.json: a user ID, a CSRF token and flags.
	smallSession struct {
		Admin    bool   `json:"admin"`
		CSRF     string `json:"csrf"`
		MFA      bool   `json:"mfa"`
		Remember bool   `json:"remember"`
		UID      int64  `json:"uid"`
	}
	// cartSession is medium.json and large.json: a user, preferences, a
	// cart and a CSRF token.
	cartSession struct {
		Cart  []cartItem `json:"cart"`
		CSRF  string     `json:"csrf"`
		Prefs prefs      `json:"prefs"`
		User  user       `json:"user"`
	}
	cartItem struct {
		Cents int               `json:"cents"`
		Name  string            `json:"name"`
		Opts  map[string]string `json:"opts,omitempty"`
		Qty   int               `json:"qty"`
		SKU   string            `json:"sku"`
	}
	prefs struct {
		Compact    bool   `json:"compact"`
		Lang       string `json:"lang"`
		Newsletter bool   `json:"newsletter"`
		Theme      string `json:"theme"`
		TZ         string `json:"tz"`
	}
	user struct {
		Email string   `json:"email"`
		ID    int64    `json:"id"`
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
)

// get reads key into *dst with cookiesession.Get, and fails if it is absent.
func get[T any](s *cookiesession.Session, key string, dst *T) error {
	v, ok, err := cookiesession.Get[T](s, key)
	if err == nil && !ok {
		err = fmt.Errorf("no %q in the session", key)
	}
	*dst = v
	return err
}

// read fills v from s, one Get of each key in its Go type.
func (v *smallSession) read(s *cookiesession.Session) error {
	return errors.Join(
		get(s, "admin", &v.Admin), get(s, "csrf", &v.CSRF), get(s, "mfa", &v.MFA),
		get(s, "remember", &v.Remember), get(s, "uid", &v.UID))
}

// write sets every key of v in s.
func (v *smallSession) write(s *cookiesession.Session) error {
	return errors.Join(
		s.Set("admin", v.Admin), s.Set("csrf", v.CSRF), s.Set("mfa", v.MFA),
		s.Set("remember", v.Remember), s.Set("uid", v.UID))
}

func (v *cartSession) read(s *cookiesession.Session) error {
	return errors.Join(
		get(s, "cart", &v.Cart), get(s, "csrf", &v.CSRF), get(s, "prefs", &v.Prefs), get(s, "user", &v.User))
}

func (v *cartSession) write(s *cookiesession.Session) error {
	return errors.Join(
		s.Set("cart", v.Cart), s.Set("csrf", v.CSRF), s.Set("prefs", v.Prefs), s.Set("user", v.User))
}

// typedSession is a fixture's Go type.
type typedSession interface {
	read(*cookiesession.Session) error
	write(*cookiesession.Session) error
}

// newTyped returns a new, empty value of the fixture's Go type.
func newTyped(size string) typedSession {
	if size == "small" {
		return new(smallSession)
	}
	return new(cartSession)
}

// typedSessionOps is cookiesession as a handler uses it, with the values in
// their Go types. encode changes one key (Set of the CSRF token as a
// string) and saves the session; decode loads it and reads every value
// into its Go type with Get. On the small session, every read and the write
// are strings, integers and bools: the typed fast paths.
func typedSessionOps(tb testing.TB, f fixture) codecOps {
	m := newManager(tb)
	in := newTyped(f.size)
	if err := json.Unmarshal(f.json, in); err != nil {
		tb.Fatal(err)
	}
	s, err := m.LoadHeader(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	if err := in.write(s); err != nil {
		tb.Fatal(err)
	}
	csrf := f.values["csrf"].(string)
	var lines []string
	encode := func() (int, error) {
		if err := s.Set("csrf", csrf); err != nil {
			return 0, err
		}
		var err error
		lines, err = m.SetCookieHeaders(s)
		return wireBytes(lines), err
	}
	if _, err := encode(); err != nil {
		tb.Fatal(err)
	}
	header, _ := setCookies(tb, lines)
	ctx := context.Background()
	out := newTyped(f.size)
	return codecOps{
		encode:  encode,
		cookies: func() int { return countCookies(lines) },
		decode: func() error {
			s, err := m.LoadHeader(ctx, header)
			if err != nil {
				return err
			}
			out = newTyped(f.size)
			return out.read(s)
		},
		result: func() (map[string]any, error) {
			b, err := json.Marshal(out)
			if err != nil {
				return nil, err
			}
			return unmarshalValues(b)
		},
	}
}
