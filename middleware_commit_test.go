package cookiesession

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// mwStep is one request of a timed sequence, at an offset from t0.
type mwStep struct {
	at     time.Duration
	path   string
	maxAge int    // Max-Age of the session cookie written; 0 none, -1 deleted
	body   string // "" to skip the check
	err    error  // for the ErrorHook, or nil for no call
}

func TestMiddlewareExpiry(t *testing.T) {
	m, sec := time.Minute, time.Second
	set := mwStep{0, "/set?k=u&v=ada", 3600, "", nil}
	tests := []struct {
		name  string
		cfg   Config
		steps []mwStep
	}{
		{"before lifetime", Config{Lifetime: time.Hour}, []mwStep{set, {59 * m, "/get?k=u", 0, mwAda, nil}}},
		{"past lifetime", Config{Lifetime: time.Hour}, []mwStep{set, {60*m + 10*sec, "/get?k=u", -1, mwFresh, ErrExpired}}},
		{"long past", Config{Lifetime: time.Hour}, []mwStep{set, {30 * 24 * time.Hour, "/get?k=u", -1, mwFresh, ErrExpired}}},
		{"idle renewal, capped at lifetime", Config{Lifetime: 2 * time.Hour, IdleTimeout: time.Hour}, []mwStep{
			set,
			{10 * m, "/get?k=u", 0, mwAda, nil},
			{15 * m, "/get?k=u", 3600, mwAda, nil}, // a quarter of the timeout: re-seal
			{29 * m, "/get?k=u", 0, mwAda, nil},
			{30 * m, "/get?k=u", 3600, mwAda, nil},
			{60 * m, "/get?k=u", 3600, mwAda, nil}, // now expires at 2h, the lifetime
			{90 * m, "/get?k=u", 0, mwAda, nil},    // a seal would not move the expiry
			{100 * m, "/set?k=x&v=1", 1200, "", nil},
			{119 * m, "/get?k=u", 0, mwAda, nil},
			{120*m + 10*sec, "/get?k=u", -1, mwFresh, ErrExpired},
		}},
		{"idle gap", Config{Lifetime: 2 * time.Hour, IdleTimeout: time.Hour}, []mwStep{
			set,
			{50 * m, "/get?k=u", 3600, mwAda, nil},
			{110*m + 10*sec, "/get?k=u", -1, mwFresh, ErrExpired},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwStart(t, tt.cfg, false, mwApp)
			for _, st := range tt.steps {
				e.clock.Set(time.Unix(t0, 0).Add(st.at))
				r := e.stored(t, st.path) // by hand: the jar's clock is not the injected one
				if r.maxAge != st.maxAge || (st.body != "" && r.body != st.body) {
					t.Errorf("at %v %s: Max-Age %d, body %q; want %d, %q", st.at, st.path, r.maxAge, r.body, st.maxAge, st.body)
				}
				e.hook.mwWantErrs(t, st.err)
			}
		})
	}
}

// mwKeyID returns the key ID sealed in a single-cookie session value.
func mwKeyID(t *testing.T, value string) KeyID {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) < 6 {
		t.Fatalf("session value %.20q...: %v", value, err)
	}
	return KeyID(binary.BigEndian.Uint32(b[2:6]))
}

func TestMiddlewareRotationReseals(t *testing.T) {
	e := mwStart(t, Config{}, false, mwApp)
	r := e.do(t, http.MethodGet, "/set?k=u&v=ada", "")
	if got := mwKeyID(t, r.set["session"]); got != 1 {
		t.Fatalf("sealed under key %v, want 1", got)
	}
	if r = e.do(t, http.MethodGet, "/get?k=u", ""); len(r.lines) != 0 {
		t.Errorf("read-only request before rotation wrote %q", r.lines)
	}
	if _, err := e.kr.Rotate(); err != nil {
		t.Fatal(err)
	}
	r = e.do(t, http.MethodGet, "/get?k=u", "")
	if r.body != mwAda {
		t.Errorf("after rotation: %q", r.body)
	}
	v, ok := r.set["session"]
	if !ok {
		t.Fatalf("read-only request after rotation wrote no session cookie: %q", r.lines)
	}
	if got, want := mwKeyID(t, v), e.kr.Primary(); got != want {
		t.Errorf("re-sealed under key %v, want the new primary %v", got, want)
	}
	if r = e.do(t, http.MethodGet, "/get?k=u", ""); len(r.lines) != 0 || r.body != mwAda {
		t.Errorf("next read-only request: %q, Set-Cookie %q", r.body, r.lines)
	}
	e.hook.mwWantErrs(t)
}

func TestMiddlewareNoSaveOn5xx(t *testing.T) {
	for _, tt := range []struct {
		code  int
		saved bool
	}{{500, false}, {503, false}, {404, true}} {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			e := mwStart(t, Config{}, false, mwApp)
			path := fmt.Sprintf("/set?k=u&v=other&status=%d", tt.code)
			if r := e.do(t, http.MethodGet, path, ""); r.status != tt.code || (len(r.set) == 1) != tt.saved {
				t.Errorf("fresh session, status %d: Set-Cookie %q, want saved %t", r.status, r.lines, tt.saved)
			}
			e.do(t, http.MethodGet, "/set?k=u&v=ada", "")
			if r := e.do(t, http.MethodGet, path, ""); r.status != tt.code || (len(r.set) == 1) != tt.saved {
				t.Errorf("status %d: Set-Cookie %q, want saved %t", r.status, r.lines, tt.saved)
			}
			want := map[bool]string{true: "v=other ok=true new=false", false: mwAda}[tt.saved]
			if r := e.do(t, http.MethodGet, "/get?k=u", ""); r.body != want {
				t.Errorf("afterwards %q, want %q", r.body, want)
			}
			e.hook.mwWantErrs(t)
		})
	}
}

func TestMiddlewareVary(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		for _, v := range r.URL.Query()["vary"] {
			w.Header().Add("Vary", v)
		}
		if r.URL.Path == "/use" {
			FromContext(r.Context()).Has("u")
		}
	}
	tests := []struct {
		name, path   string
		preset, want []string
	}{
		{"used", "/use", nil, []string{"Cookie"}},
		{"not used", "/none", nil, nil},
		{"not used, preset", "/none", []string{"Accept-Encoding"}, []string{"Accept-Encoding"}},
		{"already Cookie", "/use", []string{"Cookie"}, []string{"Cookie"}},
		{"in a list", "/use", []string{"Accept-Encoding, Cookie"}, []string{"Accept-Encoding, Cookie"}},
		{"lower case", "/use", []string{"accept-encoding,cookie"}, []string{"accept-encoding,cookie"}},
		{"other field", "/use", []string{"Accept-Encoding"}, []string{"Accept-Encoding", "Cookie"}},
		{"star", "/use", []string{"*"}, []string{"*"}},
	}
	e := mwStart(t, Config{}, false, h)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, tt.path+"?"+url.Values{"vary": tt.preset}.Encode(), "")
			if diff := cmp.Diff(tt.want, r.header.Values("Vary")); diff != "" {
				t.Errorf("Vary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMiddlewareChangeAfterHeader(t *testing.T) {
	// A session first used after the header also lacks Vary: Cookie, which
	// is reported too.
	late := []error{ErrHeaderWritten, ErrHeaderWritten}
	tests := []struct {
		name   string
		before func(w http.ResponseWriter, s *Session)
		want   []error
	}{
		{"write, then first use", func(w http.ResponseWriter, s *Session) { io.WriteString(w, "body") }, late},
		{"read, write", func(w http.ResponseWriter, s *Session) { s.Has("u"); io.WriteString(w, "body") }, nil},
		{"WriteHeader", func(w http.ResponseWriter, s *Session) { s.Has("u"); w.WriteHeader(http.StatusAccepted) }, nil},
		{"Flush", func(w http.ResponseWriter, s *Session) { w.(http.Flusher).Flush() }, late},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwStart(t, Config{}, false, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/late" {
					mwApp(w, r)
					return
				}
				s := FromContext(r.Context())
				tt.before(w, s)
				s.Set("u", "ada")
			})
			if r := e.do(t, http.MethodGet, "/late", ""); len(r.lines) != 0 {
				t.Errorf("Set-Cookie %q", r.lines)
			}
			if tt.want == nil {
				tt.want = []error{ErrHeaderWritten}
			}
			e.hook.mwWantErrs(t, tt.want...)
			if r := e.do(t, http.MethodGet, "/get?k=u", ""); r.body != mwFresh {
				t.Errorf("late value was saved: %q", r.body)
			}
			e.hook.mwWantErrs(t)
		})
	}
}

func TestMiddlewareUntouchedSession(t *testing.T) {
	e := mwStart(t, Config{}, false, mwApp)
	r := e.raw(t, "/noop", "session=garbage; session.1=more; session.9=x")
	if r.status != http.StatusOK || len(r.lines) != 0 || len(r.header.Values("Vary")) != 0 {
		t.Errorf("untouched session: %d, Set-Cookie %q, Vary %q", r.status, r.lines, r.header.Values("Vary"))
	}
	e.hook.mwWantErrs(t) // the garbage was never opened
}

func TestMiddlewareEmptySessionDeletesCookies(t *testing.T) {
	tests := []struct {
		name, path string
		cart       int // items in a cart besides u, if any
		deleted    []string
		jar        []string
	}{
		{"Clear", "/clear", 0, []string{"session"}, nil},
		{"Clear chunked", "/clear", 200, []string{"session", "session.1"}, nil},
		{"Delete last key", "/delete?k=u", 0, []string{"session"}, nil},
		{"Pop last key", "/pop?k=u", 0, []string{"session"}, nil},
		{"Delete absent key", "/delete?k=x", 0, nil, []string{"session"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwStart(t, Config{}, false, mwApp)
			e.do(t, http.MethodGet, "/set?k=u&v=ada", "")
			if tt.cart > 0 {
				e.do(t, http.MethodPost, "/cart", mwJSON(mwItems(tt.cart, 5)))
			}
			r := e.do(t, http.MethodGet, tt.path, "")
			if diff := cmp.Diff(tt.deleted, r.deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
			if got := r.set; len(got) != 0 {
				t.Errorf("also wrote %v", got)
			}
			if diff := cmp.Diff(tt.jar, e.jarNames(t)); diff != "" {
				t.Errorf("jar (-want +got):\n%s", diff)
			}
			e.hook.mwWantErrs(t)
		})
	}
}

func TestMiddlewareFlushStreams(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	// A safety valve, not a timing check: if Flush did not send, the client
	// would wait for the handler, and the handler for the client.
	valve := time.AfterFunc(time.Minute, func() { once.Do(func() { close(release) }) })
	e := mwStart(t, Config{}, false, func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("u", "ada")
		io.WriteString(w, "part1;")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "part2")
	})
	res, err := e.client.Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	part := make([]byte, len("part1;"))
	_, err = io.ReadFull(res.Body, part)
	if !valve.Stop() {
		t.Error("the flushed part did not arrive while the handler was still running")
	}
	once.Do(func() { close(release) })
	rest, err2 := io.ReadAll(res.Body)
	if err != nil || err2 != nil || string(part)+string(rest) != "part1;part2" {
		t.Errorf("body %q %q, errors %v %v", part, rest, err, err2)
	}
	if _, ok := mwParse(0, res.Header, "").set["session"]; !ok {
		t.Errorf("flushed header has no session cookie: %q", res.Header.Values("Set-Cookie"))
	}
	e.hook.mwWantErrs(t)
}

func TestMiddlewareWriterInterfaces(t *testing.T) {
	tests := []struct {
		name, body string
		write      func(w http.ResponseWriter) string
	}{
		{"ResponseController", "<nil> <nil> <nil>", func(w http.ResponseWriter) string {
			rc := http.NewResponseController(w)
			errW := rc.SetWriteDeadline(time.Now().Add(time.Minute))
			errR := rc.SetReadDeadline(time.Now().Add(time.Minute))
			return fmt.Sprint(errW, errR, rc.Flush())
		}},
		{"ReadFrom", "copied", func(w http.ResponseWriter) string {
			if _, ok := w.(io.ReaderFrom); !ok {
				return "no ReaderFrom"
			}
			// LimitReader hides strings.Reader's WriteTo, so io.Copy uses ReadFrom.
			io.Copy(w, io.LimitReader(strings.NewReader("copied"), 100))
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mwStart(t, Config{}, false, func(w http.ResponseWriter, r *http.Request) {
				FromContext(r.Context()).Set("u", "ada")
				io.WriteString(w, tt.write(w))
			})
			r := e.do(t, http.MethodGet, "/", "")
			if _, ok := r.set["session"]; !ok || r.body != tt.body {
				t.Errorf("body %q, want %q; Set-Cookie %q", r.body, tt.body, r.lines)
			}
			e.hook.mwWantErrs(t)
		})
	}
}

func TestMiddlewareEarlyHints(t *testing.T) {
	e := mwStart(t, Config{}, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/hints" {
			mwApp(w, r)
			return
		}
		s := FromContext(r.Context())
		s.Set("x", "before")
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		s.Set("u", "ada")
		io.WriteString(w, "final")
	})
	var hints []textproto.MIMEHeader // the transport hands the response over by channel after these calls
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code == http.StatusEarlyHints {
			hints = append(hints, h)
		}
		return nil
	}}
	req := e.request(t, http.MethodGet, "/hints", "")
	r := mwSend(t, e.client, req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if len(hints) != 1 || hints[0].Get("Link") == "" || len(hints[0].Values("Set-Cookie")) != 0 {
		t.Errorf("103 responses %v, want one with Link and no Set-Cookie", hints)
	}
	if _, ok := r.set["session"]; !ok || r.status != http.StatusOK || r.body != "final" {
		t.Errorf("final response %d %q, Set-Cookie %q", r.status, r.body, r.lines)
	}
	e.hook.mwWantErrs(t)
	if r = e.do(t, http.MethodGet, "/get?k=u", ""); r.body != mwAda {
		t.Errorf("value set after the 103: %q", r.body)
	}
}
