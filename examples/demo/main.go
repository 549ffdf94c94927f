// Command demo is a small web server whose sessions live in sealed cookies,
// through the cookiesession middleware.
//
//	go run ./examples/demo                      # http://localhost:8080/
//	go run ./examples/demo -addr 127.0.0.1:0    # any free port
//
// Every route is a GET and answers in plain text:
//
//	/                   a page linking the routes below (HTML)
//	/visits             You have visited this page N times.
//	/color/set?value=X  Session data set!
//	/color              Favorite color is X | Favorite color is not set
//	/cart/add/{item}    the cart's items after adding item, one per line
//	/cart               the cart's items, one per line, or: Your cart is empty.
//	/cart/clear         Cart cleared.
//	/expiry?seconds=N   This session now expires at <RFC 3339 time>.
//	                    N from 0 (the default lifetime) to 34560000 (400
//	                    days); another N gives 400, an empty session 409.
//	/logout             Logged out.
//
// The demo sets no limit of its own on items or on the cart. The cookies set
// one: with the library's defaults a session takes at most 6144 bytes of
// cookies, which is two of them, session and session.1 (about 35 items of
// 200 random letters). A change that would not fit is not saved: the request
// gets 413 and the text "Session too large: clear the cart."
//
// Once it listens, the demo prints exactly one line to standard output,
//
//	listening on http://HOST:PORT/
//
// with the port it got (useful with port 0), and nothing else; its logs go
// to standard error.
//
// Keys come from the COOKIESESSION_KEYS environment variable, in the keyring
// text form of SPEC.md. Without it the demo makes a throwaway key, so its
// sessions end when it restarts.
//
// Cookies are marked Secure, so browsers send them only over HTTPS, except
// when the demo listens on a loopback address (localhost, 127.0.0.0/8, ::1),
// where it serves plain HTTP to this machine alone.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on, host:port")
	flag.Parse()
	if err := run(*addr, os.Getenv("COOKIESESSION_KEYS"), os.Stdout); err != nil {
		slog.Error("demo", "err", err)
		os.Exit(1)
	}
}

// run serves the demo on addr until it fails.
func run(addr, keys string, stdout io.Writer) error {
	kr, err := loadKeyring(keys)
	if err != nil {
		return fmt.Errorf("COOKIESESSION_KEYS: %w", err)
	}
	cfg := config(addr)
	if cfg.Insecure {
		slog.Warn("loopback address: session cookies are not marked Secure, so that they work over plain HTTP", "addr", addr)
	} else {
		slog.Info("session cookies are marked Secure: browsers send them only over HTTPS", "addr", addr)
	}
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on %s\n", listenURL(addr, l.Addr()))
	srv := &http.Server{Handler: newHandler(m), ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(l)
}

// loadKeyring parses text, or makes a throwaway keyring when text is empty.
func loadKeyring(text string) (*cookiesession.Keyring, error) {
	if text != "" {
		return cookiesession.ParseKeyring(text)
	}
	slog.Warn("COOKIESESSION_KEYS is not set: using a throwaway key; sessions will not survive a restart")
	k, err := cookiesession.GenerateKey()
	if err != nil {
		return nil, err
	}
	return cookiesession.NewKeyring(k)
}

// config returns the session configuration for a server listening on addr.
// Everything else is left at the library's defaults.
func config(addr string) cookiesession.Config {
	return cookiesession.Config{
		// Browsers send Secure cookies over HTTPS only. The demo serves
		// plain HTTP, which is safe on a loopback address alone.
		Insecure:   isLoopback(addr),
		SaveFailed: saveFailed,
	}
}

// isLoopback reports whether addr, as host:port, names a loopback host:
// localhost, 127.0.0.0/8 or ::1. An empty host means every interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listenURL returns the URL to reach a server that was asked to listen on
// addr and got the listener address l.
func listenURL(addr string, l net.Addr) string {
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(l.String())
	if host == "" || net.ParseIP(host).IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// saveFailed answers a request whose session could not be saved.
func saveFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, cookiesession.ErrTooLarge) {
		http.Error(w, "Session too large: clear the cart.", http.StatusRequestEntityTooLarge)
		return
	}
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// maxExpiry is the longest /expiry: 400 days, the most a browser keeps a cookie.
const maxExpiry = 400 * 24 * 60 * 60

const homePage = `<!doctype html>
<title>cookiesession demo</title>
<h1>cookiesession demo</h1>
<ul>
<li><a href="/visits">/visits</a>: a visit counter
<li><a href="/color/set?value=blue">/color/set?value=blue</a> and <a href="/color">/color</a>: a favorite color
<li><a href="/cart/add/apple">/cart/add/apple</a>, <a href="/cart">/cart</a> and <a href="/cart/clear">/cart/clear</a>: a shopping cart
<li><a href="/expiry?seconds=60">/expiry?seconds=60</a>: end this session in a minute
<li><a href="/logout">/logout</a>: end this session now
</ul>
`

// newHandler returns the demo's routes, wrapped in m's session middleware.
func newHandler(m *cookiesession.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, homePage)
	})

	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		n, _, err := cookiesession.Get[int](s, "visits")
		if err != nil {
			fail(w, err)
			return
		}
		n++
		if err := s.Set("visits", n); err != nil {
			fail(w, err)
			return
		}
		reply(w, "You have visited this page %d times.", n)
	})

	mux.HandleFunc("GET /color/set", func(w http.ResponseWriter, r *http.Request) {
		color := r.URL.Query().Get("value")
		if color == "" {
			http.Error(w, "missing ?value=", http.StatusBadRequest)
			return
		}
		if err := cookiesession.FromContext(r.Context()).Set("color", color); err != nil {
			fail(w, err)
			return
		}
		reply(w, "Session data set!")
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

	mux.HandleFunc("GET /cart/add/{item}", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		cart, _, err := cookiesession.Get[[]string](s, "cart")
		if err != nil {
			fail(w, err)
			return
		}
		cart = append(cart, r.PathValue("item"))
		if err := s.Set("cart", cart); err != nil {
			fail(w, err)
			return
		}
		showCart(w, cart)
	})

	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		cart, _, err := cookiesession.Get[[]string](cookiesession.FromContext(r.Context()), "cart")
		if err != nil {
			fail(w, err)
			return
		}
		showCart(w, cart)
	})

	mux.HandleFunc("GET /cart/clear", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Delete("cart")
		reply(w, "Cart cleared.")
	})

	mux.HandleFunc("GET /expiry", func(w http.ResponseWriter, r *http.Request) {
		secs, err := strconv.Atoi(r.URL.Query().Get("seconds"))
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
			s.ResetExpiry() // back to the default lifetime
		} else if err := s.SetExpiry(cookiesession.Expiry{Lifetime: time.Duration(secs) * time.Second}); err != nil {
			fail(w, err)
			return
		}
		reply(w, "This session now expires at %s.", s.Expiry().Format(time.RFC3339))
	})

	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
		reply(w, "Logged out.")
	})

	return m.Middleware(mux)
}

func showCart(w http.ResponseWriter, cart []string) {
	if len(cart) == 0 {
		reply(w, "Your cart is empty.")
		return
	}
	reply(w, "%s", strings.Join(cart, "\n"))
}

// reply writes one line of plain text. Finish with the session first: the
// middleware saves it when the response starts.
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
