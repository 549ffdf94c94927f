package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cookiesession/cookiesession"
)

// lifetime is the demo's Config.Lifetime: the library's default, 14 days.
const lifetime = cookiesession.DefaultLifetime

// maxExpiry is the longest /expiry, in seconds: the configured Lifetime. A
// visitor may shorten their session, not make it outlive the configuration.
const maxExpiry = int(lifetime / time.Second)

// rememberFor is how long "remember me" keeps a login.
const rememberFor = 30 * 24 * time.Hour

// maxUserLen is the longest user name /login takes, in bytes.
const maxUserLen = 64

// newHandler returns the demo's routes, wrapped in m's session middleware
// and in http.CrossOriginProtection. Routes that change the session take
// POST only: http.ServeMux answers a GET on them with 405 and an Allow
// header.
func newHandler(m *cookiesession.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", home)

	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		n := cookiesession.GetOr(s, "visits", 0) + 1
		if err := s.Set("visits", n); err != nil {
			fail(w, err)
			return
		}
		reply(w, "You have visited this page %d times.", n)
	})

	mux.HandleFunc("POST /color/set", func(w http.ResponseWriter, r *http.Request) {
		color := r.FormValue("value")
		if color == "" {
			http.Error(w, "missing value=", http.StatusBadRequest)
			return
		}
		if err := cookiesession.FromContext(r.Context()).Set("color", color); err != nil {
			fail(w, err)
			return
		}
		done(w, r, "Color set to "+color+".", "Session data set!")
	})

	mux.HandleFunc("GET /color", func(w http.ResponseWriter, r *http.Request) {
		color, ok, err := cookiesession.Get[string](cookiesession.FromContext(r.Context()), "color")
		switch {
		case err != nil:
			fail(w, err)
		case !ok:
			reply(w, "Favorite color is not set")
		default:
			reply(w, "Favorite color is %s", color)
		}
	})

	mux.HandleFunc("POST /cart/add/{item}", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		cart, _, err := cookiesession.Get[[]string](s, "cart")
		if err != nil {
			fail(w, err)
			return
		}
		item := r.PathValue("item")
		cart = append(cart, item)
		if err := s.Set("cart", cart); err != nil {
			fail(w, err)
			return
		}
		done(w, r, "Item added: "+item+".", strings.Join(cart, "\n"))
	})

	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		cart, _, err := cookiesession.Get[[]string](cookiesession.FromContext(r.Context()), "cart")
		if err != nil {
			fail(w, err)
			return
		}
		if len(cart) == 0 {
			reply(w, "Your cart is empty.")
			return
		}
		reply(w, "%s", strings.Join(cart, "\n"))
	})

	mux.HandleFunc("POST /cart/clear", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Delete("cart")
		done(w, r, "Cart cleared.", "Cart cleared.")
	})

	mux.HandleFunc("POST /expiry", func(w http.ResponseWriter, r *http.Request) {
		secs, err := strconv.Atoi(r.FormValue("seconds"))
		if err != nil || secs < 0 || secs > maxExpiry {
			http.Error(w, fmt.Sprintf("seconds must be a whole number from 0 to %d", maxExpiry), http.StatusBadRequest)
			return
		}
		s := cookiesession.FromContext(r.Context())
		if s.Len() == 0 {
			http.Error(w, "Nothing is stored in this session yet, so it has no expiry to set.", http.StatusConflict)
			return
		}
		if secs == 0 {
			err = s.ResetExpiry() // back to the default lifetime
		} else {
			err = s.SetExpiry(cookiesession.Expiry{Lifetime: time.Duration(secs) * time.Second})
		}
		if err != nil {
			fail(w, err)
			return
		}
		at := s.Expiry().Format(time.RFC3339)
		done(w, r, "This session now expires at "+at+".", "This session now expires at "+at+".")
	})

	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.FormValue("user")
		if user == "" || len(user) > maxUserLen || !utf8.ValidString(user) || strings.ContainsFunc(user, isControl) {
			http.Error(w, fmt.Sprintf("user must be 1 to %d bytes of text", maxUserLen), http.StatusBadRequest)
			return
		}
		s := cookiesession.FromContext(r.Context())
		s.Renew() // a new session ID: one seen before login is useless after it
		// Whose session it is: logout everywhere finds it by this.
		if err := s.SetSubject(user); err != nil {
			fail(w, err)
			return
		}
		if err := s.Set("user", user); err != nil {
			fail(w, err)
			return
		}
		// Remember me: 30 days, whatever the browser does, and however long
		// the visitor stays away: an idle timeout (Config.IdleTimeout, if
		// one is set) is turned off explicitly. Otherwise the login ends
		// when the browser closes, or after Config.IdleTimeout without a
		// request, whichever comes first.
		exp := cookiesession.Expiry{BrowserClose: true}
		if r.FormValue("remember") == "1" {
			exp = cookiesession.Expiry{Lifetime: rememberFor, NoIdleTimeout: true}
		}
		if err := s.SetExpiry(exp); err != nil {
			fail(w, err)
			return
		}
		s.OfferDeviceBinding() // with -dbsc: a DBSC browser binds the login to its key
		done(w, r, "Logged in as "+user+".", "Logged in as "+user+".")
	})

	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		if user := cookiesession.GetOr(cookiesession.FromContext(r.Context()), "user", ""); user != "" {
			reply(w, "You are %s.", user)
			return
		}
		reply(w, "You are not logged in.")
	})

	mux.HandleFunc("POST /logout", logout)
	mux.HandleFunc("POST /logout-everywhere", logoutEverywhere(m))

	return http.NewCrossOriginProtection().Handler(m.Middleware(mux))
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// done answers a POST that changed the session: from the page's forms
// (then=/), with a flash message and a redirect back to the page; from
// anything else, with text.
func done(w http.ResponseWriter, r *http.Request, flash, text string) {
	if r.FormValue("then") == "/" {
		if err := cookiesession.FromContext(r.Context()).AddFlash("success", flash); err != nil {
			fail(w, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	reply(w, "%s", text)
}

// reply writes plain text and a newline. Finish with the session first:
// the middleware saves it when the response starts.
func reply(w http.ResponseWriter, format string, a ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprintf(w, format+"\n", a...)
}

// fail answers 500 for a session value that does not decode. The middleware
// does not save the session of a 5xx response.
func fail(w http.ResponseWriter, err error) {
	slog.Error("session", "err", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
