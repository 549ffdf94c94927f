package legacy

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// JWTConfig describes the JWT cookie being migrated from.
type JWTConfig struct {
	// Cookie is the cookie's name. Default: "jwt".
	Cookie string
	// Secret is the HMAC key the tokens were signed with. Required.
	Secret []byte
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// JWT reads a session kept as a JWT (RFC 7519) in a cookie, in the JWS
// compact form, signed with HS256:
//
//	token = base64url(header) "." base64url(claims) "." base64url(mac)
//	mac   = HMAC-SHA256(secret, base64url(header) "." base64url(claims))
//
// The three parts must be strict, unpadded base64url. The MAC is checked
// first; then the header must name "alg": "HS256" (never "none", nor another
// algorithm, whatever the token says) and no critical extension; then the
// claims must be a JSON object with a numeric "exp" that is still ahead,
// and a "nbf", if any, that is not. Numbers stay exact, as json.Number.
// It checks no issuer or audience: add those checks if the old application
// made them.
type JWT struct {
	cookie string
	secret []byte
	now    func() time.Time
}

// NewJWT checks c and returns its reader. It returns an error wrapping
// ErrNoKey if c.Secret is empty.
func NewJWT(c JWTConfig) (*JWT, error) {
	if len(c.Secret) == 0 {
		return nil, fmt.Errorf("%w: JWTConfig.Secret is empty", ErrNoKey)
	}
	return &JWT{cookie: cmp.Or(c.Cookie, "jwt"), secret: bytes.Clone(c.Secret), now: clock(c.Now)}, nil
}

// Cookie returns the name of the cookie j reads.
func (j *JWT) Cookie() string { return j.cookie }

// timeClaims describe the token, not the session: Load does not copy them.
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true}

// Load is a cookiesession Migration.Load: every claim but exp, iat and nbf
// becomes a session value, and the session ends no later than the token
// did. It returns nil, having set nothing, if r has no JWT cookie.
func (j *JWT) Load(r *http.Request, s *cookiesession.Session) error {
	c, err := r.Cookie(j.cookie)
	if err != nil {
		return nil // no JWT cookie
	}
	claims, exp, err := j.Verify(c.Value)
	if err != nil {
		return err
	}
	for k, v := range claims {
		if timeClaims[k] {
			continue
		}
		if err := s.Set(k, v); err != nil {
			return err
		}
	}
	// The session ends when the token would have (to the second).
	return keepExpiry(s, exp, j.now())
}

// Verify checks token and returns its claims, with numbers as json.Number,
// and its expiry.
func (j *JWT) Verify(token string) (claims map[string]any, exp time.Time, err error) {
	if len(token) > MaxValueLen {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: %d bytes", ErrTooLarge, len(token))
	}
	// A base64 decoder skips CR and LF, so a token with one inside its
	// signature would be another spelling of a signed token: refuse it.
	if strings.ContainsAny(token, "\r\n") {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: CR or LF in the token", ErrMalformed)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: %d parts, not 3", ErrMalformed, len(parts))
	}
	var raw [3][]byte
	for i, p := range parts {
		if raw[i], err = b64.DecodeString(p); err != nil {
			return nil, time.Time{}, fmt.Errorf("jwt: %w: part %d is not unpadded base64url", ErrMalformed, i+1)
		}
	}
	mac := hmac.New(sha256.New, j.secret)
	mac.Write([]byte(token[:len(parts[0])+1+len(parts[1])]))
	if !hmac.Equal(mac.Sum(nil), raw[2]) {
		return nil, time.Time{}, fmt.Errorf("jwt: %w", ErrSignature)
	}

	// Authentic from here on.
	var header struct {
		Alg  *string         `json:"alg"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(raw[0], &header); err != nil {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: header: %w", ErrPayload, err)
	}
	if header.Alg == nil || *header.Alg != "HS256" {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: alg is not HS256", ErrAlgorithm)
	}
	if header.Crit != nil {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: critical extensions", ErrAlgorithm)
	}
	dec := json.NewDecoder(bytes.NewReader(raw[1]))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: claims: %w", ErrPayload, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: data after the claims", ErrPayload)
	}
	if claims == nil {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: claims are null", ErrPayload)
	}
	now := j.now()
	exp, ok, err := numericDate(claims, "exp")
	if err != nil {
		return nil, time.Time{}, err
	}
	if !ok {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: no exp", ErrPayload)
	}
	// RFC 7519: the token must not be accepted on or after exp.
	if !now.Before(exp) {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: exp %v is not after %v", ErrExpired, exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	nbf, ok, err := numericDate(claims, "nbf")
	if err != nil {
		return nil, time.Time{}, err
	}
	if ok && now.Before(nbf) {
		return nil, time.Time{}, fmt.Errorf("jwt: %w: nbf %v", ErrNotYetValid, nbf.UTC().Format(time.RFC3339))
	}
	return claims, exp, nil
}

// b64 is the JWS encoding: base64url without padding, and with no stray
// bits in the last character, so that every token has one spelling.
var b64 = base64.RawURLEncoding.Strict()

// maxNumericDate bounds exp and nbf, in seconds since 1970: the year 10000.
const maxNumericDate = 253402300800

// numericDate returns the claim name as a time: a JSON number of seconds
// since 1970 (RFC 7519's NumericDate). A fraction of a second is dropped,
// as golang-jwt drops it.
func numericDate(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false, fmt.Errorf("jwt: %w: %s is not a number", ErrPayload, name)
	}
	if i, err := n.Int64(); err == nil {
		if i < -maxNumericDate || i > maxNumericDate {
			return time.Time{}, false, fmt.Errorf("jwt: %w: %s out of range", ErrPayload, name)
		}
		return time.Unix(i, 0), true, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < -maxNumericDate || f > maxNumericDate {
		return time.Time{}, false, fmt.Errorf("jwt: %w: %s out of range", ErrPayload, name)
	}
	return time.Unix(int64(math.Floor(f)), 0), true, nil
}
