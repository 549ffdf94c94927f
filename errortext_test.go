package cookiesession

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// No error message repeats the package prefix, however it was wrapped.
func TestErrorTextPrefixOnce(t *testing.T) {
	kr := oneKeyring(t)
	var got []error
	hook := func(_ *http.Request, err error) { got = append(got, err) }
	big := strings.Repeat("x", 20000)
	if _, err := New(kr, Config{IdleTimeout: 4 * 60}); err == nil {
		t.Fatal("IdleTimeout of 240ns accepted")
	} else {
		got = append(got, err)
	}
	m, _ := New(kr, Config{ErrorHook: hook, MaxSize: 1024, ValueCompressThreshold: -1})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		switch r.URL.Path {
		case "/big":
			s.Set("big", big)
		case "/late":
			w.WriteHeader(200)
			s.Set("late", 1)
		case "/type":
			s.Set("n", "x")
			GetOr(s, "n", 0)
		default:
			s.Has("a")
		}
	}))
	for _, path := range []string{"/big", "/late", "/type"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", m.names[0]+"=12.x")
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Validate and a migration that wrap the package's own errors.
	v, _ := New(kr, Config{ErrorHook: hook, Validate: func(context.Context, *Session) error {
		return fmt.Errorf("%w: revoked", ErrKeyDisabled)
	}})
	seed := stLoad(t, v, "")
	seed.Set("a", 1)
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", stHeader(t, stSave(t, v, seed)))
	v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { FromContext(r.Context()).Has("a") })).ServeHTTP(httptest.NewRecorder(), req)
	mg, _ := New(kr, Config{ErrorHook: hook, MaxSize: 1024, ValueCompressThreshold: -1, Migration: Migration{
		Cookies: []LegacyCookie{{Name: "old", Path: "/"}},
		Load:    func(_ *http.Request, s *Session) error { return s.Set("big", big) },
	}})
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "old=1")
	mg.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { FromContext(r.Context()).Has("a") })).ServeHTTP(httptest.NewRecorder(), req)
	for _, want := range []error{ErrTooLarge, ErrHeaderWritten, ErrValueType, ErrMalformed, ErrRejected, ErrKeyDisabled, ErrMigration} {
		if !slices.ContainsFunc(got, func(err error) bool { return errors.Is(err, want) }) {
			t.Errorf("no error wrapping %v among %v", want, got)
		}
	}
	if len(got) < 7 {
		t.Fatalf("only %d errors: %v", len(got), got)
	}
	for _, err := range got {
		if n := strings.Count(err.Error(), "cookiesession:"); n != 1 {
			t.Errorf("%q has the prefix %d times", err, n)
		}
	}
}

// A Cookie header of a megabyte, whose chunk count is the whole megabyte,
// writes a log line of a few hundred bytes through the default hook.
func TestLogAmplification(t *testing.T) {
	var log bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	kr := oneKeyring(t)
	m, err := New(kr, Config{Name: "session"})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { FromContext(r.Context()).Has("a") }))
	// A value longer than MaxSize allows is dropped as too large before its
	// count is read; a shorter one with a bad count is malformed.
	for _, tt := range []struct{ value, want string }{
		{strings.Repeat("\x01", 1<<20) + ".x", "too large"}, // a count that %q would quadruple
		{strings.Repeat("9", 1<<20) + ".x", "too large"},
		{strings.Repeat("\x01", 4000) + ".x", "malformed"},
		{strings.Repeat("9", 4000) + ".x", "malformed"},
	} {
		value := tt.value
		log.Reset()
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", "session="+value)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if log.Len() == 0 || log.Len() > 512 {
			t.Errorf("a %d-byte cookie logged %d bytes: %.300s", len(value), log.Len(), log.String())
		}
		if !strings.Contains(log.String(), tt.want) {
			t.Errorf("log %q does not say %s", log.String(), tt.want)
		}
	}
	// Without a count, the length check comes first.
	log.Reset()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "session="+strings.Repeat("A", 1<<20))
	h.ServeHTTP(httptest.NewRecorder(), req)
	if log.Len() > 512 {
		t.Errorf("a 1 MiB value logged %d bytes", log.Len())
	}
	if err := fromCount(strings.Repeat("7", 100)); !errors.Is(err, ErrMalformed) || len(err.Error()) > 120 {
		t.Errorf("parseCount error %q", err)
	}
}

func fromCount(v string) error {
	_, _, err := parseCount(v + ".x")
	return err
}
