package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/gorilla/sessions"
)

// The kinds of request: one that does not touch the session, one that reads
// the "csrf" key, and one that reads it and stores another token there.
var requestKinds = []string{"untouched", "read", "readwrite"}

// reqLib serves the request kinds with one library, for one fixture.
type reqLib struct {
	// cookie is the Cookie header that carries the fixture session.
	cookie string
	// handler serves one kind of request. It calls fail, which must not
	// return, if the session does not hold what it should.
	handler func(kind string, fail func(error)) http.Handler
	// csrf opens the session that a Cookie header carries and returns its
	// csrf token and the number of its keys, for the tests.
	csrf func(cookie string) (string, int, error)
}

var reqLibs = []struct {
	name  string
	setup func(tb testing.TB, f fixture) reqLib
}{
	{"gorilla", gorillaReqLib},
	{"cookiesession", csReqLib},
	{"jwt", tokenReqLib(func(testing.TB) tokenCodec { return newJWTCodec() })},
	{"jwe", tokenReqLib(newJWECodec)},
}

// BenchmarkMiddleware serves each kind of request for each session size.
// cookiesession runs its Middleware; gorilla/sessions (CookieStore, gob) has
// none, so its handler loads the session with store.Get and saves it with
// Session.Save itself, and does neither on a request that does not use it.
// Every iteration builds a new request carrying the session cookie; the
// recorder is reused.
func BenchmarkMiddleware(b *testing.B) {
	for _, f := range loadFixtures(b) {
		for _, kind := range requestKinds {
			for _, lib := range reqLibs {
				b.Run(fmt.Sprintf("size=%s/req=%s/lib=%s", f.size, kind, lib.name), func(b *testing.B) {
					l := lib.setup(b, f)
					h := l.handler(kind, func(err error) { b.Fatal(err) })
					rec := httptest.NewRecorder()
					b.ReportAllocs()
					for b.Loop() {
						clear(rec.Header())
						h.ServeHTTP(rec, newRequest(l.cookie))
					}
					b.ReportMetric(float64(len(l.cookie)), "wire-bytes")
				})
			}
		}
	}
}

// BenchmarkOverhead is the cost of the middleware on a request that does not
// use its session: the same handler, bare and wrapped. The request (which
// carries the medium session) and the ResponseWriter are reused, so the
// difference is the middleware alone.
func BenchmarkOverhead(b *testing.B) {
	f := loadFixtures(b)[1]
	m := newManager(b)
	header, _ := setCookies(b, mustLines(b, m, csSession(b, m, f)))
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"middleware", m.Middleware(bare)}} {
		b.Run("handler="+c.name, func(b *testing.B) {
			r := newRequest(header)
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(w, r)
			}
			if w.status != http.StatusNoContent || len(w.h) != 0 {
				b.Fatalf("status %d, header %v", w.status, w.h)
			}
		})
	}
}

// nopWriter is a ResponseWriter that keeps only the status.
type nopWriter struct {
	h      http.Header
	status int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(code int)        { w.status = code }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// TestRequests runs each request once with each library, and checks that it
// reads the token and saves the change, and only then.
func TestRequests(t *testing.T) {
	for _, f := range loadFixtures(t) {
		want := f.values["csrf"].(string)
		for _, kind := range requestKinds {
			for _, lib := range reqLibs {
				t.Run(fmt.Sprintf("%s/%s/%s", f.size, kind, lib.name), func(t *testing.T) {
					l := lib.setup(t, f)
					// The cookie carries the fixture.
					tok, n, err := l.csrf(l.cookie)
					if err != nil || tok != want || n != len(f.values) {
						t.Fatalf("fixture cookie: csrf %q, %d keys, %v; want %q, %d keys", tok, n, err, want, len(f.values))
					}
					var failed error
					h := l.handler(kind, func(err error) { failed = err; panic(http.ErrAbortHandler) })
					rec := httptest.NewRecorder()
					func() {
						defer func() { _ = recover() }()
						h.ServeHTTP(rec, newRequest(l.cookie))
					}()
					if failed != nil {
						t.Fatalf("handler: %v", failed)
					}
					lines := rec.Result().Header["Set-Cookie"]
					if kind != "readwrite" {
						if len(lines) != 0 {
							t.Fatalf("%s request set cookies: %q", kind, lines)
						}
						return
					}
					header, _ := setCookies(t, lines)
					tok, n, err = l.csrf(header)
					if err != nil || tok != altToken(want) || n != len(f.values) {
						t.Fatalf("saved cookie: csrf %q, %d keys, %v; want %q, %d keys", tok, n, err, altToken(want), len(f.values))
					}
				})
			}
		}
	}
}

// TestHandlersFail checks that the handlers notice a session without the
// token, so the benchmarks cannot measure an empty session by mistake.
func TestHandlersFail(t *testing.T) {
	f := loadFixtures(t)[0]
	for _, kind := range requestKinds[1:] {
		for _, lib := range reqLibs {
			t.Run(kind+"/"+lib.name, func(t *testing.T) {
				l := lib.setup(t, f)
				var failed error
				h := l.handler(kind, func(err error) { failed = err; panic(http.ErrAbortHandler) })
				func() {
					defer func() { _ = recover() }()
					h.ServeHTTP(httptest.NewRecorder(), newRequest(""))
				}()
				if failed == nil {
					t.Fatal("handler accepted a request without a session")
				}
			})
		}
	}
}

// csReqLib serves requests with cookiesession's Middleware.
func csReqLib(tb testing.TB, f fixture) reqLib {
	m := newManager(tb)
	header, _ := setCookies(tb, mustLines(tb, m, csSession(tb, m, f)))
	return reqLib{
		cookie: header,
		handler: func(kind string, fail func(error)) http.Handler {
			return m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if kind == "untouched" {
					return
				}
				s := cookiesession.FromContext(r.Context())
				tok, ok, err := cookiesession.Get[string](s, "csrf")
				if err != nil || !ok {
					fail(fmt.Errorf("csrf: %q, %v, %v", tok, ok, err))
				}
				if kind == "readwrite" {
					if err := s.Set("csrf", altToken(tok)); err != nil {
						fail(err)
					}
				}
			}))
		},
		csrf: func(cookie string) (string, int, error) {
			s, err := m.LoadHeader(context.Background(), cookie)
			if err != nil {
				return "", 0, err
			}
			tok, _, err := cookiesession.Get[string](s, "csrf")
			return tok, s.Len(), err
		},
	}
}

// mustLines returns the Set-Cookie lines that store s.
func mustLines(tb testing.TB, m *cookiesession.Manager, s *cookiesession.Session) []string {
	tb.Helper()
	lines, err := m.SetCookieHeaders(s)
	if err != nil {
		tb.Fatal(err)
	}
	return lines
}

// gorillaReqLib serves requests with a gorilla/sessions CookieStore, loading
// and saving by hand.
func gorillaReqLib(tb testing.TB, f fixture) reqLib {
	store := newStore()
	rec := httptest.NewRecorder()
	sess := sessions.NewSession(store, cookieName)
	sess.Values = gorillaValues(f)
	opts := *store.Options
	sess.Options = &opts
	if err := store.Save(newRequest(""), rec, sess); err != nil {
		tb.Fatal(err)
	}
	header, _ := setCookies(tb, rec.Result().Header["Set-Cookie"])
	return reqLib{
		cookie: header,
		handler: func(kind string, fail func(error)) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if kind == "untouched" {
					return
				}
				sess, err := store.Get(r, cookieName)
				if err != nil {
					fail(err)
				}
				tok, ok := sess.Values["csrf"].(string)
				if !ok {
					fail(errors.New("no csrf token"))
				}
				if kind == "readwrite" {
					sess.Values["csrf"] = altToken(tok)
					if err := sess.Save(r, w); err != nil {
						fail(err)
					}
				}
			})
		},
		csrf: func(cookie string) (string, int, error) {
			sess, err := store.New(newRequest(cookie), cookieName)
			if err != nil {
				return "", 0, err
			}
			tok, _ := sess.Values["csrf"].(string)
			return tok, len(sess.Values), nil
		},
	}
}
