package cookiesession

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The default ErrorHook logs each kind of error at the level Config.ErrorHook
// states.
func TestDefaultHookLevels(t *testing.T) {
	var log bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })

	for _, tt := range []struct {
		name string
		err  error
		want slog.Level
	}{
		{"expired cookie", fmt.Errorf("%w: at 2026-01-01T00:00:00Z", ErrExpired), slog.LevelInfo},
		{"failed save", saveError{fmt.Errorf("%w: over MaxSize", ErrTooLarge)}, slog.LevelError},
		{"change after the header", fmt.Errorf("%w: GET /", ErrHeaderWritten), slog.LevelError},
		{"change after the handler returned", errChangedAfterHeader, slog.LevelError},
		{"tampered cookie", fmt.Errorf("%w: key 1", ErrAuthFailed), slog.LevelWarn},
		{"rejected by Validate", wrap(ErrRejected, fmt.Errorf("revoked")), slog.LevelWarn},
		{"renewal kept its cookie", keptError{fmt.Errorf("%w: over MaxSize", ErrTooLarge), "renewed"}, slog.LevelWarn},
		{"held session's changes not saved", keptError{errHeldNotSaved, "saved"}, slog.LevelWarn},
		{"first use after the header", errLateLoad, slog.LevelWarn},
		{"GetOr's value of the wrong type", fmt.Errorf("%w: key \"n\" as int", ErrValueType), slog.LevelWarn},
	} {
		log.Reset()
		logError(httptest.NewRequest("GET", "/", nil), tt.err)
		if want := "level=" + tt.want.String() + " "; !strings.Contains(log.String(), want) {
			t.Errorf("%s: logged %q, want %s", tt.name, log.String(), want)
		}
	}
}

// TestDefaultHookBoundsRequest runs the attack of issue 19 item 8: a
// request with a 500 KB path (and a long method) and a bad cookie. The
// default hook's log record quotes a bounded prefix of each, and says how
// long they were.
func TestDefaultHookBoundsRequest(t *testing.T) {
	var log bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	m, err := New(oneKeyring(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	path := "/" + strings.Repeat("a", 500_000)
	method := strings.Repeat("M", 100_000)
	r := httptest.NewRequest("GET", path, nil)
	r.Method = method
	r.Header.Set("Cookie", m.names[0]+"=12.x")
	m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Has("a")
	})).ServeHTTP(httptest.NewRecorder(), r)

	rec := log.String()
	if len(rec) > 1024 {
		t.Fatalf("log record of %d bytes for a %d-byte path", len(rec), len(path))
	}
	for _, want := range []string{ErrMalformed.Error(), "path=\"/aaaa", "(500001 bytes)", "(100000 bytes)"} {
		if !strings.Contains(rec, want) {
			t.Errorf("log record %q lacks %q", rec, want)
		}
	}
	// A short path is logged whole.
	log.Reset()
	logError(httptest.NewRequest("GET", "/cart", nil), ErrMalformed)
	if !strings.Contains(log.String(), "method=GET path=/cart") {
		t.Errorf("short request logged as %q", log.String())
	}
}
