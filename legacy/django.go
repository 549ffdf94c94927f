package legacy

import (
	"bytes"
	"cmp"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// djangoSalt is the salt of django.contrib.sessions.backends.signed_cookies.
// Django's Signer appends "signer" to the salt to make the HMAC key salt.
const djangoSalt = "django.contrib.sessions.backends.signed_cookies"

// djangoMaxPayload caps the decompressed JSON: a session cookie is at most
// 4 KB, and it has to fit the new cookies anyway.
const djangoMaxPayload = 64 << 10

// DjangoConfig describes the Django application being migrated from.
type DjangoConfig struct {
	// Cookie is SESSION_COOKIE_NAME. Default: "sessionid".
	Cookie string
	// SecretKey is Django's SECRET_KEY. Required.
	SecretKey string
	// MaxAge is SESSION_COOKIE_AGE, the oldest signature accepted.
	// Default: two weeks, as Django.
	MaxAge time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Django reads the cookies of Django's signed-cookie session backend
// (SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies")
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
type Django struct {
	cookie string
	key    []byte
	maxAge time.Duration
	now    func() time.Time
}

// NewDjango checks c and returns its reader. It returns an error wrapping
// ErrNoKey if c.SecretKey is empty, as Django refuses to run without one.
func NewDjango(c DjangoConfig) (*Django, error) {
	if c.SecretKey == "" {
		return nil, fmt.Errorf("%w: DjangoConfig.SecretKey is empty", ErrNoKey)
	}
	if c.MaxAge < 0 {
		return nil, fmt.Errorf("legacy: DjangoConfig.MaxAge %v is negative", c.MaxAge)
	}
	// The key as django.utils.crypto.salted_hmac derives it.
	key := sha256.Sum256([]byte(djangoSalt + "signer" + c.SecretKey))
	return &Django{
		cookie: cmp.Or(c.Cookie, "sessionid"),
		key:    key[:],
		maxAge: cmp.Or(c.MaxAge, 14*24*time.Hour),
		now:    clock(c.Now),
	}, nil
}

// Cookie returns the name of the cookie d reads.
func (d *Django) Cookie() string { return d.cookie }

// Load is a cookiesession Migration.Load: it copies the keys of r's Django
// session into s, each as its JSON value, and ends s when the Django
// session would have ended ([Django.Expires]). It returns nil, having set
// nothing, if r has no Django cookie.
func (d *Django) Load(r *http.Request, s *cookiesession.Session) error {
	c, err := r.Cookie(d.cookie)
	if err != nil {
		return nil // no Django cookie
	}
	data, err := d.Verify(c.Value)
	if err != nil {
		return err
	}
	for k, v := range data {
		// JSONSerializer stores the raw JSON as it is.
		if err := s.Set(k, v); err != nil {
			return err
		}
	}
	return keepExpiry(s, d.Expires(c.Value), d.now())
}

// Expires returns when the session of a value that Verify accepted ends:
// MaxAge after it was signed, as Django checks it.
func (d *Django) Expires(value string) time.Time {
	signed, _, _ := cut(value)
	_, stamp, _ := cut(signed)
	ts, _ := base62(stamp)
	return time.Unix(ts, 0).Add(d.maxAge)
}

// Verify checks a signed-cookie session value and returns its keys, each
// with its JSON value.
func (d *Django) Verify(value string) (map[string]json.RawMessage, error) {
	if len(value) > MaxValueLen {
		return nil, fmt.Errorf("django session: %w: %d bytes", ErrTooLarge, len(value))
	}
	signed, sig, ok := cut(value)
	if !ok {
		return nil, fmt.Errorf("django session: %w: no signature", ErrMalformed)
	}
	mac := hmac.New(sha256.New, d.key)
	mac.Write([]byte(signed))
	// Compared in its text form, as Django does: no other spelling of the
	// same bytes passes.
	want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, fmt.Errorf("django session: %w", ErrSignature)
	}

	// Authentic from here on.
	payload, stamp, ok := cut(signed)
	if !ok {
		return nil, fmt.Errorf("django session: %w: no timestamp", ErrPayload)
	}
	ts, ok := base62(stamp)
	if !ok {
		return nil, fmt.Errorf("django session: %w: bad timestamp", ErrPayload)
	}
	// Django: time.time() - timestamp > max_age.
	if age := d.now().Sub(time.Unix(ts, 0)); age > d.maxAge {
		return nil, fmt.Errorf("django session: %w: signed %v ago, more than %v", ErrExpired, age.Truncate(time.Second), d.maxAge)
	}
	compressed := strings.HasPrefix(payload, ".")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(payload, "."))
	if err != nil {
		return nil, fmt.Errorf("django session: %w: %w", ErrPayload, err)
	}
	if compressed {
		if raw, err = inflate(raw); err != nil {
			return nil, fmt.Errorf("django session: %w: %w", ErrPayload, err)
		}
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("django session: %w: %w", ErrPayload, err)
	}
	return data, nil
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
