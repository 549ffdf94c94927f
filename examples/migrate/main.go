// Command migrate is a small server that moves visitors from three other
// session formats to cookiesession without logging them out: a
// gorilla/sessions CookieStore, Django's signed-cookie sessions, and a JWT
// cookie. It serves the demo's visit counter:
//
//	GET /visits   You have visited this page N times.
//
// A visitor whose legacy session holds visits 41 gets "You have visited this
// page 42 times.", a cookiesession cookie (named "cookiesession") and the
// deletion of the legacy cookie.
//
// Run it from this directory, a module of its own (from the repository's
// root: go -C examples/migrate run .):
//
//	go run .                              # http://localhost:8080/visits
//	go run . -addr 127.0.0.1:0            # any free port
//
// The environment configures it; a recipe whose secret is not set is off:
//
//	COOKIESESSION_KEYS   the keyring, in the text form of SPEC.md; without
//	                     it, a throwaway key
//	GORILLA_HASH_KEY     the CookieStore's hash key, base64
//	GORILLA_BLOCK_KEY    its block (encryption) key, base64; may be unset
//	DJANGO_SECRET_KEY    Django's SECRET_KEY
//	JWT_SECRET           the HS256 secret of the JWT cookie
//
// The legacy cookies are "session" (gorilla), "sessionid" (Django) and
// "jwt", each with Path / and no Domain.
//
// Once it listens, it prints one line to standard output,
//
//	listening on http://HOST:PORT/
//
// and logs to standard error. Cookies are Secure except on a loopback
// address, where it serves plain HTTP to this machine alone.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/gorilla/sessions"
)

// The legacy cookie names, as the old applications set them.
const (
	gorillaCookie = "session"
	djangoCookie  = "sessionid"
	jwtCookieName = "jwt"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on, host:port")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Getenv, os.Stdout); err != nil {
		slog.Error("migrate", "err", err)
		os.Exit(1)
	}
}

// run serves on addr until it fails, or until ctx is done.
func run(ctx context.Context, addr string, getenv func(string) string, stdout io.Writer) error {
	kr, cfg, err := config(getenv, nil)
	if err != nil {
		return err
	}
	cfg.Insecure = isLoopback(addr)
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr)
	if host == "" || net.ParseIP(host).IsUnspecified() {
		host = "localhost"
	}
	fmt.Fprintf(stdout, "listening on http://%s/\n", net.JoinHostPort(host, fmt.Sprint(l.Addr().(*net.TCPAddr).Port)))
	srv := &http.Server{Handler: newHandler(m), ReadHeaderTimeout: 10 * time.Second}
	stopped := context.AfterFunc(ctx, func() { srv.Close() })
	defer stopped()
	if err := srv.Serve(l); ctx.Err() == nil {
		return err
	}
	return nil
}

// config reads the environment through getenv and returns the keyring and
// the session configuration, with a Migration for every legacy format
// whose secret is set. now is the clock (nil: time.Now).
func config(getenv func(string) string, now func() time.Time) (*cookiesession.Keyring, cookiesession.Config, error) {
	var cfg cookiesession.Config
	kr, err := keyring(getenv("COOKIESESSION_KEYS"))
	if err != nil {
		return nil, cfg, fmt.Errorf("COOKIESESSION_KEYS: %w", err)
	}
	cfg.Name = "cookiesession" // "session" is gorilla's
	cfg.Now = now

	var from []recipe
	if hashKey, err := decodeKey(getenv, "GORILLA_HASH_KEY"); err != nil {
		return nil, cfg, err
	} else if hashKey != nil {
		blockKey, err := decodeKey(getenv, "GORILLA_BLOCK_KEY")
		if err != nil {
			return nil, cfg, err
		}
		// As the application made its store; NewCookieStore's MaxAge is
		// 30 days: set the one the application used, if it changed it.
		store := sessions.NewCookieStore(hashKey, blockKey)
		g := &gorillaSessions{Cookie: gorillaCookie, Store: store}
		from = append(from, recipe{gorillaCookie, g.load})
	} else if getenv("GORILLA_BLOCK_KEY") != "" {
		return nil, cfg, errors.New("GORILLA_BLOCK_KEY is set without GORILLA_HASH_KEY")
	}
	if secret := getenv("DJANGO_SECRET_KEY"); secret != "" {
		// MaxAge: SESSION_COOKIE_AGE, two weeks unless the app changed it.
		d := &djangoSessions{Cookie: djangoCookie, SecretKey: secret, Now: now}
		from = append(from, recipe{djangoCookie, d.load})
	}
	if secret := getenv("JWT_SECRET"); secret != "" {
		j := &jwtCookie{Cookie: jwtCookieName, Secret: []byte(secret), Now: now}
		from = append(from, recipe{jwtCookieName, j.load})
	}
	if len(from) == 0 {
		slog.Warn("no legacy secret is set (GORILLA_HASH_KEY, DJANGO_SECRET_KEY, JWT_SECRET): nothing to migrate")
		return kr, cfg, nil
	}
	for _, rc := range from {
		cfg.Migration.Cookies = append(cfg.Migration.Cookies, cookiesession.LegacyCookie{Name: rc.cookie, Path: "/"})
	}
	cfg.Migration.Load = firstOf(from)
	return kr, cfg, nil
}

// recipe is one legacy format: its cookie, and the Migration.Load that
// reads it.
type recipe struct {
	cookie string
	load   func(*http.Request, *cookiesession.Session) error
}

// firstOf returns a Migration.Load that migrates from the first legacy
// cookie the request carries, in the order of from. If that one does not
// verify, the request gets a fresh session; every legacy cookie it carried
// is deleted anyway, so a later one is not tried on the next request either.
func firstOf(from []recipe) func(*http.Request, *cookiesession.Session) error {
	return func(r *http.Request, s *cookiesession.Session) error {
		for _, rc := range from {
			if _, err := r.Cookie(rc.cookie); err == nil {
				return rc.load(r, s)
			}
		}
		return nil
	}
}

// decodeKey returns the base64 key in the environment variable name, or
// nil if it is unset. Standard or URL-safe base64, padded or not.
func decodeKey(getenv func(string) string, name string) ([]byte, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil, nil
	}
	v = strings.TrimRight(v, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s is not base64", name)
}

// keyring parses text, or makes a throwaway keyring when text is empty.
func keyring(text string) (*cookiesession.Keyring, error) {
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

// isLoopback reports whether addr, as host:port, names a loopback host.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()
}

// newHandler returns the routes, wrapped in m's session middleware.
func newHandler(m *cookiesession.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		n, _, err := cookiesession.Get[int](s, "visits")
		if err == nil {
			err = s.Set("visits", n+1)
		}
		if err != nil {
			slog.Error("visits", "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fmt.Fprintf(w, "You have visited this page %d times.\n", n+1)
	})
	return m.Middleware(mux)
}
