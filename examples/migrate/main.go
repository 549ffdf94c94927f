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
// Run it from the repository's root:
//
//	go run ./examples/migrate                     # http://localhost:8080/visits
//	go run ./examples/migrate -addr 127.0.0.1:0   # any free port
//	go run ./examples/migrate -insecure           # for Safari on http://localhost
//
// The environment configures it; a format whose secret is not set is off:
//
//	COOKIESESSION_KEYS   the keyring, in the text form of SPEC.md; without
//	                     it, a throwaway key
//	GORILLA_HASH_KEY     the CookieStore's hash key, base64
//	GORILLA_BLOCK_KEY    its block (encryption) key, base64; may be unset
//	DJANGO_SECRET_KEY    Django's SECRET_KEY
//	JWT_SECRET           the HS256 secret of the JWT cookie
//
// The legacy cookies are "session" (gorilla), "sessionid" (Django) and
// "jwt", each with Path / and no Domain. The package legacy reads them,
// with the standard library alone.
//
// Once it listens, it prints one line to standard output,
//
//	listening on http://HOST:PORT/
//
// and logs to standard error. Its cookies are Secure, even over plain
// HTTP: Chrome, Firefox and curl accept Secure cookies from
// http://localhost, and a real deployment sits behind TLS. For Safari,
// which does not, or to reach it over plain HTTP from another host, run it
// with -insecure, which drops Secure (and says so in the log).
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cookiesession/cookiesession/examples/migrate/internal/server"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on, host:port")
	insecure := flag.Bool("insecure", false, "leave Secure off the session cookies, for browsers that refuse Secure cookies over http://localhost (Safari)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Run(ctx, *addr, *insecure, os.Getenv, os.Stdout); err != nil {
		slog.Error("migrate", "err", err)
		os.Exit(1)
	}
}
