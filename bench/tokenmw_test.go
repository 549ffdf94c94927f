package bench

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
)

// tokenMiddleware is the small middleware a developer writes around a token
// library, so that the JWT and JWE peers serve requests as cookiesession's
// Middleware does: the session cookie is decoded on first use (a request
// that never uses the session pays nothing), an invalid or missing cookie
// gives an empty session, and a modified session is encoded into a
// Set-Cookie line before the response header goes out.
// A failed encode goes to fail.
func tokenMiddleware(c tokenCodec, fail func(error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts := &tokenSession{codec: c, r: r}
		tw := &tokenWriter{ResponseWriter: w, s: ts, fail: fail}
		next.ServeHTTP(tw, r.WithContext(context.WithValue(r.Context(), tokenKey{}, ts)))
		tw.save()
	})
}

var errNoToken = errors.New("no csrf token")

type tokenKey struct{}

// tokenFrom returns the session that tokenMiddleware put in ctx.
func tokenFrom(ctx context.Context) *tokenSession {
	s, _ := ctx.Value(tokenKey{}).(*tokenSession)
	return s
}

// tokenSession holds the claims of one request's token cookie.
type tokenSession struct {
	codec    tokenCodec
	r        *http.Request
	mu       sync.Mutex
	loaded   bool
	modified bool
	vals     map[string]any
}

func (s *tokenSession) load() {
	if s.loaded {
		return
	}
	s.loaded = true
	if ck, err := s.r.Cookie(cookieName); err == nil {
		s.vals, _ = s.codec.decode(ck.Value) // invalid: a fresh session
	}
	if s.vals == nil {
		s.vals = map[string]any{}
	}
}

// Get returns the value of key, decoding the cookie on first use.
func (s *tokenSession) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	v, ok := s.vals[key]
	return v, ok
}

// Set stores a value and marks the session modified.
func (s *tokenSession) Set(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.vals[key] = v
	s.modified = true
}

// tokenWriter saves the session before the first byte of the response.
type tokenWriter struct {
	http.ResponseWriter
	s     *tokenSession
	fail  func(error)
	saved bool
}

func (w *tokenWriter) save() {
	if w.saved {
		return
	}
	w.saved = true
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.modified {
		return
	}
	text, err := s.codec.encode(s.vals)
	if err != nil {
		w.fail(err)
		return
	}
	http.SetCookie(w.ResponseWriter, &http.Cookie{
		Name: cookieName, Value: text, Path: "/", MaxAge: int(lifetime.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	})
}

func (w *tokenWriter) WriteHeader(code int) {
	w.save()
	w.ResponseWriter.WriteHeader(code)
}

func (w *tokenWriter) Write(p []byte) (int, error) {
	w.save()
	return w.ResponseWriter.Write(p)
}

// tokenReqLib serves requests with a token codec behind tokenMiddleware.
func tokenReqLib(newCodec func(testing.TB) tokenCodec) func(testing.TB, fixture) reqLib {
	return func(tb testing.TB, f fixture) reqLib {
		c := newCodec(tb)
		vals := make(map[string]any, len(f.values)+1)
		for k, v := range f.values {
			vals[k] = v
		}
		text, err := c.encode(vals)
		if err != nil {
			tb.Fatal(err)
		}
		return reqLib{
			cookie: cookieName + "=" + text,
			handler: func(kind string, fail func(error)) http.Handler {
				return tokenMiddleware(c, fail, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if kind == "untouched" {
						return
					}
					s := tokenFrom(r.Context())
					v, _ := s.Get("csrf")
					tok, ok := v.(string)
					if !ok {
						fail(errNoToken)
					}
					if kind == "readwrite" {
						s.Set("csrf", altToken(tok))
					}
				}))
			},
			csrf: func(cookie string) (string, int, error) {
				r := newRequest(cookie)
				ck, err := r.Cookie(cookieName)
				if err != nil {
					return "", 0, err
				}
				vals, err := c.decode(ck.Value)
				if err != nil {
					return "", 0, err
				}
				tok, _ := vals["csrf"].(string)
				return tok, len(withoutExp(vals)), nil
			},
		}
	}
}
