package cookiesession_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// legacySecret is the old application's signing key.
var legacySecret = []byte("the old application's secret")

// verifyLegacy checks a cookie of the old application's own format, a
// JSON object and its HMAC-SHA256, both in base64url, joined by a dot. A
// real recipe checks exactly what the old application checked: package
// legacy reads gorilla/sessions, Django and JWT cookies.
func verifyLegacy(value string) (map[string]any, error) {
	body, sig, _ := strings.Cut(value, ".")
	mac := hmac.New(sha256.New, legacySecret)
	mac.Write([]byte(body))
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return nil, errors.New("legacy cookie: bad signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, err
	}
	var values map[string]any
	return values, json.Unmarshal(raw, &values)
}

// signLegacy makes a cookie as the old application did.
func signLegacy(values string) string {
	body := base64.RawURLEncoding.EncodeToString([]byte(values))
	mac := hmac.New(sha256.New, legacySecret)
	mac.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// A visitor arrives with the old application's cookie: the session comes
// from it, goes out as a cookiesession cookie, and the old cookie is
// deleted.
func ExampleMigration() {
	k, _ := cookiesession.GenerateKey()
	kr, _ := cookiesession.NewKeyring(k)
	// readme:begin
	m, err := cookiesession.New(kr, cookiesession.Config{
		Name: "cs",
		Migration: cookiesession.Migration{
			// The old cookie, with the Path and Domain it was set with.
			Cookies: []cookiesession.LegacyCookie{{Name: "legacy", Path: "/"}},
			// Load checks the old cookie as the old application did.
			Load: func(r *http.Request, s *cookiesession.Session) error {
				c, err := r.Cookie("legacy")
				if err != nil {
					return nil // nothing to migrate
				}
				values, err := verifyLegacy(c.Value) // signature, expiry: Load's job
				if err != nil {
					return err // a fresh session; the error goes to ErrorHook
				}
				for key, v := range values {
					if err := s.Set(key, v); err != nil {
						return err
					}
				}
				return nil
			},
		},
	})
	// readme:end
	if err != nil {
		log.Fatal(err)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		n, _, _ := cookiesession.Get[int](s, "visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "You have visited this page %d times.", n+1)
	}))

	req := httptest.NewRequest(http.MethodGet, "/visits", nil)
	req.Header.Set("Cookie", "legacy="+signLegacy(`{"visits":41}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Body)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 { // Max-Age=0
			fmt.Println(c.Name, "deleted")
		} else {
			fmt.Println(c.Name, "set for", time.Duration(c.MaxAge)*time.Second)
		}
	}
	// Output:
	// You have visited this page 42 times.
	// cs set for 336h0m0s
	// legacy deleted
}
