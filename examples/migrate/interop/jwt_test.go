package interop

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/legacy"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// jwtCookies makes tokens with golang-jwt, as the legacy application did.
func jwtCookies(t *testing.T) legacyCookies {
	claims := func(exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"visits": 41, "user": "ada", "sub": "42", "exp": exp.Unix(), "iat": testNow.Unix()}
	}
	valid := jwtSign(t, jwt.SigningMethodHS256, claims(testNow.Add(time.Hour)), []byte(jwtSecret))
	noExp := claims(testNow)
	delete(noExp, "exp")
	return legacyCookies{
		valid: map[string]string{"HS256": valid},
		bad: map[string]badCookie{
			"tampered": {value: jwtForge(t, valid), want: legacy.ErrSignature},
			"expired":  {value: jwtSign(t, jwt.SigningMethodHS256, claims(testNow.Add(-time.Minute)), []byte(jwtSecret)), want: legacy.ErrExpired},
			"wrongkey": {value: jwtSign(t, jwt.SigningMethodHS256, claims(testNow.Add(time.Hour)), []byte("another secret")), want: legacy.ErrSignature},
			// Attacks on the algorithm: none, and another HMAC with the right key.
			"alg none":  {value: jwtNone(t, claims(testNow.Add(time.Hour))), want: legacy.ErrSignature},
			"alg HS384": {value: jwtSign(t, jwt.SigningMethodHS384, claims(testNow.Add(time.Hour)), []byte(jwtSecret)), want: legacy.ErrSignature},
			"no exp":    {value: jwtSign(t, jwt.SigningMethodHS256, noExp, []byte(jwtSecret)), want: legacy.ErrPayload},
			"garbage":   {value: "not.a.token", want: legacy.ErrMalformed},
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

// jwtNone is an unsigned token, alg "none", as golang-jwt makes it.
func jwtNone(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwtForge replaces the claims of token (visits 4100), keeping its
// signature.
func jwtForge(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		t.Fatal(err)
	}
	claims["visits"] = 4100
	if body, err = json.Marshal(claims); err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(body)
	return strings.Join(parts, ".")
}

// The reader agrees with golang-jwt, configured as the server's reader is
// (HS256 only, exp required, JSON numbers), on every token golang-jwt
// made: it accepts the same ones, and reads the same claims.
func TestJWTAgreesWithGolangJWT(t *testing.T) {
	secret := []byte(jwtSecret)
	hs256 := func(c jwt.MapClaims) string { return jwtSign(t, jwt.SigningMethodHS256, c, secret) }
	in := func(d time.Duration) int64 { return testNow.Add(d).Unix() }
	base := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"visits": 41, "user": "ada", "big": int64(1)<<60 + 1, "roles": []string{"admin"}, "iat": testNow.Unix()}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	valid := hs256(base(jwt.MapClaims{"exp": in(time.Hour)}))
	for _, tc := range []struct{ name, token string }{
		{"valid", valid},
		{"exp with a fraction", hs256(base(jwt.MapClaims{"exp": float64(in(time.Hour)) + 0.5}))},
		{"exp a fraction ahead", hs256(base(jwt.MapClaims{"exp": float64(in(0)) + 0.5}))},
		{"nbf past", hs256(base(jwt.MapClaims{"exp": in(time.Hour), "nbf": in(-time.Minute)}))},
		{"nbf now", hs256(base(jwt.MapClaims{"exp": in(time.Hour), "nbf": in(0)}))},
		{"nbf ahead", hs256(base(jwt.MapClaims{"exp": in(time.Hour), "nbf": in(time.Minute)}))},
		{"expired", hs256(base(jwt.MapClaims{"exp": in(-time.Minute)}))},
		{"exp now", hs256(base(jwt.MapClaims{"exp": in(0)}))},
		{"no exp", hs256(base(nil))},
		{"exp a string", hs256(base(jwt.MapClaims{"exp": "2000000000"}))},
		{"tampered", jwtForge(t, valid)},
		{"wrong key", jwtSign(t, jwt.SigningMethodHS256, base(jwt.MapClaims{"exp": in(time.Hour)}), []byte("another secret"))},
		{"alg none", jwtNone(t, base(jwt.MapClaims{"exp": in(time.Hour)}))},
		{"alg HS384", jwtSign(t, jwt.SigningMethodHS384, base(jwt.MapClaims{"exp": in(time.Hour)}), secret)},
		{"alg HS512", jwtSign(t, jwt.SigningMethodHS512, base(jwt.MapClaims{"exp": in(time.Hour)}), secret)},
		{"padded", valid + "="},
		{"garbage", "not.a.token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := jwt.Parse(tc.token, func(*jwt.Token) (any, error) { return secret, nil },
				jwt.WithValidMethods([]string{"HS256"}),
				jwt.WithExpirationRequired(),
				jwt.WithTimeFunc(func() time.Time { return testNow }),
				jwt.WithJSONNumber(),
			)
			j, err := legacy.NewJWT(legacy.JWTConfig{Secret: secret, Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			got, exp, err := j.Verify(tc.token)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("reader error %v, golang-jwt error %v", err, wantErr)
			}
			if err != nil {
				t.Logf("both reject it: %v; golang-jwt: %v", err, wantErr)
				return
			}
			if diff := cmp.Diff(map[string]any(want.Claims.(jwt.MapClaims)), got); diff != "" {
				t.Errorf("claims (-golang-jwt +reader):\n%s", diff)
			}
			wantExp, err := want.Claims.GetExpirationTime()
			if err != nil || !wantExp.Equal(exp) {
				t.Errorf("exp %v, golang-jwt %v (%v)", exp, wantExp, err)
			}
		})
	}
}

// The claims become values (all but exp, iat and nbf), numbers stay
// exact, and the session ends when the token would have.
func TestJWTClaimsAndExpiry(t *testing.T) {
	s := newServer(t)
	exp := testNow.Add(90 * time.Minute)
	tok := jwtSign(t, jwt.SigningMethodHS256, jwt.MapClaims{
		"visits": 41, "big": int64(1) << 60, "roles": []string{"admin"}, "exp": exp.Unix(), "iat": testNow.Unix(),
	}, []byte(jwtSecret))
	j, err := legacy.NewJWT(legacy.JWTConfig{Secret: []byte(jwtSecret), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.m.LoadHeader(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", "jwt="+tok)
	if err := j.Load(req, sess); err != nil {
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
