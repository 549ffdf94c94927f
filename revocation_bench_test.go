package cookiesession

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRevocationMiddleware is one request through the middleware that
// reads a value of a logged-in session (the small fixture, with a
// subject): with revocation off, and on with a check not due (Bound 1h).
// The target is at most 1.1 times the cost with it off; "checks/op" counts
// the round trips to the store, and must be 0.
func BenchmarkRevocationMiddleware(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on-not-due"
		}
		b.Run(name, func(b *testing.B) {
			clock := newTestClock(t0)
			store := &countingStore{RevocationStore: NewMemoryRevocationStore(clock.Now)}
			cfg := Config{Now: clock.Now}
			if on {
				cfg.Revocation = Revocation{Store: store, Bound: time.Hour}
			}
			m, err := New(testKeyring(b), cfg)
			if err != nil {
				b.Fatal(err)
			}
			s, _ := m.LoadHeader(b.Context(), "")
			for k, v := range fixtureValues(b, "small") {
				if err := s.Set(k, v); err != nil {
					b.Fatal(err)
				}
			}
			s.SetSubject("user-1042")
			lines, err := m.SetCookieHeaders(s)
			if err != nil {
				b.Fatal(err)
			}
			clock.Add(time.Minute)
			h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if FromContext(r.Context()).Subject() != "user-1042" {
					b.Fatal("session not accepted")
				}
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", stHeader(b, lines))
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(store.checks.Load())/float64(b.N), "checks/op")
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing but its header.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
