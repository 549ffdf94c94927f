package cookiesession

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// A handler that the middleware does not wrap gets a nil session from
// FromContext; every method, and Manager.Save or SetCookieHeaders given it,
// panics with a message naming the middleware.
func TestNoSessionPanics(t *testing.T) {
	kr := oneKeyring(t)
	m, err := New(kr, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var s *Session = FromContext(t.Context())
	if s != nil {
		t.Fatal("FromContext found a session in a bare context")
	}
	for name, use := range map[string]func(){
		"Get":                      func() { Get[int](s, "n") },
		"GetOr":                    func() { GetOr(s, "n", 0) },
		"Pop":                      func() { Pop[int](s, "n") },
		"Set":                      func() { s.Set("n", 1) },
		"Delete":                   func() { s.Delete("n") },
		"Has":                      func() { s.Has("n") },
		"Keys":                     func() { s.Keys() },
		"Clear":                    func() { s.Clear() },
		"Destroy":                  func() { s.Destroy() },
		"Renew":                    func() { s.Renew() },
		"ID":                       func() { s.ID() },
		"SetExpiry":                func() { s.SetExpiry(Expiry{}) },
		"Expiry":                   func() { s.Expiry() },
		"AddFlash":                 func() { s.AddFlash("info", "hi") },
		"Flashes":                  func() { s.Flashes() },
		"Len":                      func() { s.Len() },
		"IsNew":                    func() { s.IsNew() },
		"Info":                     func() { s.Info() },
		"ResetExpiry":              func() { s.ResetExpiry() },
		"zero":                     func() { new(Session).Set("n", 1) },
		"Manager.SetCookieHeaders": func() { m.SetCookieHeaders(s) },
		"Manager.Save":             func() { m.Save(httptest.NewRecorder(), s) },
	} {
		func() {
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, "Manager.Middleware") {
					t.Errorf("%s on a nil session: panic %q, want one naming Manager.Middleware", name, msg)
				}
			}()
			use()
		}()
	}
}

// Set after the response header was sent returns ErrHeaderWritten to the
// handler, and the hook hears of it too.
func TestSetAfterHeaderReturnsError(t *testing.T) {
	errs := make(chan error, 8)
	e := mwStart(t, Config{}, false, func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		errs <- s.Set("before", 1)
		w.WriteHeader(http.StatusOK)
		errs <- s.Set("after", 1)
		errs <- s.SetExpiry(Expiry{BrowserClose: true})
		errs <- s.AddFlash("info", "late")
		_, _, err := Pop[int](s, "before")
		errs <- err
	})
	e.do(t, "GET", "/", "")
	if err := <-errs; err != nil {
		t.Errorf("Set before the header: %v", err)
	}
	for _, what := range []string{"Set", "SetExpiry", "AddFlash", "Pop"} {
		if err := <-errs; !errors.Is(err, ErrHeaderWritten) {
			t.Errorf("%s after the header: %v, want ErrHeaderWritten", what, err)
		}
	}
	e.hook.mwWantErrs(t, ErrHeaderWritten)
}

// A goroutine that changes the session after the handler returned is
// reported through ErrorHook, and told so.
func TestChangeAfterHandlerReturnedIsReported(t *testing.T) {
	var wg sync.WaitGroup
	var late error
	var hook mwHook
	kr := oneKeyring(t)
	m, err := New(kr, Config{ErrorHook: hook.record})
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Set("n", 1)
		wg.Go(func() {
			<-start
			late = s.Set("n", 2)
		})
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if len(w.Header().Values("Set-Cookie")) != 1 {
		t.Fatalf("Set-Cookie %q", w.Header().Values("Set-Cookie"))
	}
	hook.mwWantErrs(t) // nothing yet
	close(start)
	wg.Wait()
	if !errors.Is(late, ErrHeaderWritten) {
		t.Errorf("Set from the goroutine: %v, want ErrHeaderWritten", late)
	}
	hook.mwWantErrs(t, ErrHeaderWritten)
}

// Changes before the header, from a goroutine the handler waits for, are
// saved and reported to no one.
func TestChangeFromGoroutineBeforeHeader(t *testing.T) {
	e := mwStart(t, Config{}, false, func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := s.Set("n", 1); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
	})
	if r := e.do(t, "GET", "/", ""); len(r.set) != 1 {
		t.Errorf("cookies set: %v", r.set)
	}
	e.hook.mwWantErrs(t)
}
