package main

// Keys for the demo: from COOKIESESSION_KEYS, or from a file that the demo
// watches (-keys-file, or COOKIESESSION_KEYS_FILE), polled every -keys-poll;
// and the per-key counters at GET /debug/keys and, through expvar, at
// GET /debug/vars, on the separate listener that -debug-addr names.

import (
	"context"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cookiesession/cookiesession"
)

var (
	debugAddr = flag.String("debug-addr", "", "serve /debug/keys and /debug/vars on their own listener at `host:port`, such as 127.0.0.1:6060; none when empty")
	keysFile  = flag.String("keys-file", "", "read the keyring from the file at `path`, and reload it when it changes (default $COOKIESESSION_KEYS_FILE)")
	keysPoll  = flag.Duration("keys-poll", cookiesession.DefaultWatchInterval, "how often to read -keys-file for changes, as 5s")
)

// keyring returns the demo's keyring: from the keyring text keys (the value
// of COOKIESESSION_KEYS) if it is set; else from the file that -keys-file
// or COOKIESESSION_KEYS_FILE names, which a goroutine then keeps it in step
// with until ctx is done; else a throwaway key.
func keyring(ctx context.Context, keys, file string, poll time.Duration) (*cookiesession.Keyring, error) {
	switch {
	case file != "" && keys != "":
		return nil, errors.New("set COOKIESESSION_KEYS or a keys file (-keys-file, COOKIESESSION_KEYS_FILE), not both")
	case file == "":
		kr, err := loadKeyring(keys)
		if err != nil {
			return nil, fmt.Errorf("COOKIESESSION_KEYS: %w", err)
		}
		return kr, nil
	case poll <= 0:
		return nil, fmt.Errorf("-keys-poll %v: give a positive duration, as 5s", poll)
	}
	src := cookiesession.FileKeySource(file)
	text, err := src(ctx)
	if err != nil {
		return nil, err
	}
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// Watch fetches at once: a change since the read above is not missed.
	go kr.Watch(ctx, src, cookiesession.WatchConfig{Interval: poll})
	return kr, nil
}

// keysFileSetting returns the keys file to watch: -keys-file, or else
// COOKIESESSION_KEYS_FILE.
func keysFileSetting() string {
	if *keysFile != "" {
		return *keysFile
	}
	return os.Getenv("COOKIESESSION_KEYS_FILE")
}

// publishOnce publishes the keyring's counters as the expvar
// "cookiesession_keys"; published is the keyring it reads.
var (
	publishOnce sync.Once
	published   atomic.Pointer[cookiesession.Keyring]
)

// debugHandler serves GET /debug/keys and GET /debug/vars, and nothing
// else. The demo serves it only on the listener that -debug-addr names,
// never beside the application: expvar publishes the command line and the
// memory statistics, and the key report the keyring's schedule.
func debugHandler(kr *cookiesession.Keyring) http.Handler {
	published.Store(kr)
	publishOnce.Do(func() {
		expvar.Publish("cookiesession_keys", expvar.Func(func() any { return keyVars(published.Load()) }))
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(keyReport(kr.Stats())))
	})
	mux.Handle("GET /debug/vars", expvar.Handler())
	return mux
}

// serveDebug serves debugHandler(kr) on addr, in a goroutine, and returns
// its listener. It warns when addr is not a loopback address.
func serveDebug(addr string, kr *cookiesession.Keyring) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-debug-addr: %w", err)
	}
	if !isLoopback(addr) {
		slog.Warn("-debug-addr is not a loopback address: whoever reaches it reads the key schedule, the command line and memory statistics", "addr", addr)
	}
	slog.Info("debug endpoints /debug/keys and /debug/vars", "url", listenURL(addr, l.Addr()))
	srv := &http.Server{Handler: debugHandler(kr), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return l, nil
}

// keyReport writes one line per key:
//
//	<id> <state> opens=<n> seals=<n> last-open=<time> last-use=<time> [primary-from=<time>] [disabled-from=<time>]
//
// Times are RFC 3339 in UTC, or "never". last-use is the later of the
// last open and the last seal.
func keyReport(stats []cookiesession.KeyStats) string {
	var b strings.Builder
	for _, k := range stats {
		last := k.LastOpen
		if k.LastSeal.After(last) {
			last = k.LastSeal
		}
		fmt.Fprintf(&b, "%v %v opens=%d seals=%d last-open=%s last-use=%s", k.ID, k.State, k.Opens, k.Seals, stamp(k.LastOpen), stamp(last))
		if !k.PrimaryFrom.IsZero() {
			fmt.Fprintf(&b, " primary-from=%s", stamp(k.PrimaryFrom))
		}
		if !k.DisabledFrom.IsZero() {
			fmt.Fprintf(&b, " disabled-from=%s", stamp(k.DisabledFrom))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// keyVar is one key in the expvar "cookiesession_keys".
type keyVar struct {
	State    string `json:"state"`
	Opens    uint64 `json:"opens"`
	Seals    uint64 `json:"seals"`
	LastOpen int64  `json:"last_open_unix"` // 0: never
	LastSeal int64  `json:"last_seal_unix"`
}

// keyVars returns the counters as expvar publishes them: a JSON object
// keyed by key ID.
func keyVars(kr *cookiesession.Keyring) map[string]keyVar {
	out := make(map[string]keyVar)
	if kr == nil {
		return out
	}
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	for _, k := range kr.Stats() {
		out[k.ID.String()] = keyVar{k.State.String(), k.Opens, k.Seals, unix(k.LastOpen), unix(k.LastSeal)}
	}
	return out
}
