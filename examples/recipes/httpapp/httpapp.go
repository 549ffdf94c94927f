// Package httpapp shows cookiesession with nothing but net/http, and two
// sessions in one request: a login session that ends soon, and
// preferences that outlive it, each under its own cookie, from its own
// Manager:
//
//	login, err := cookiesession.New(kr, cookiesession.Config{Lifetime: 2 * time.Hour})
//	prefs, err := cookiesession.New(kr, cookiesession.Config{Name: "__Host-prefs", Lifetime: 365 * 24 * time.Hour})
//	h := prefs.Middleware(login.Middleware(mux))
//
// A handler reaches each one's session with login.FromContext(ctx) and
// prefs.FromContext(ctx); the package-level cookiesession.FromContext
// finds the innermost, login's. Logging out destroys the login session and
// keeps the preferences.
package httpapp

import (
	"fmt"
	"net/http"

	"github.com/cookiesession/cookiesession"
)

// NewHandler returns a handler that gives every request a login session
// from login and preferences from prefs, with four routes:
//
//	GET  /visits               You have visited this page N times. (login)
//	POST /logout               ends the login session: Logged out.
//	POST /theme?value=THEME    stores THEME in the preferences: Theme: THEME.
//	GET  /theme                Theme: THEME. (or: Theme: default.)
//
// State changes go through POST, and http.CrossOriginProtection refuses
// cross-origin POSTs.
func NewHandler(login, prefs *cookiesession.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		s := login.FromContext(r.Context())
		n := cookiesession.GetOr(s, "visits", 0) + 1
		if err := s.Set("visits", n); err != nil {
			http.Error(w, "bad session", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "You have visited this page %d times.\n", n)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		login.FromContext(r.Context()).Destroy() // the preferences stay
		fmt.Fprintln(w, "Logged out.")
	})
	mux.HandleFunc("POST /theme", func(w http.ResponseWriter, r *http.Request) {
		theme := r.FormValue("value")
		if theme == "" || len(theme) > 32 {
			http.Error(w, "value: 1 to 32 characters", http.StatusBadRequest)
			return
		}
		if err := prefs.FromContext(r.Context()).Set("theme", theme); err != nil {
			http.Error(w, "bad session", http.StatusInternalServerError)
			return
		}
		// The theme is the visitor's own text: never let it be sniffed
		// as HTML.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Theme: %s.\n", theme)
	})
	mux.HandleFunc("GET /theme", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Theme: %s.\n", cookiesession.GetOr(prefs.FromContext(r.Context()), "theme", "default"))
	})
	return http.NewCrossOriginProtection().Handler(prefs.Middleware(login.Middleware(mux)))
}
