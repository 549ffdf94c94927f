// Command demo is a small web server whose sessions live in sealed cookies,
// through the cookiesession middleware.
//
//	go run ./examples/demo                      # http://localhost:8080/
//	go run ./examples/demo -addr 127.0.0.1:0    # any free port
//	go run ./examples/demo -insecure            # for Safari on http://localhost
//	go run ./examples/demo -debug-addr 127.0.0.1:6060   # /debug/keys, /debug/vars there
//
// GET / is an HTML page with a form for each action, a login form with a
// "remember me" box, and the flash messages the last action left. The
// other routes answer in plain text, for curl. Routes that change the
// session take POST, with their parameters in the query or a form body
// (curl -X POST 'http://localhost:8080/color/set?value=blue'); a GET on
// them answers 405 Method Not Allowed with an Allow header:
//
//	GET  /                   the page (HTML)
//	GET  /visits             You have visited this page N times.
//	POST /color/set?value=X  Session data set!
//	GET  /color              Favorite color is X | Favorite color is not set
//	POST /cart/add/{item}    the cart's items after adding item, one per line
//	GET  /cart               the cart's items, one per line, or: Your cart is empty.
//	POST /cart/clear         Cart cleared.
//	POST /expiry?seconds=N   This session now expires at <RFC 3339 time>.
//	                         N from 0 (back to the default lifetime) to
//	                         1209600 (14 days, the configured Lifetime);
//	                         another N gives 400, an empty session 409.
//	POST /login?user=NAME    Logged in as NAME.  (with remember=1: for 30
//	                         days, else until the browser closes)
//	GET  /whoami             You are NAME. | You are not logged in.
//	POST /logout             Logged out.  (and every copy of the cookie is
//	                         refused within -revocation-bound)
//	POST /logout-everywhere  Logged out everywhere.  (every session of the
//	                         logged-in user; 403 from an anonymous session)
//	POST /dbsc/start         with -dbsc: DBSC registration, and
//	POST /dbsc/refresh       refresh (served by the middleware)
//
// A POST from the page's forms (which send then=/) answers 303 See Other
// back to the page instead, which shows a flash message once. Every route
// is wrapped in http.CrossOriginProtection, which refuses POSTs that a
// browser marks as cross-origin; curl sends no such marks and passes.
//
// The demo sets no limit of its own on items or on the cart. The cookies set
// one: with the library's defaults a session takes at most 6144 bytes of
// cookies, which is two of them, __Host-session and __Host-session.1 (about
// 35 items of 200 random letters). A change that would not fit is not
// saved: the request gets 413 and the text "Session too large: clear the
// cart."
//
// For an implementation written from SPEC.md: the demo leaves every
// format setting at the library's default, so its session cookies are
// those of SPEC.md sections 13 and 14 with kind 2, an empty purpose (no
// Config.Codec.Purpose: the associated data carries a purpose of length
// 0), a clock skew of 10 s, max_payload 65536, values of 1024 bytes or
// more compressed each on its own when that makes them shorter, at most 3
// cookies and 6144 bytes of them, and a lifetime of 14 days (30 days after
// a login with remember=1, or until the browser closes without it). Each
// value is the JSON text that encoding/json writes for it (the default
// serializer), under these keys: "visits", a number; "color" and "user",
// strings; "cart", an array of strings; and "_flashes", the messages a
// form's POST left for the page, an array of {"level": ..., "message": ...}
// objects, deleted when the page reads them. A session that holds these
// keys with other JSON types loads, but the route that reads the key
// fails with 500 Internal Server Error.
//
// Once it listens, the demo prints exactly one line to standard output,
//
//	listening on http://HOST:PORT/
//
// with the port it got (useful with port 0), and nothing else; its logs go
// to standard error.
//
// Keys come from the COOKIESESSION_KEYS environment variable, in the keyring
// text form of SPEC.md, or from a file that -keys-file (or
// COOKIESESSION_KEYS_FILE) names, which the demo reads again every
// -keys-poll (default 5s) and reloads when it changes. Without either the
// demo makes a throwaway key, so its sessions end when it restarts.
//
// With -debug-addr (such as 127.0.0.1:6060; none by default), a second
// listener at that address serves GET /debug/keys, each key's state and
// how many sessions it opened and sealed, and GET /debug/vars, the same
// counters and the process's command line and memory statistics through
// expvar. The application's listener never serves them: keep the debug
// address internal, as loopback is.
//
// Revocation is on: logout refuses every copy of the session's cookie, and
// "log out everywhere" every session of the user, within -revocation-bound
// (default 30s), the longest a revoked session may still be accepted.
// -revocation-fail says what happens when the store is down: closed (the
// default: a fresh session, the cookie kept) or open (accept, and check
// again on the next request). The marks live in this process's memory,
// which is enough for one instance; -redis URL (or COOKIESESSION_REDIS_URL),
// as redis://127.0.0.1:6379/0, keeps them in Redis for a fleet. The main
// module needs only x/crypto, so the Redis client comes with the demo's
// Redis build (examples/demo/_redis/README.md), which `go run
// ./examples/demo -redis URL` from the repository's root runs for you:
//
//	go run -modfile=examples/demo/_redis/demo.mod -overlay=examples/demo/_redis/overlay.json ./examples/demo -redis redis://127.0.0.1:6379/0
//
// Cookies are Secure, and named __Host-session, even though the demo serves
// plain HTTP: in production an app like it listens on loopback behind a TLS
// proxy. Chrome, Firefox and curl accept Secure and __Host- cookies from
// http://localhost (and 127.0.0.1); Safari does not, so for Safari, or for
// another host over plain HTTP, run with -insecure, which drops Secure (and
// so names the cookie session).
//
// With -tls-cert and -tls-key it serves HTTPS (and prints an https://
// URL); -dbsc adds device-bound sessions, see dbsc.go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// insecure drops the Secure attribute (see the package doc).
var insecure = flag.Bool("insecure", false, "leave Secure off the session cookies, for browsers that refuse Secure cookies over http://localhost (Safari)")

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on, host:port")
	flag.Parse()
	if url := redisSetting(); url != "" && openRedis == nil {
		// A plain build has no Redis client: run the Redis build instead.
		if err := runRedisBuild(os.Args[1:]); err != nil {
			slog.Error("demo", "err", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*addr, os.Getenv("COOKIESESSION_KEYS"), os.Stdout); err != nil {
		slog.Error("demo", "err", err)
		os.Exit(1)
	}
}

// run serves the demo on addr until it fails.
func run(addr, keys string, stdout io.Writer) error {
	serve := servingFlags()
	if err := serve.check(); err != nil {
		return err
	}
	kr, err := keyring(context.Background(), keys, keysFileSetting(), *keysPoll)
	if err != nil {
		return err
	}
	cfg := config(*insecure)
	if cfg.Revocation, err = revocationConfig(context.Background(), redisSetting(), *revocationBound, *revocationFail); err != nil {
		return err
	}
	serve.apply(&cfg)
	switch {
	case cfg.Insecure && !isLoopback(addr):
		slog.Warn("-insecure: session cookies are not marked Secure, and this address is not loopback: they cross the network in clear", "addr", addr)
	case cfg.Insecure:
		slog.Warn("-insecure: session cookies are not marked Secure", "addr", addr)
	default:
		slog.Info("session cookies are marked Secure: browsers send them over HTTPS, and Chrome and Firefox over http://localhost too; use -insecure for Safari", "addr", addr)
	}
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if *debugAddr != "" {
		dl, err := serveDebug(*debugAddr, kr)
		if err != nil {
			l.Close()
			return err
		}
		defer dl.Close()
	}
	u := listenURL(addr, l.Addr())
	if serve.tls() {
		u = "https" + strings.TrimPrefix(u, "http")
	}
	fmt.Fprintf(stdout, "listening on %s\n", u)
	srv := &http.Server{Handler: newHandler(m), ReadHeaderTimeout: 10 * time.Second}
	if serve.tls() {
		return srv.ServeTLS(l, serve.cert, serve.key)
	}
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

// config returns the session configuration: the library's defaults, with
// Secure left off if insecure.
func config(insecure bool) cookiesession.Config {
	return cookiesession.Config{
		Lifetime:   lifetime,
		Insecure:   insecure,
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
