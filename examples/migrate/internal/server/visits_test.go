package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// signJWT makes an HS256 token with claims, as golang-jwt would.
func signJWT(t *testing.T, secret string, claims map[string]any) string {
	t.Helper()
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	signed := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc(c)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signed))
	return signed + "." + enc(mac.Sum(nil))
}

// GET /visits counts on from the legacy session's visits. A legacy value
// that is not a number is authentic but unusable: the count starts again,
// the error goes to ErrorHook, and the response is no 500, which would save
// nothing and leave the legacy cookie to fail every request after it.
func TestVisits(t *testing.T) {
	const secret = "jwt secret"
	exp := time.Now().Add(time.Hour).Unix()
	k, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"JWT_SECRET": secret, "COOKIESESSION_KEYS": keys.Marshal()}
	tests := []struct {
		name     string
		visits   any
		want     string
		hookErrs int
	}{
		{"a number", 41, "You have visited this page 42 times.\n", 0},
		{"none", nil, "You have visited this page 1 times.\n", 0},
		{"a string", "forty-one", "You have visited this page 1 times.\n", 1},
		{"a fraction", 41.5, "You have visited this page 1 times.\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, cfg, err := Config(func(k string) string { return env[k] }, nil)
			if err != nil {
				t.Fatal(err)
			}
			var hookErrs []error
			cfg.ErrorHook = func(_ *http.Request, err error) { hookErrs = append(hookErrs, err) }
			m, err := cookiesession.New(kr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			claims := map[string]any{"sub": "ada", "exp": exp}
			if tt.visits != nil {
				claims["visits"] = tt.visits
			}
			req := httptest.NewRequest(http.MethodGet, "https://example.com/visits", nil)
			req.AddCookie(&http.Cookie{Name: JWTCookie, Value: signJWT(t, secret, claims)})
			rec := httptest.NewRecorder()
			Handler(m).ServeHTTP(rec, req)

			if rec.Code != http.StatusOK || rec.Body.String() != tt.want {
				t.Fatalf("%d %q, want 200 %q", rec.Code, rec.Body, tt.want)
			}
			if len(hookErrs) != tt.hookErrs {
				t.Errorf("ErrorHook got %v, want %d errors", hookErrs, tt.hookErrs)
			}
			for _, err := range hookErrs {
				if !strings.Contains(err.Error(), "visits") {
					t.Errorf("ErrorHook got %v, want the visits value's error", err)
				}
			}
			var saved, deleted bool
			for _, c := range rec.Result().Cookies() {
				saved = saved || c.Name == "cookiesession" && c.MaxAge > 0
				deleted = deleted || c.Name == JWTCookie && c.MaxAge < 0
			}
			if !saved || !deleted {
				t.Errorf("session saved %v, legacy cookie deleted %v; want both: %q", saved, deleted, rec.Header().Values("Set-Cookie"))
			}
		})
	}
}
