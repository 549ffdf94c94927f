// Package chiapp shows cookiesession with the chi router. Chi takes
// net/http middleware as it is, so one line wires sessions in, with no
// adapter:
//
//	r := chi.NewRouter()
//	r.Use(m.Middleware)
//
// Handlers then find the session in the request's context, with
// cookiesession.FromContext(r.Context()), as in any net/http handler.
package chiapp

import (
	"fmt"
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/go-chi/chi/v5"
)

// NewRouter returns a chi router that gives every request a session from
// m, with three routes:
//
//	GET /visits        You have visited this page N times.
//	GET /name/{name}   stores name in the session: Hello, NAME.
//	GET /name          Hello, NAME. (or: Hello, stranger.)
func NewRouter(m *cookiesession.Manager) chi.Router {
	r := chi.NewRouter()
	r.Use(m.Middleware)

	r.Get("/visits", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		n, _, err := cookiesession.Get[int](s, "visits")
		if err == nil {
			err = s.Set("visits", n+1)
		}
		if err != nil {
			http.Error(w, "bad session", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "You have visited this page %d times.\n", n+1)
	})

	r.Get("/name/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "name")
		if err := cookiesession.FromContext(r.Context()).Set("name", name); err != nil {
			http.Error(w, "bad session", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "Hello, %s.\n", name)
	})

	r.Get("/name", func(w http.ResponseWriter, r *http.Request) {
		name, ok, err := cookiesession.Get[string](cookiesession.FromContext(r.Context()), "name")
		switch {
		case err != nil:
			http.Error(w, "bad session", http.StatusInternalServerError)
		case !ok:
			fmt.Fprintln(w, "Hello, stranger.")
		default:
			fmt.Fprintf(w, "Hello, %s.\n", name)
		}
	})
	return r
}
