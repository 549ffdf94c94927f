package main

// Revocation for the demo: POST /logout revokes the session it ends, and
// POST /logout-everywhere every session of the logged-in user. The marks
// live in Redis with -redis (or COOKIESESSION_REDIS_URL), which a fleet of
// instances shares; otherwise in this process's memory, which is enough
// for one instance.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cookiesession/cookiesession"
)

// defaultRevocationBound is -revocation-bound's default.
const defaultRevocationBound = 30 * time.Second

var (
	redisURL        = flag.String("redis", "", "keep revocation marks in the Redis server at `URL`, as redis://127.0.0.1:6379/0, shared by every instance (default $COOKIESESSION_REDIS_URL; without either, in this process's memory). Needs the demo's Redis build: see examples/demo/_redis/README.md")
	revocationBound = flag.Duration("revocation-bound", defaultRevocationBound, "the longest a revoked session may still be accepted, as 30s; each session is checked at most this often (0: on every request)")
	revocationFail  = flag.String("revocation-fail", "closed", "when the revocation store cannot be reached: closed (a fresh session; the cookie is kept) or open (accept, and check again on the next request)")
)

// redisBuildCommand builds the demo with its Redis client, from the
// repository's root.
const redisBuildCommand = "go run -modfile=examples/demo/_redis/demo.mod -overlay=examples/demo/_redis/overlay.json ./examples/demo"

// runRedisBuild runs the demo's Redis build with args, as `go run
// ./examples/demo -redis URL` from the repository's root asks for, and
// returns when it ends: the plain build has no Redis client (the main
// module needs only x/crypto). It needs the go command and the
// repository, so a demo binary run elsewhere says what to run instead.
// This is a convenience of the demo; an application imports redisstore.
func runRedisBuild(args []string) error {
	const modfile = "examples/demo/_redis/demo.mod"
	goCmd, err := exec.LookPath("go")
	if _, serr := os.Stat(modfile); err != nil || serr != nil || os.Getenv("COOKIESESSION_DEMO_REDIS_BUILD") != "" {
		return errors.New("-redis: this build of the demo has no Redis client (the main module needs only x/crypto); from the repository's root, run: " + redisBuildCommand + " -redis URL")
	}
	slog.Info("-redis: running the demo's Redis build", "command", redisBuildCommand)
	cmd := exec.Command(goCmd, append(strings.Fields(strings.TrimPrefix(redisBuildCommand, "go ")), args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The Redis build never runs this again; the guard only stops a loop
	// should it ever lack its client.
	cmd.Env = append(os.Environ(), "COOKIESESSION_DEMO_REDIS_BUILD=1")
	// Signals sent to this process go on to the Redis build, which ends;
	// then so does this wait.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	return cmd.Wait()
}

// openRedis is set by the demo's Redis build only (examples/demo/_redis):
// the main module, which holds the demo, does not require a Redis client.
var openRedis func(ctx context.Context, url string) (cookiesession.RevocationStore, error)

// revocationConfig returns the demo's Revocation: the store that url
// names, or the memory store if url is empty, with the bound and failure
// policy given.
func revocationConfig(ctx context.Context, url string, bound time.Duration, fail string) (cookiesession.Revocation, error) {
	rv := cookiesession.Revocation{Bound: bound}
	switch fail {
	case "open":
		rv.FailOpen = true
	case "closed":
	default:
		return rv, fmt.Errorf("-revocation-fail %q: give open or closed", fail)
	}
	if bound < 0 {
		return rv, fmt.Errorf("-revocation-bound %v: give a duration of 0 or more, as 30s", bound)
	}
	if url == "" {
		rv.Store = cookiesession.NewMemoryRevocationStore(nil)
		slog.Info("revocation marks are kept in memory: other instances do not see them; use -redis for a fleet", "bound", bound, "fail", fail)
		return rv, nil
	}
	if openRedis == nil {
		return rv, errors.New("-redis: this build of the demo has no Redis client (the main module needs only x/crypto); from the repository's root, run: " + redisBuildCommand + " -redis URL")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	store, err := openRedis(ctx, url)
	if err != nil {
		return rv, fmt.Errorf("-redis: %w", err)
	}
	rv.Store = store
	slog.Info("revocation marks are kept in Redis", "bound", bound, "fail", fail)
	return rv, nil
}

// redisSetting returns -redis, or else COOKIESESSION_REDIS_URL.
func redisSetting() string {
	if *redisURL != "" {
		return *redisURL
	}
	return os.Getenv("COOKIESESSION_REDIS_URL")
}

// logout ends this session everywhere: the cookie is deleted, and every
// copy of it is refused within the bound.
func logout(w http.ResponseWriter, r *http.Request) {
	if err := cookiesession.FromContext(r.Context()).Revoke(r.Context()); err != nil {
		// The cookie is deleted all the same; copies may still work.
		slog.Error("logout: revoking the session", "err", err)
	}
	done(w, r, "Logged out.", "Logged out.")
}

// logoutEverywhere ends every session of the logged-in user, this one
// included; an anonymous session gets 403.
func logoutEverywhere(m *cookiesession.Manager) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		subject := s.Subject()
		if subject == "" {
			http.Error(w, "You are not logged in.", http.StatusForbidden)
			return
		}
		if err := m.RevokeSubject(r.Context(), subject); err != nil {
			slog.Error("logout everywhere", "err", err)
			http.Error(w, "The revocation store is unavailable: try again.", http.StatusServiceUnavailable)
			return
		}
		s.Destroy()
		done(w, r, "Logged out everywhere.", "Logged out everywhere.")
	}
}
