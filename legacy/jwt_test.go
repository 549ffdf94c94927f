package legacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testJWTSecret = []byte("jwt secret for the tests")

func testJWT(t testing.TB) *JWT {
	t.Helper()
	j, err := NewJWT(JWTConfig{Secret: testJWTSecret, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// jwtSign makes a token of header and claims, given as JSON, with an
// HS256 MAC under key: for tokens golang-jwt would never make. The interop
// tests check the reader against golang-jwt itself.
func jwtSign(header, claims string, key []byte) string {
	enc := base64.RawURLEncoding.EncodeToString
	signed := enc([]byte(header)) + "." + enc([]byte(claims))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signed))
	return signed + "." + enc(mac.Sum(nil))
}

func TestJWTVerify(t *testing.T) {
	const hs256 = `{"alg":"HS256","typ":"JWT"}`
	now := testNow.Unix()
	claims := func(extra string) string {
		return fmt.Sprintf(`{"visits":41,"user":"ada","big":1152921504606846977%s}`, extra)
	}
	expIn := func(d int64) string { return fmt.Sprintf(`,"exp":%d`, now+d) }
	valid := jwtSign(hs256, claims(expIn(3600)), testJWTSecret)
	parts := strings.Split(valid, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(claims(expIn(3600) + `,"admin":true`)))
	for _, tc := range []struct {
		name, token string
		want        error
	}{
		{"valid", valid, nil},
		{"exp with a fraction", jwtSign(hs256, claims(fmt.Sprintf(`,"exp":%d.5`, now+1)), testJWTSecret), nil},
		{"exp a fraction ahead", jwtSign(hs256, claims(fmt.Sprintf(`,"exp":%d.5`, now)), testJWTSecret), ErrExpired}, // as golang-jwt
		{"nbf now", jwtSign(hs256, claims(expIn(60)+fmt.Sprintf(`,"nbf":%d`, now)), testJWTSecret), nil},
		{"exp now", jwtSign(hs256, claims(expIn(0)), testJWTSecret), ErrExpired},
		{"expired", jwtSign(hs256, claims(expIn(-60)), testJWTSecret), ErrExpired},
		{"nbf ahead", jwtSign(hs256, claims(expIn(60)+fmt.Sprintf(`,"nbf":%d`, now+1)), testJWTSecret), ErrNotYetValid},
		{"no exp", jwtSign(hs256, claims(""), testJWTSecret), ErrPayload},
		{"exp a string", jwtSign(hs256, claims(fmt.Sprintf(`,"exp":"%d"`, now+60)), testJWTSecret), ErrPayload},
		{"exp too far", jwtSign(hs256, claims(`,"exp":1e300`), testJWTSecret), ErrPayload},
		{"nbf a string", jwtSign(hs256, claims(expIn(60)+`,"nbf":"0"`), testJWTSecret), ErrPayload},
		{"wrong key", jwtSign(hs256, claims(expIn(3600)), []byte("another secret")), ErrSignature},
		{"tampered claims", parts[0] + "." + forged + "." + parts[2], ErrSignature},
		{"alg none, no signature", parts[0] + "." + parts[1] + ".", ErrSignature},
		// Authentic tokens whose header names another algorithm.
		{"alg none, signed", jwtSign(`{"alg":"none"}`, claims(expIn(60)), testJWTSecret), ErrAlgorithm},
		{"alg HS384, signed", jwtSign(`{"alg":"HS384"}`, claims(expIn(60)), testJWTSecret), ErrAlgorithm},
		{"alg hs256", jwtSign(`{"alg":"hs256"}`, claims(expIn(60)), testJWTSecret), ErrAlgorithm},
		{"no alg", jwtSign(`{"typ":"JWT"}`, claims(expIn(60)), testJWTSecret), ErrAlgorithm},
		{"crit", jwtSign(`{"alg":"HS256","crit":["b64"],"b64":false}`, claims(expIn(60)), testJWTSecret), ErrAlgorithm},
		{"header not JSON", jwtSign(`HS256`, claims(expIn(60)), testJWTSecret), ErrPayload},
		{"claims a list", jwtSign(hs256, `[41]`, testJWTSecret), ErrPayload},
		{"claims null", jwtSign(hs256, `null`, testJWTSecret), ErrPayload},
		{"data after the claims", jwtSign(hs256, claims(expIn(60))+`{}`, testJWTSecret), ErrPayload},
		{"two parts", parts[0] + "." + parts[1], ErrMalformed},
		{"four parts", valid + ".x", ErrMalformed},
		{"empty", "", ErrMalformed},
		{"padded", valid + "=", ErrMalformed},
		{"standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "+", ErrMalformed},
		{"signature with other trailing bits", respell(valid), ErrMalformed},
		{"too large", jwtSign(hs256, claims(expIn(60)+`,"pad":"`+strings.Repeat("x", MaxValueLen)+`"`), testJWTSecret), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, exp, err := testJWT(t).Verify(tc.token)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			// Numbers stay exact: 2^60+1 is not a float64.
			want := map[string]any{"visits": json.Number("41"), "user": "ada", "big": json.Number("1152921504606846977")}
			if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool {
				k := p.Last().String()
				return k == `["exp"]` || k == `["nbf"]`
			}, cmp.Ignore())); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if !exp.After(testNow) {
				t.Errorf("exp %v, not after now", exp)
			}
		})
	}
}

func TestNewJWT(t *testing.T) {
	if _, err := NewJWT(JWTConfig{}); !errors.Is(err, ErrNoKey) {
		t.Errorf("no secret: error %v, want ErrNoKey", err)
	}
	j, err := NewJWT(JWTConfig{Secret: []byte("s")})
	if err != nil || j.Cookie() != "jwt" {
		t.Errorf("NewJWT: %v, cookie %q; want the default jwt", err, j.Cookie())
	}
}

// FuzzJWTVerify: Verify never panics, and accepts only tokens whose MAC
// the secret made. With sign, the fuzzed text is signed as the first two
// parts, to reach the header, the claims and the time checks.
func FuzzJWTVerify(f *testing.F) {
	exp := fmt.Sprintf(`{"visits":41,"exp":%d}`, testNow.Unix()+60)
	f.Add(jwtSign(`{"alg":"HS256"}`, exp, testJWTSecret), false)
	f.Add("eyJhbGciOiJIUzI1NiJ9."+base64.RawURLEncoding.EncodeToString([]byte(exp)), true)
	f.Add("e30.e30", true)
	f.Add("", false)
	j := testJWT(f)
	f.Fuzz(func(t *testing.T, token string, sign bool) {
		if sign {
			mac := hmac.New(sha256.New, testJWTSecret)
			mac.Write([]byte(token))
			token += "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
		}
		if _, _, err := j.Verify(token); err == nil {
			i := strings.LastIndexByte(token, '.')
			mac := hmac.New(sha256.New, testJWTSecret)
			mac.Write([]byte(token[:i]))
			if token[i+1:] != base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) {
				t.Fatalf("accepted a token the secret did not sign: %q", token)
			}
		}
	})
}
