package cookiesession

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks seal and open the session fixtures in testdata/sessions:
// small (~100 B), medium (~1 KiB) and large (~12 KiB) of JSON. The payload is
// a json.RawMessage, so they measure the codec and not a struct's encoding.
// Each reports the sealed text size as "bytes".
var benchSizes = []string{"small", "medium", "large"}

func BenchmarkSeal(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size, func(b *testing.B) {
			s := newSetup(b, nil)
			payload := json.RawMessage(fixture(b, size))
			exp := s.clock.Now().Add(time.Hour)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			var n int
			for b.Loop() {
				v, err := s.c.Seal("session", payload, exp)
				if err != nil {
					b.Fatal(err)
				}
				n = len(v)
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size, func(b *testing.B) {
			s, v := sealedFixture(b, size)
			var out json.RawMessage
			for b.Loop() {
				if _, err := s.c.Open("session", v, &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(v)), "bytes")
		})
	}
}

// BenchmarkSealPayload and BenchmarkOpenPayload leave serialization out:
// they are the codec's own cost (compression, AEAD, base64).
func BenchmarkSealPayload(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size, func(b *testing.B) {
			s := newSetup(b, nil)
			payload := fixture(b, size)
			exp := s.clock.Now().Add(time.Hour)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				var err error
				if dst, _, err = s.c.appendSeal(dst[:0], "session", kindValue, payload, s.clock.Now(), exp, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpenPayload(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size, func(b *testing.B) {
			s, v := sealedFixture(b, size)
			buf := getBuf()
			for b.Loop() {
				if _, _, err := s.c.openPayload(buf, "session", kindValue, []byte(v), 0, s.c.now().Unix()); err != nil {
					b.Fatal(err)
				}
			}
			putBuf(buf)
		})
	}
}

// sealedFixture returns a setup and the fixture of that size sealed with it,
// and starts reporting throughput and allocations.
func sealedFixture(b *testing.B, size string) (testSetup, string) {
	s := newSetup(b, nil)
	payload := fixture(b, size)
	v, err := s.c.Seal("session", json.RawMessage(payload), s.clock.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	return s, v
}

// BenchmarkScalar decodes and encodes the values a handler touches on most
// requests, with the typed fast paths (path=fast) and with encoding/json
// (path=json), which they must equal: compare with benchstat -col /path.
func BenchmarkScalar(b *testing.B) {
	c := jsonCodec(b)
	token := "q3Vd8-LrT0xZ1mKcW_7bNf4pYhA2sEjG9uOiR6tXlCk"
	cases := []struct {
		typ        string
		value      any
		fast, slow func(*testing.B, []byte) func() error
	}{
		{"string", token, decodeBench[string](c, true), decodeBench[string](c, false)},
		{"int64", int64(48213977), decodeBench[int64](c, true), decodeBench[int64](c, false)},
		{"bool", true, decodeBench[bool](c, true), decodeBench[bool](c, false)},
		{"float64", 1234.5, decodeBench[float64](c, true), decodeBench[float64](c, false)},
	}
	for _, tc := range cases {
		raw, err := JSONSerializer{}.Marshal(tc.value)
		if err != nil {
			b.Fatal(err)
		}
		for _, path := range []string{"fast", "json"} {
			b.Run("op=decode/type="+tc.typ+"/path="+path, func(b *testing.B) {
				decode := tc.fast(b, raw)
				if path == "json" {
					decode = tc.slow(b, raw)
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := decode(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("op=encode/type="+tc.typ+"/path="+path, func(b *testing.B) {
				encode := c.marshalValue
				if path == "json" {
					encode = JSONSerializer{}.Marshal
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := encode(tc.value); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// decodeBench returns a decoder into a T: unmarshalValue, after checking
// that its fast path takes raw, or encoding/json.
func decodeBench[T any](c *Codec, fast bool) func(b *testing.B, raw []byte) func() error {
	return func(b *testing.B, raw []byte) func() error {
		if !fast {
			return func() error { _, err := unmarshalSlow[T](c, raw); return err }
		}
		var v T
		if !decodeScalar(raw, &v) {
			b.Fatalf("the fast path does not take %q", raw)
		}
		return func() error { _, err := unmarshalValue[T](c, raw); return err }
	}
}

// BenchmarkRequest is one request's session work, without HTTP: load the
// session from its Cookie header, read the small "csrf" key, store a small
// key, and make the Set-Cookie lines. On the large session (a 150-item
// cart) this must not compress or re-serialize the cart, which did not
// change: "deflates/op" and "inflates/op" count the DEFLATE streams written
// and read, and must be 0 there. "cookie-bytes" is the length of the
// Set-Cookie lines.
func BenchmarkRequest(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size, func(b *testing.B) {
			m, header := benchSession(b, size)
			ctx := context.Background()
			b.ReportAllocs()
			n := 0
			d0, i0 := deflates.Load(), inflates.Load()
			for b.Loop() {
				s, err := m.LoadHeader(ctx, header)
				if err != nil {
					b.Fatal(err)
				}
				if _, ok, err := Get[string](s, "csrf"); !ok || err != nil {
					b.Fatal(ok, err)
				}
				if err := s.Set("seen", 1); err != nil {
					b.Fatal(err)
				}
				lines, err := m.SetCookieHeaders(s)
				if err != nil || len(lines) == 0 {
					b.Fatal(lines, err)
				}
				n = 0
				for _, l := range lines {
					n += len(l)
				}
			}
			b.ReportMetric(float64(deflates.Load()-d0)/float64(b.N), "deflates/op")
			b.ReportMetric(float64(inflates.Load()-i0)/float64(b.N), "inflates/op")
			b.ReportMetric(float64(n), "cookie-bytes")
		})
	}
}

// benchSession returns a Manager and the Cookie header of a session that
// holds the top-level keys of the fixture, each stored with Session.Set.
func benchSession(b *testing.B, size string) (*Manager, string) {
	clock := newTestClock(t0)
	m, err := New(testKeyring(b), Config{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	s, _ := m.LoadHeader(context.Background(), "")
	for k, v := range fixtureValues(b, size) {
		if err := s.Set(k, v); err != nil {
			b.Fatal(err)
		}
	}
	lines, err := m.SetCookieHeaders(s)
	if err != nil {
		b.Fatal(err)
	}
	return m, stHeader(b, lines)
}

// BenchmarkHostileHeader is the load of a session from the worst Cookie
// headers a client can send (SPEC.md §14.2), against net/http's own parsing
// of the same header (http.Request.Cookies), which any handler that reads
// a cookie pays: lib=cookiesession is Manager.Load, lib=net-http is
// Request.Cookies. "aead-bytes" is the ciphertext opened per load (counted
// by a wrapper around each key's AEAD), "header-bytes" the header's length.
//
//   - candidates-85KB: a first cookie of count 3 as long as MaxPayloadSize
//     allows, and four one-character candidates for each of chunks 1 and 2:
//     16 combinations, up to the joined-length cap each an open of 64 KiB;
//   - candidates-MaxSize: the same, with the first cookie as long as
//     MaxSize allows: the most a header can still make the reader open;
//   - semicolons-1MiB: a valid session, then 1 MiB of ";";
//   - value-1MiB: a first cookie of 1 MiB;
//   - pairs-1MiB: 1 MiB of "a=1; ";
//   - valid: the small session, for scale.
func BenchmarkHostileHeader(b *testing.B) {
	m, valid := benchSession(b, "small")
	var opens, bytes atomic.Int64
	hdCountOpenBytes(m.codec.kr, &opens, &bytes)
	n0, n1, n2 := m.names[0], m.names[1], m.names[2]
	first := func(n int) string { return n0 + "=3.AgAAAAAB" + strings.Repeat("A", n-8) }
	small := "; " + n1 + "=A; " + n1 + "=B; " + n1 + "=C; " + n1 + "=D; " + n2 + "=A; " + n2 + "=Q; " + n2 + "=g; " + n2 + "=w"
	// The longest joined texts that decode (a multiple of 4 characters).
	room := m.maxSize - len(n0+"=3."+n1+"="+n2+"=")
	headers := []struct{ name, header string }{
		{"candidates-85KB", first(m.codec.maxText&^3-2) + small},
		{"candidates-MaxSize", first(room&^3-2) + small},
		{"semicolons-1MiB", valid + strings.Repeat(";", 1<<20)},
		{"value-1MiB", n0 + "=" + strings.Repeat("A", 1<<20)},
		{"pairs-1MiB", strings.Repeat("a=1; ", 1<<20/5)},
		{"valid", valid},
	}
	for _, h := range headers {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", h.header)
		b.Run(h.name+"/lib=cookiesession", func(b *testing.B) {
			b.ReportAllocs()
			bytes.Store(0)
			n := 0
			for b.Loop() {
				m.Load(r)
				n++
			}
			b.ReportMetric(float64(bytes.Load())/float64(n), "aead-bytes")
			b.ReportMetric(float64(len(h.header)), "header-bytes")
		})
		b.Run(h.name+"/lib=net-http", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Cookies()
			}
			b.ReportMetric(0, "aead-bytes")
			b.ReportMetric(float64(len(h.header)), "header-bytes")
		})
	}
}
