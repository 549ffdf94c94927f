package main

import (
	"bytes"
	"cmp"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Errors from the Django recipe.
var (
	// errDjangoSignature: the cookie is not a Django signed value, or its
	// signature does not match the secret key.
	errDjangoSignature = errors.New("django session: bad signature")
	// errDjangoExpired: the cookie was signed more than the maximum age ago.
	errDjangoExpired = errors.New("django session: expired")
	// errDjangoPayload: the signed payload does not decode (only possible
	// for a cookie signed with the right key).
	errDjangoPayload = errors.New("django session: bad payload")
)

// djangoSalt is the salt of django.contrib.sessions.backends.signed_cookies.
// Django's Signer appends "signer" to the salt to make the HMAC key salt.
const djangoSalt = "django.contrib.sessions.backends.signed_cookies"

// djangoMaxPayload caps the decompressed JSON: a session cookie is at most
// 4 KB, and it has to fit the new cookies anyway.
const djangoMaxPayload = 64 << 10

// djangoSessions reads the cookies of Django's signed-cookie session
// backend (SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies")
// with Django's JSON serializer, as django.core.signing.loads does:
//
//	value     = payload ":" timestamp ":" signature
//	payload   = base64url(json), or "." base64url(zlib(json)), unpadded
//	timestamp = seconds since 1970 in base 62 (0-9, A-Z, a-z)
//	signature = base64url(HMAC-SHA256(key, payload ":" timestamp)), unpadded
//	key       = SHA-256(salt + "signer" + SECRET_KEY)
//
// The signature covers the compression flag, and the payload is inflated
// only after it checks. It handles DEFAULT_HASHING_ALGORITHM "sha256" (the
// default since Django 3.1, and the only one since 4.0); it does not try
// SECRET_KEY_FALLBACKS. Like Django's backend, it applies SESSION_COOKIE_AGE
// to every session and ignores a per-session "_session_expiry", which is
// copied over as any other key.
type djangoSessions struct {
	// Cookie is SESSION_COOKIE_NAME. Default: "sessionid".
	Cookie string
	// SecretKey is Django's SECRET_KEY.
	SecretKey string
	// MaxAge is SESSION_COOKIE_AGE, the oldest signature accepted.
	// Default: two weeks, as Django.
	MaxAge time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// load is a Migration.Load: it copies the keys of r's Django session into s.
func (d *djangoSessions) load(r *http.Request, s *cookiesession.Session) error {
	c, err := r.Cookie(cmp.Or(d.Cookie, "sessionid"))
	if err != nil {
		return nil // no Django cookie
	}
	data, err := d.verify(c.Value)
	if err != nil {
		return err
	}
	for k, v := range data {
		// JSONSerializer stores the raw JSON as it is.
		if err := s.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}

// verify checks a signed-cookie session value and returns its keys, each
// with its JSON value.
func (d *djangoSessions) verify(value string) (map[string]json.RawMessage, error) {
	signed, sig, ok := cut(value)
	if !ok {
		return nil, fmt.Errorf("%w: no signature", errDjangoSignature)
	}
	mac := hmac.New(sha256.New, d.key())
	mac.Write([]byte(signed))
	// Compared in its text form, as Django does: no other spelling of the
	// same bytes passes.
	want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, fmt.Errorf("%w: signature does not match", errDjangoSignature)
	}

	// Authentic from here on.
	payload, stamp, ok := cut(signed)
	if !ok {
		return nil, fmt.Errorf("%w: no timestamp", errDjangoPayload)
	}
	ts, ok := base62(stamp)
	if !ok {
		return nil, fmt.Errorf("%w: bad timestamp", errDjangoPayload)
	}
	maxAge := d.MaxAge
	if maxAge == 0 {
		maxAge = 14 * 24 * time.Hour
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	// Django: time.time() - timestamp > max_age.
	if age := now().Sub(time.Unix(ts, 0)); age > maxAge {
		return nil, fmt.Errorf("%w: signed %v ago, more than %v", errDjangoExpired, age.Truncate(time.Second), maxAge)
	}
	compressed := strings.HasPrefix(payload, ".")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(payload, "."))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDjangoPayload, err)
	}
	if compressed {
		if raw, err = inflate(raw); err != nil {
			return nil, fmt.Errorf("%w: %w", errDjangoPayload, err)
		}
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("%w: %w", errDjangoPayload, err)
	}
	return data, nil
}

// key derives the HMAC key as django.utils.crypto.salted_hmac does.
func (d *djangoSessions) key() []byte {
	h := sha256.New()
	h.Write([]byte(djangoSalt + "signer"))
	h.Write([]byte(d.SecretKey))
	return h.Sum(nil)
}

// cut splits s at its last ':', as Python's rsplit(':', 1).
func cut(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// base62 decodes Django's base 62 timestamp.
func base62(s string) (int64, bool) {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	if s == "" || len(s) > 10 { // 62^10 > 2^59: no overflow
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(digits, s[i])
		if d < 0 {
			return 0, false
		}
		n = n*62 + int64(d)
	}
	return n, true
}

// inflate decompresses a zlib stream of at most djangoMaxPayload bytes.
func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, djangoMaxPayload+1))
	if err != nil {
		return nil, err
	}
	if len(out) > djangoMaxPayload {
		return nil, fmt.Errorf("inflates to more than %d bytes", djangoMaxPayload)
	}
	return out, nil
}
