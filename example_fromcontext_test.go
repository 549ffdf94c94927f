package cookiesession_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Two sessions in one request: long-lived preferences under one cookie, and
// a short login session under another. Each manager's FromContext finds its
// own session; the package-level FromContext finds the innermost one.
func ExampleManager_FromContext() {
	prefs := exampleManager(cookiesession.Config{Name: "__Host-prefs", Lifetime: 365 * 24 * time.Hour})
	login := exampleManager(cookiesession.Config{Name: "__Host-login", Lifetime: time.Hour})

	h := prefs.Middleware(login.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := prefs.FromContext(r.Context())
		l := login.FromContext(r.Context())
		if err := p.Set("theme", "dark"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Println("prefs modified:", p.Modified(), "login modified:", l.Modified())
		fmt.Println("innermost is login:", cookiesession.FromContext(r.Context()) == l)
	})))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "https://example.com/theme", nil))
	for _, c := range rec.Result().Cookies() {
		fmt.Println("Set-Cookie:", c.Name, "Max-Age", c.MaxAge)
	}
	// Output:
	// prefs modified: true login modified: false
	// innermost is login: true
	// Set-Cookie: __Host-prefs Max-Age 31536000
}

// Modified tells whether the session has changes that are not saved yet.
func ExampleSession_Modified() {
	m := exampleManager(cookiesession.Config{})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		fmt.Println("after a read:", cookiesession.GetOr(s, "visits", 0), s.Modified())
		s.Delete("nothing-there")
		fmt.Println("after deleting a missing key:", s.Modified())
		if err := s.Set("visits", 1); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Println("after Set:", s.Modified())
		fmt.Fprintln(w, "Hello.") // saves the session, then writes
		fmt.Println("after the response header:", s.Modified())
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "https://example.com/", nil))
	// Output:
	// after a read: 0 false
	// after deleting a missing key: false
	// after Set: true
	// after the response header: false
}
