// Command demo is a small web server that keeps a visit counter in a sealed
// cookie. It uses the Codec directly; the session middleware will replace
// that plumbing when it lands.
//
//	go run ./examples/demo            # listens on localhost:8080
//	go run ./examples/demo -addr :9000
//
// Keys come from the COOKIESESSION_KEYS environment variable, in the keyring
// text form of SPEC.md. Without it the demo makes a throwaway key, so its
// sessions end when it restarts.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/cookiesession/cookiesession"
)

const (
	cookieName = "session"
	lifetime   = 14 * 24 * time.Hour
)

type session struct {
	Visits int `json:"visits"`
}

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()

	kr, err := loadKeyring(os.Getenv("COOKIESESSION_KEYS"))
	if err != nil {
		slog.Error("COOKIESESSION_KEYS", "err", err)
		os.Exit(1)
	}
	c, err := cookiesession.NewCodec(kr, nil)
	if err != nil {
		slog.Error("codec", "err", err)
		os.Exit(1)
	}
	slog.Info("demo listening; cookies are not marked Secure on plain-HTTP localhost only", "url", "http://"+*addr+"/")
	if err := http.ListenAndServe(*addr, newHandler(c)); err != nil {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
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

func newHandler(c *cookiesession.Codec) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>cookiesession demo</title><p><a href="/visits">/visits</a>: a visit counter in a sealed cookie.`)
	})
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		s := load(c, r)
		s.Visits++
		v, err := c.Seal(cookieName, s, time.Now().Add(lifetime))
		if err != nil {
			slog.Error("seal", "err", err)
			http.Error(w, "could not save the session", http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: cookieName, Value: v, Path: "/", MaxAge: int(lifetime / time.Second),
			HttpOnly: true, SameSite: http.SameSiteLaxMode,
			Secure: r.TLS != nil || !isLocalhost(r.Host), // plain HTTP works only on localhost
		})
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "You have visited this page %d times.\n", s.Visits)
	})
	return mux
}

// load opens the session cookie, or starts a fresh session when there is
// none or it does not open; the reason is logged, never shown as an error.
func load(c *cookiesession.Codec, r *http.Request) session {
	var s session
	ck, err := r.Cookie(cookieName)
	if errors.Is(err, http.ErrNoCookie) {
		return s
	}
	if _, err := c.Open(cookieName, ck.Value, &s); err != nil {
		slog.Info("starting a fresh session", "reason", err)
		return session{}
	}
	return s
}

func isLocalhost(host string) bool {
	for _, h := range []string{"localhost", "127.0.0.1", "[::1]"} {
		if host == h || len(host) > len(h) && host[:len(h)+1] == h+":" {
			return true
		}
	}
	return false
}
