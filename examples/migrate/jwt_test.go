package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/golang-jwt/jwt/v5"
)

// jwtCookies makes tokens with golang-jwt, as the legacy application did.
func jwtCookies(t *testing.T) legacyCookies {
	claims := func(exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"visits": 41, "user": "ada", "sub": "42", "exp": exp.Unix(), "iat": testNow.Unix()}
	}
	valid := jwtSign(t, jwt.SigningMethodHS256, claims(testNow.Add(time.Hour)), []byte(jwtSecret))

	// Tampered: the claims changed (visits 4100), the signature kept.
	parts := strings.Split(valid, ".")
	forged := claims(testNow.Add(time.Hour))
	forged["visits"] = 4100
	body, err := json.Marshal(forged)
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(body)

	noExp := claims(testNow)
	delete(noExp, "exp")
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(testNow.Add(time.Hour))).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return legacyCookies{
		valid: map[string]string{"HS256": valid},
		bad: map[string]badCookie{
			"tampered": {value: strings.Join(parts, "."), want: jwt.ErrTokenSignatureInvalid},
			"expired":  {value: jwtSign(t, jwt.SigningMethodHS256, claims(testNow.Add(-time.Minute)), []byte(jwtSecret)), want: jwt.ErrTokenExpired},
			"wrongkey": {value: jwtSign(t, jwt.SigningMethodHS256, claims(testNow.Add(time.Hour)), []byte("another secret")), want: jwt.ErrTokenSignatureInvalid},
			// Attacks on the algorithm: none, and another HMAC with the right key.
			"alg none":  {value: none, want: jwt.ErrTokenSignatureInvalid},
			"alg HS384": {value: jwtSign(t, jwt.SigningMethodHS384, claims(testNow.Add(time.Hour)), []byte(jwtSecret)), want: jwt.ErrTokenSignatureInvalid},
			"no exp":    {value: jwtSign(t, jwt.SigningMethodHS256, noExp, []byte(jwtSecret)), want: jwt.ErrTokenRequiredClaimMissing},
			"garbage":   {value: "not.a.token", want: jwt.ErrTokenMalformed},
		},
	}
}

func jwtSign(t *testing.T, method jwt.SigningMethod, claims jwt.MapClaims, key []byte) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The claims become values (all but exp, iat and nbf), numbers stay
// exact, and the session ends when the token would have.
func TestJWTClaimsAndExpiry(t *testing.T) {
	s := newServer(t)
	exp := testNow.Add(90 * time.Minute)
	tok := jwtSign(t, jwt.SigningMethodHS256, jwt.MapClaims{
		"visits": 41, "big": int64(1) << 60, "roles": []string{"admin"}, "exp": exp.Unix(), "iat": testNow.Unix(),
	}, []byte(jwtSecret))
	j := &jwtCookie{Secret: []byte(jwtSecret), Now: func() time.Time { return testNow }}
	sess, err := s.m.LoadHeader(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", "jwt="+tok)
	if err := j.load(req, sess); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sess.Keys(), ","); got != "big,roles,visits" {
		t.Errorf("keys %s, want big,roles,visits", got)
	}
	if !sess.Expiry().Equal(exp) {
		t.Errorf("expiry %v, want the token's %v", sess.Expiry(), exp)
	}
	big, _, err := cookiesession.Get[int64](sess, "big")
	if err != nil || big != 1<<60 {
		t.Errorf("big = %d (%v), want 1<<60 exactly", big, err)
	}
}
