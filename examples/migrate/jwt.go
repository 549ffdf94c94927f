package main

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/golang-jwt/jwt/v5"
)

// errJWT: the JWT cookie does not verify (signature, algorithm, expiry) or
// does not parse. It wraps jwt's own error, such as jwt.ErrTokenExpired.
var errJWT = errors.New("jwt session not migrated")

// jwtCookie reads a session kept as a JWT in a cookie, signed with HS256.
// The parser accepts HS256 alone (never "none", nor another algorithm the
// token names), and requires an unexpired "exp".
type jwtCookie struct {
	// Cookie is the cookie's name. Default: "jwt".
	Cookie string
	// Secret is the HMAC key the tokens were signed with.
	Secret []byte
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// timeClaims describe the token, not the session: they are not copied.
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true}

// load is a Migration.Load: every claim but exp, iat and nbf becomes a
// session value, and the session ends no later than the token did.
func (j *jwtCookie) load(r *http.Request, s *cookiesession.Session) error {
	c, err := r.Cookie(cmp.Or(j.Cookie, "jwt"))
	if err != nil {
		return nil // no JWT cookie
	}
	now := j.Now
	if now == nil {
		now = time.Now
	}
	tok, err := jwt.Parse(c.Value, func(*jwt.Token) (any, error) { return j.Secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(now),
		jwt.WithJSONNumber(), // numbers stay exact: 41 is not 41.0
	)
	if err != nil {
		return fmt.Errorf("%w: %w", errJWT, err)
	}
	claims := tok.Claims.(jwt.MapClaims) // what Parse returns
	exp, err := claims.GetExpirationTime()
	if err != nil {
		return fmt.Errorf("%w: %w", errJWT, err)
	}
	for k, v := range claims {
		if timeClaims[k] {
			continue
		}
		if err := s.Set(k, v); err != nil {
			return err
		}
	}
	if d := exp.Sub(now()); exp.Before(s.Expiry()) {
		s.SetExpiry(max(d, time.Second))
	}
	return nil
}
