package cookiesession

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mwBig sets a value of n random 32-digit hex strings, then writes a body.
func mwBig(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	FromContext(r.Context()).Set("big", strings.Join(mwItems(n, 3), ""))
	w.Header().Set("ETag", `"handler"`)
	io.WriteString(w, "handler body")
}

func TestMiddlewareSaveTooLarge(t *testing.T) {
	status413 := func(w http.ResponseWriter, _ *http.Request, _ error) {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
	}
	tests := []struct {
		name   string
		cfg    Config
		n      int
		status int
	}{
		{"over MaxSize", Config{MaxSize: 512}, 40, http.StatusInternalServerError},
		{"over MaxChunks", Config{MaxChunks: 1, MaxSize: 16000}, 200, http.StatusInternalServerError},
		{"over MaxPayloadSize", Config{}, 2100, http.StatusInternalServerError},
		{"custom SaveFailed", Config{MaxSize: 512, SaveFailed: status413}, 40, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwStart(t, tt.cfg, false, mwBig)
			r := e.do(t, http.MethodGet, "/big?n="+strconv.Itoa(tt.n), "")
			if r.status != tt.status {
				t.Errorf("status %d, want %d", r.status, tt.status)
			}
			if strings.Contains(r.body, "handler body") || (tt.cfg.SaveFailed == nil && r.header.Get("ETag") != "") {
				t.Errorf("handler's response leaked: ETag %q, body %q", r.header.Get("ETag"), r.body)
			}
			if got := r.lines; len(got) != 0 {
				t.Errorf("Set-Cookie %q after a failed save", got)
			}
			e.hook.mwWantErrs(t, ErrTooLarge)
		})
	}
}

// mwUsable reports whether the session in ctx, if any, is free to use: not
// locked, as it would be by the goroutine calling back, which would deadlock.
func mwUsable(ctx context.Context) bool {
	s := FromContext(ctx)
	if s == nil {
		return true
	}
	if !s.mu.TryLock() {
		return false
	}
	s.mu.Unlock()
	return true
}

// TestMiddlewareCallbacksCanUseSession: ErrorHook, SaveFailed and Validate
// may use the session their request or ctx carries (say, to log its ID).
func TestMiddlewareCallbacksCanUseSession(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	note := func(where string, ctx context.Context) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, fmt.Sprintf("%s usable=%t", where, mwUsable(ctx)))
	}
	e := mwStart(t, Config{
		MaxSize:          512,
		SaveEveryRequest: true,
		ErrorHook:        func(r *http.Request, _ error) { note("ErrorHook", r.Context()) },
		SaveFailed: func(w http.ResponseWriter, r *http.Request, _ error) {
			note("SaveFailed", r.Context())
			w.WriteHeader(413)
		},
		Validate: func(ctx context.Context, _ *Session) error { note("Validate", ctx); return nil },
	}, false, func(w http.ResponseWriter, r *http.Request) {
		map[bool]http.HandlerFunc{true: mwBig, false: mwApp}[r.URL.Path == "/big"](w, r)
	})
	// The garbage cookie fails to load, then the session fails to save.
	if r := e.raw(t, "/big?n=40", "session=garbage"); r.status != 413 {
		t.Fatalf("status %d, want 413", r.status)
	}
	e.do(t, http.MethodGet, "/set?k=u&v=ada", "")
	e.do(t, http.MethodGet, "/get?k=u", "") // Validate on first use
	e.do(t, http.MethodGet, "/noop", "")    // Validate when SaveEveryRequest loads at commit
	mu.Lock()
	defer mu.Unlock()
	want := []string{"ErrorHook usable=true", "ErrorHook usable=true", "SaveFailed usable=true", "Validate usable=true", "Validate usable=true"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("callbacks (-want +got):\n%s", diff)
	}
}

func TestMiddlewareHijack(t *testing.T) {
	tests := []struct {
		name  string
		use   func(s *Session)
		viaRC bool
		err   error
	}{
		{"modified", func(s *Session) { s.Set("u", "ada") }, false, ErrHeaderWritten},
		{"modified, ResponseController", func(s *Session) { s.Set("u", "ada") }, true, ErrHeaderWritten},
		{"read only", func(s *Session) { s.Has("u") }, false, nil},
		{"untouched", func(*Session) {}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwStart(t, Config{}, false, func(w http.ResponseWriter, r *http.Request) {
				tt.use(FromContext(r.Context()))
				hijack := w.(http.Hijacker).Hijack
				if tt.viaRC {
					hijack = http.NewResponseController(w).Hijack
				}
				conn, brw, err := hijack()
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				defer conn.Close()
				brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
				brw.Flush()
			})
			conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			io.WriteString(conn, "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n")
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			if err != nil || string(body) != "hijacked" || len(res.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("response %q %v, Set-Cookie %q", body, err, res.Header.Values("Set-Cookie"))
			}
			e.hook.mwWantErrs(t, tt.err)
		})
	}
}

func TestMiddlewareSaveEveryRequest(t *testing.T) {
	e := mwStart(t, Config{SaveEveryRequest: true}, false, mwApp)
	if r := e.do(t, http.MethodGet, "/noop", ""); len(r.lines) != 0 {
		t.Errorf("empty session wrote %q", r.lines)
	}
	prev := e.do(t, http.MethodGet, "/set?k=u&v=ada", "").set["session"]
	for i := range 3 {
		v, ok := e.do(t, http.MethodGet, "/noop", "").set["session"]
		if !ok || v == prev {
			t.Errorf("untouched request %d: re-sealed %t, new value %t", i, ok, v != prev)
		}
		prev = v
	}
	if r := e.do(t, http.MethodGet, "/noop?status=500", ""); len(r.lines) != 0 {
		t.Errorf("500 response wrote %q", r.lines)
	}
	if r := e.do(t, http.MethodGet, "/get?k=u", ""); r.body != mwAda {
		t.Errorf("after re-seals: %q", r.body)
	}
	e.hook.mwWantErrs(t)
}

func TestFromContext(t *testing.T) {
	var outside, inside *Session
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	h := func(w http.ResponseWriter, r *http.Request) { outside, inside = inside, FromContext(r.Context()) }
	http.HandlerFunc(h).ServeHTTP(httptest.NewRecorder(), req)
	mwStart(t, Config{}, false, mwApp).m.Middleware(http.HandlerFunc(h)).ServeHTTP(httptest.NewRecorder(), req)
	if FromContext(context.Background()) != nil || outside != nil || inside == nil {
		t.Errorf("FromContext: Background %p, without middleware %p (want nil), with %p (want non-nil)",
			FromContext(context.Background()), outside, inside)
	}
}

func TestMiddlewareConcurrentUse(t *testing.T) {
	e := mwStart(t, Config{}, false, func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if r.URL.Path != "/" {
			g0, _, _ := Get[int](s, "g0")
			g1, _, _ := Get[int](s, "g1")
			fmt.Fprint(w, s.Keys(), g0, g1)
			return
		}
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Go(func() {
				for i := range 50 {
					s.Set(fmt.Sprintf("g%d", g), i)
					Get[int](s, "g0")
					s.Keys()
				}
			})
		}
		wg.Wait()
		for range 2 { // readers racing the commit below
			wg.Go(func() {
				for range 50 {
					s.Has("g1")
					s.Len()
				}
			})
		}
		io.WriteString(w, "ok")
		wg.Wait()
	})
	e.do(t, http.MethodGet, "/", "")
	if r := e.do(t, http.MethodGet, "/read", ""); r.body != "[g0 g1] 49 49" {
		t.Errorf("after concurrent use: %q", r.body)
	}
	e.hook.mwWantErrs(t)
}
