package cookiesession

import (
	"bytes"
	"fmt"
	"log/slog"
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
		{"renewal kept its cookie", keptError{fmt.Errorf("%w: over MaxSize", ErrTooLarge)}, slog.LevelWarn},
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
