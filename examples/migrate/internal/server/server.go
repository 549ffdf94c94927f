// Package server is the migrate example's server: its configuration from
// the environment, its routes, and Run. It is a package of its own so that
// the interop tests (examples/migrate/interop) run the very server that
// go run ./examples/migrate runs.
package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/legacy"
)

// Run serves on addr until it fails, or until ctx is done. getenv reads
// the configuration (see Config); once it listens, Run prints
// "listening on http://HOST:PORT/" to stdout. Cookies are Secure, which
// Chrome, Firefox and curl accept over http://localhost too, unless
// insecure is set (the -insecure flag): then they are not, and Run warns,
// all the more on an address that is not loopback.
func Run(ctx context.Context, addr string, insecure bool, getenv func(string) string, stdout io.Writer) error {
	kr, cfg, err := Config(getenv, nil)
	if err != nil {
		return err
	}
	cfg.Insecure = insecure
	switch {
	case insecure && !isLoopback(addr):
		slog.Warn("-insecure: session cookies are not marked Secure, and this address is not loopback: they cross the network in clear", "addr", addr)
	case insecure:
		slog.Warn("-insecure: session cookies are not marked Secure", "addr", addr)
	}
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
	srv := &http.Server{Handler: Handler(m), ReadHeaderTimeout: 10 * time.Second}
	stopped := context.AfterFunc(ctx, func() { srv.Close() })
	defer stopped()
	if err := srv.Serve(l); ctx.Err() == nil {
		return err
	}
	return nil
}

// The legacy cookie names, as the old applications set them, each with
// Path / and no Domain.
const (
	GorillaCookie = "session"
	DjangoCookie  = "sessionid"
	JWTCookie     = "jwt"
)

// Config reads the environment through getenv and returns the keyring and
// the session configuration, with a Migration for every legacy format
// whose secret is set. now is the clock of cookiesession and of the
// readers (nil: time.Now). The variables:
//
//	COOKIESESSION_KEYS   the keyring, in the text form of SPEC.md; without
//	                     it, a throwaway key
//	GORILLA_HASH_KEY     the CookieStore's hash key, base64
//	GORILLA_BLOCK_KEY    its block (encryption) key, base64; may be unset
//	DJANGO_SECRET_KEY    Django's SECRET_KEY
//	JWT_SECRET           the HS256 secret of the JWT cookie
func Config(getenv func(string) string, now func() time.Time) (*cookiesession.Keyring, cookiesession.Config, error) {
	var cfg cookiesession.Config
	kr, err := keyring(getenv("COOKIESESSION_KEYS"))
	if err != nil {
		return nil, cfg, fmt.Errorf("COOKIESESSION_KEYS: %w", err)
	}
	cfg.Name = "cookiesession" // "session" is gorilla's
	cfg.Now = now

	var from []reader
	if hashKey, err := decodeKey(getenv, "GORILLA_HASH_KEY"); err != nil {
		return nil, cfg, err
	} else if hashKey != nil {
		blockKey, err := decodeKey(getenv, "GORILLA_BLOCK_KEY")
		if err != nil {
			return nil, cfg, err
		}
		// As the application made its store. MaxAge: 30 days, as
		// NewCookieStore; set the one the application used, if it changed it.
		g, err := legacy.NewGorilla(legacy.GorillaConfig{
			Cookie: GorillaCookie,
			Keys:   []legacy.GorillaKeys{{Hash: hashKey, Block: blockKey}},
			Now:    now,
		})
		if err != nil {
			return nil, cfg, fmt.Errorf("GORILLA_HASH_KEY, GORILLA_BLOCK_KEY: %w", err)
		}
		from = append(from, g)
	} else if getenv("GORILLA_BLOCK_KEY") != "" {
		return nil, cfg, errors.New("GORILLA_BLOCK_KEY is set without GORILLA_HASH_KEY")
	}
	if secret := getenv("DJANGO_SECRET_KEY"); secret != "" {
		// MaxAge: SESSION_COOKIE_AGE, two weeks unless the app changed it.
		d, err := legacy.NewDjango(legacy.DjangoConfig{Cookie: DjangoCookie, SecretKey: secret, Now: now})
		if err != nil {
			return nil, cfg, fmt.Errorf("DJANGO_SECRET_KEY: %w", err)
		}
		from = append(from, d)
	}
	if secret := getenv("JWT_SECRET"); secret != "" {
		j, err := legacy.NewJWT(legacy.JWTConfig{Cookie: JWTCookie, Secret: []byte(secret), Now: now})
		if err != nil {
			return nil, cfg, fmt.Errorf("JWT_SECRET: %w", err)
		}
		from = append(from, j)
	}
	if len(from) == 0 {
		slog.Warn("no legacy secret is set (GORILLA_HASH_KEY, DJANGO_SECRET_KEY, JWT_SECRET): nothing to migrate")
		return kr, cfg, nil
	}
	for _, rd := range from {
		cfg.Migration.Cookies = append(cfg.Migration.Cookies, cookiesession.LegacyCookie{Name: rd.Cookie(), Path: "/"})
	}
	cfg.Migration.Load = firstOf(from)
	return kr, cfg, nil
}

// reader is one legacy format's reader: its cookie, and the
// Migration.Load that reads it.
type reader interface {
	Cookie() string
	Load(*http.Request, *cookiesession.Session) error
}

// firstOf returns a Migration.Load that migrates from the first legacy
// cookie the request carries, in the order of from. If that one does not
// verify, the request gets a fresh session; every legacy cookie it carried
// is deleted anyway, so a later one is not tried on the next request either.
func firstOf(from []reader) func(*http.Request, *cookiesession.Session) error {
	return func(r *http.Request, s *cookiesession.Session) error {
		for _, rd := range from {
			if _, err := r.Cookie(rd.Cookie()); err == nil {
				return rd.Load(r, s)
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

// Handler returns the routes, wrapped in m's session middleware:
//
//	GET /visits   You have visited this page N times.
func Handler(m *cookiesession.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		// A legacy visits that is not a whole number (a Django string, a
		// JWT fraction) counts as 0; GetOr reports it to ErrorHook. Failing
		// instead would save nothing, and the legacy cookie would fail
		// every request until it expired.
		n := cookiesession.GetOr(s, "visits", 0) + 1
		if err := s.Set("visits", n); err != nil {
			slog.Error("visits", "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fmt.Fprintf(w, "You have visited this page %d times.\n", n)
	})
	return m.Middleware(mux)
}
