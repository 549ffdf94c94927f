package cookiesession

import (
	"errors"
	"log/slog"
	"net/http"
)

// The defaults of Config.ErrorHook and Config.SaveFailed. New installs
// them, so they live below the middleware that calls them.

// saveError marks an error from saving, for the default error hook.
type saveError struct{ err error }

func (e saveError) Error() string { return "cookiesession: save session: " + unprefixed(e.err) }

func (e saveError) Unwrap() error { return e.err }

// logError is the default Config.ErrorHook. The request's method and path
// are the attacker's: it logs at most a prefix of each.
func logError(r *http.Request, err error) {
	level := slog.LevelWarn
	var se saveError
	switch {
	case errors.As(err, &se) || errors.Is(err, ErrHeaderWritten) && !errors.Is(err, errLateLoad):
		level = slog.LevelError
	case errors.Is(err, ErrExpired):
		level = slog.LevelInfo
	}
	slog.Default().LogAttrs(r.Context(), level, "cookiesession",
		slog.String("error", err.Error()), slog.String("method", logPrefix(r.Method)), slog.String("path", logPrefix(r.URL.Path)))
}

// internalError is the default Config.SaveFailed: a 500, without the
// headers the handler set for its own body.
func internalError(w http.ResponseWriter, _ *http.Request, _ error) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	h.Del("ETag")
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
