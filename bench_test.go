package cookiesession

import (
	"encoding/json"
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
				if dst, _, err = s.c.appendSeal(dst[:0], "session", payload, s.clock.Now(), exp, nil); err != nil {
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
				if _, _, err := s.c.openPayload(buf, "session", []byte(v), 0); err != nil {
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
