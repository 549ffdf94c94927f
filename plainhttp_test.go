package cookiesession

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) {
	// ErrPlainHTTP goes to the hook once per process. Most tests send
	// plain-HTTP requests to example.com (httptest.NewRequest) and check
	// every error their hook gets: mark it reported, and let the tests of
	// the warning itself (below) clear the mark.
	plainHTTPWarned.Store(true)
	os.Exit(m.Run())
}

// freshPlainHTTPWarning lets the warning go out once more in this test.
func freshPlainHTTPWarning(t *testing.T) {
	plainHTTPWarned.Store(false)
	t.Cleanup(func() { plainHTTPWarned.Store(true) })
}

// setVisits is a handler that changes the session, so that the response
// sets a cookie.
func setVisits(w http.ResponseWriter, r *http.Request) {
	if err := FromContext(r.Context()).Set("visits", 1); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func TestPlainHTTPWarning(t *testing.T) {
	tests := []struct {
		name     string
		insecure bool
		url      string // https:// gives the request a TLS state
		host     string // "" leaves the URL's
		proto    string // X-Forwarded-Proto
		handler  http.HandlerFunc
		warn     bool
	}{
		{name: "plain HTTP, a public name", url: "http://example.com/", handler: setVisits, warn: true},
		{name: "plain HTTP, a LAN address and port", url: "http://192.168.1.20:8080/", handler: setVisits, warn: true},
		{name: "plain HTTP, a Docker port on an IPv6 address", url: "http://[2001:db8::1]:8080/", handler: setVisits, warn: true},
		{name: "X-Forwarded-Proto http", url: "http://example.com/", proto: "http", handler: setVisits, warn: true},
		{name: "X-Forwarded-Proto http, then https", url: "http://example.com/", proto: "http, https", handler: setVisits, warn: true},
		{name: "a name that only starts like localhost", url: "http://localhost.example.com/", handler: setVisits, warn: true},
		{name: "TLS", url: "https://example.com/", handler: setVisits},
		{name: "X-Forwarded-Proto https", url: "http://example.com/", proto: "https", handler: setVisits},
		{name: "X-Forwarded-Proto HTTPS, then http", url: "http://example.com/", proto: "HTTPS , http", handler: setVisits},
		{name: "localhost", url: "http://localhost:8080/", handler: setVisits},
		{name: "LOCALHOST.", url: "http://example.com/", host: "LOCALHOST.", handler: setVisits},
		{name: "a name under .localhost", url: "http://app.localhost/", handler: setVisits},
		{name: "127.0.0.1", url: "http://127.0.0.1:8080/", handler: setVisits},
		{name: "127.1.2.3", url: "http://127.1.2.3/", handler: setVisits},
		{name: "[::1]", url: "http://[::1]:8080/", handler: setVisits},
		{name: "Insecure", insecure: true, url: "http://example.com/", handler: setVisits},
		{name: "no cookie set", url: "http://example.com/", handler: func(w http.ResponseWriter, r *http.Request) {
			FromContext(r.Context()).Has("visits")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			freshPlainHTTPWarning(t)
			var hook mwHook
			e := stNew(t, Config{Insecure: tt.insecure, ErrorHook: hook.record})
			req := httptest.NewRequest(http.MethodGet, tt.url, nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			rec := httptest.NewRecorder()
			e.m.Middleware(tt.handler).ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d; want 200", rec.Code)
			}
			var want []error
			if tt.warn {
				want = []error{ErrPlainHTTP}
				// The response is sent as usual, cookies included.
				if len(rec.Header().Values("Set-Cookie")) == 0 {
					t.Errorf("no Set-Cookie with the warning")
				}
			}
			hook.mwWantErrs(t, want...)
		})
	}
}

// TestPlainHTTPWarningText checks that the warning says what to do.
func TestPlainHTTPWarningText(t *testing.T) {
	freshPlainHTTPWarning(t)
	var hook mwHook
	e := stNew(t, Config{ErrorHook: hook.record})
	e.m.Middleware(http.HandlerFunc(setVisits)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://10.0.0.7:8000/", nil))
	if len(hook.errs) != 1 {
		t.Fatalf("hook got %v; want one error", hook.errs)
	}
	msg := hook.errs[0].Error()
	for _, want := range []string{"Config.Insecure", "TLS", "X-Forwarded-Proto: https", `"10.0.0.7:8000"`, "once per process"} {
		if !strings.Contains(msg, want) {
			t.Errorf("warning %q does not name %q", msg, want)
		}
	}
}

// TestPlainHTTPWarningOnce checks that the warning goes out once per
// process, whichever Manager sees the request, and that requests before it
// that need no warning do not use it up.
func TestPlainHTTPWarningOnce(t *testing.T) {
	freshPlainHTTPWarning(t)
	var first, second mwHook
	m1 := stNew(t, Config{ErrorHook: first.record}).m
	m2 := stNew(t, Config{ErrorHook: second.record}).m
	send := func(m *Manager, url string) {
		req := httptest.NewRequest("GET", url, nil)
		m.Middleware(http.HandlerFunc(setVisits)).ServeHTTP(httptest.NewRecorder(), req)
	}
	send(m1, "https://example.com/")
	send(m1, "http://localhost/")
	send(m1, "http://example.com/")
	send(m1, "http://example.com/")
	send(m2, "http://example.org/")
	got := []int{len(first.errs), len(second.errs)}
	if diff := cmp.Diff([]int{1, 0}, got); diff != "" {
		t.Errorf("warnings heard by the two hooks (-want +got):\n%s", diff)
	}
	if len(first.errs) == 1 && !errors.Is(first.errs[0], ErrPlainHTTP) {
		t.Errorf("hook got %v; want ErrPlainHTTP", first.errs[0])
	}
}

// TestPlainHTTPWarningNotOverTLS checks a real TLS connection: r.TLS is set,
// so nothing is reported.
func TestPlainHTTPWarningNotOverTLS(t *testing.T) {
	freshPlainHTTPWarning(t)
	var hook mwHook
	e := stNew(t, Config{ErrorHook: hook.record})
	srv := httptest.NewTLSServer(e.m.Middleware(http.HandlerFunc(setVisits)))
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "example.com"
	// The test server's certificate expires in 2084: check it at the
	// test's clock, so that the test passes on any date.
	client := srv.Client()
	client.Transport.(*http.Transport).TLSClientConfig.Time = e.clock.Now
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	hook.mwWantErrs(t)
}

// BenchmarkWarnPlainHTTP measures the check that a response setting
// cookies pays: over TLS, behind a proxy that terminates TLS, on a
// loopback host, and once the warning has gone out.
func BenchmarkWarnPlainHTTP(b *testing.B) {
	m, err := New(oneKeyring(b), Config{ErrorHook: func(*http.Request, error) {}})
	if err != nil {
		b.Fatal(err)
	}
	proxied := httptest.NewRequest("GET", "http://example.com/", nil)
	proxied.Header.Set("X-Forwarded-Proto", "https")
	for _, bc := range []struct {
		name   string
		r      *http.Request
		warned bool
	}{
		{"TLS", httptest.NewRequest("GET", "https://example.com/", nil), false},
		{"X-Forwarded-Proto", proxied, false},
		{"loopback", httptest.NewRequest("GET", "http://127.0.0.1:8080/", nil), false},
		{"after the warning", httptest.NewRequest("GET", "http://example.com/", nil), true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			plainHTTPWarned.Store(bc.warned)
			b.Cleanup(func() { plainHTTPWarned.Store(true) })
			b.ReportAllocs()
			for b.Loop() {
				m.warnPlainHTTP(bc.r)
			}
			if plainHTTPWarned.Load() != bc.warned {
				b.Fatal("the warning went out")
			}
		})
	}
}
