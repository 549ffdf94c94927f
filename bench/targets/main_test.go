package main

import (
	"strings"
	"testing"
)

// sample is two rounds of a few benchmarks, with the header lines and the
// -GOMAXPROCS suffix that go test writes.
const sample = `goos: linux
BenchmarkMiddleware/size=large/req=readwrite/lib=gorilla-2   10   1000000 ns/op   5570 allocs/op
BenchmarkMiddleware/size=large/req=readwrite/lib=cookiesession-2   100   40000 ns/op   36 allocs/op
BenchmarkCodec/op=encode/size=large/lib=cookiesession-2   100   50000 ns/op   1.000 cookies   3899 wire-bytes
PASS
goos: linux
BenchmarkMiddleware/size=large/req=readwrite/lib=gorilla-2   10   1400000 ns/op   5570 allocs/op
BenchmarkMiddleware/size=large/req=readwrite/lib=cookiesession-2   100   60000 ns/op   36 allocs/op
BenchmarkCodec/op=encode/size=large/lib=cookiesession-2   100   70000 ns/op   1.000 cookies   3899 wire-bytes
PASS
`

func TestReport(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := res.median("Codec/op=encode/size=large/lib=cookiesession", "ns/op"); !ok || m != 60000 {
		t.Errorf("median = %v, %v; want 60000", m, ok)
	}
	var b strings.Builder
	report(&b, res)
	out := b.String()
	for _, want := range []string{
		// Medians 1.2 ms and 50 µs: 24 times, over the 20 asked for.
		"| middleware, large session, read one key and write one: ≥ 20× faster than gorilla/sessions | gorilla 1.2 ms / 50 µs = 24.00× | **24.00×** | yes |",
		"| the large cart in one cookie | 1 cookie(s), 3899 bytes on the wire | | yes |",
		"| medium session, encode: ≥ 4× faster than every peer, session as a map | not measured | | |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestParseRejectsBadNumber(t *testing.T) {
	if _, err := parse(strings.NewReader("BenchmarkX-2 10 abc ns/op\n")); err == nil {
		t.Error("parse accepted a value that is not a number")
	}
}

func TestReportMissedTarget(t *testing.T) {
	res, err := parse(strings.NewReader(`BenchmarkCodec/op=encode/size=medium/lib=jwt-struct-2 1 8000 ns/op
BenchmarkCodec/op=encode/size=medium/lib=jwe-struct-2 1 16000 ns/op
BenchmarkCodec/op=encode/size=medium/lib=cookiesession-2 1 4000 ns/op
BenchmarkCodec/op=encode/size=large/lib=jwe-struct-2 1 40000 ns/op
BenchmarkCodec/op=encode/size=large/lib=cookiesession-2 1 20000 ns/op 2 cookies 5000 wire-bytes
`))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	report(&b, res)
	for _, want := range []string{
		// The worse of the two peers decides: 2×, short of 4×.
		"| medium session, encode: ≥ 4× faster than the token peers with claims structs | jwt-struct 8 µs / 4 µs = 2.00×; jwe-struct 16 µs / 4 µs = 4.00× | **2.00×** | **no** |",
		"jwe-struct 40 µs / 20 µs = 2.00× | **2.00×** | **no** |",
		"| the large cart in one cookie | 2 cookie(s), 5000 bytes on the wire | | **no** |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
