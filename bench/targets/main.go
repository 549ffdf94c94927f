// Command targets reads the raw results of the benchmark suite (what run.sh
// writes to results.txt) and prints the performance targets of issue 12 as
// a Markdown table: each ratio of medians, from the one run in the file, and
// whether the target is met.
//
//	go run ./targets results.txt
//
// A median here is the one benchstat reports as a column's center, so the
// ratios match the tables. A benchmark missing from the file (a narrower
// BENCH, say) shows as "not measured".
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// procSuffix is the -GOMAXPROCS suffix that go test adds to names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// results maps a benchmark name, without the suffix, to its samples of
// each unit.
type results map[string]map[string][]float64

func parse(r io.Reader) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		if res[name] == nil {
			res[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", name, f[i], err)
			}
			res[name][f[i+1]] = append(res[name][f[i+1]], v)
		}
	}
	return res, sc.Err()
}

// median returns the median of a benchmark's samples of unit, and false if
// there are none.
func (r results) median(name, unit string) (float64, bool) {
	xs := slices.Clone(r[name][unit])
	if len(xs) == 0 {
		return 0, false
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2], true
	}
	return (xs[n/2-1] + xs[n/2]) / 2, true
}

// ratio is one "at least min times faster" comparison: base's time over
// ours.
type ratio struct {
	base, ours string
}

func (r results) ratio(c ratio) (float64, string, bool) {
	b, ok1 := r.median(c.base, "ns/op")
	o, ok2 := r.median(c.ours, "ns/op")
	if !ok1 || !ok2 {
		return 0, "", false
	}
	return b / o, fmt.Sprintf("%s / %s", dur(b), dur(o)), true
}

// dur formats nanoseconds as benchstat does, roughly.
func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	}
	return fmt.Sprintf("%.3g ns", ns)
}

// codec names a BenchmarkCodec sub-benchmark.
func codec(op, size, lib string) string {
	return fmt.Sprintf("Codec/op=%s/size=%s/lib=%s", op, size, lib)
}

// The Codec columns that the medium target compares against: the peers
// that hold the session as a map, as gorilla's users and the issue's own
// measurement do, and the token peers with a claims struct per session
// shape, which encoding/json handles faster.
var (
	mapPeers    = []string{"securecookie-json", "securecookie-gob", "jwt", "jwe"}
	structPeers = []string{"jwt-struct", "jwe-struct"}
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: targets results.txt")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	res, err := parse(f)
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	report(os.Stdout, res)
}

// report writes the table of targets.
func report(w io.Writer, res results) {
	fmt.Fprintln(w, "| target | measured (medians) | ratio | met |")
	fmt.Fprintln(w, "|---|---|---|---|")
	row := func(target string, min float64, cs ...ratio) {
		// The worst of the comparisons decides.
		worst, detail, ok := 0.0, "", true
		var parts []string
		for _, c := range cs {
			x, d, found := res.ratio(c)
			if !found {
				ok = false
				break
			}
			parts = append(parts, fmt.Sprintf("%s %s = %.2f×", peerOf(c.base), d, x))
			if worst == 0 || x < worst {
				worst = x
			}
		}
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | |\n", target)
			return
		}
		detail = strings.Join(parts, "; ")
		met := "**no**"
		if worst >= min {
			met = "yes"
		}
		fmt.Fprintf(w, "| %s | %s | **%.2f×** | %s |\n", target, detail, worst, met)
	}

	for _, op := range []string{"decode", "encode"} {
		row(fmt.Sprintf("small session, %s, read and written as a handler does: ≥ 3× faster than securecookie-json", op), 3,
			ratio{codec(op, "small", "securecookie-json"), codec(op, "small", "cookiesession-typed")})
	}
	for _, op := range []string{"encode", "decode"} {
		for _, peers := range []struct {
			what  string
			names []string
		}{{"every peer, session as a map", mapPeers}, {"the token peers with claims structs", structPeers}} {
			var cs []ratio
			for _, p := range peers.names {
				cs = append(cs, ratio{codec(op, "medium", p), codec(op, "medium", "cookiesession")})
			}
			row(fmt.Sprintf("medium session, %s: ≥ 4× faster than %s", op, peers.what), 4, cs...)
		}
	}
	row("middleware, large session, read one key and write one: ≥ 20× faster than gorilla/sessions", 20,
		ratio{"Middleware/size=large/req=readwrite/lib=gorilla", "Middleware/size=large/req=readwrite/lib=cookiesession"})
	row("large session encode, one small key changed: ≥ 3× faster than go-jose JWE of a map", 3,
		ratio{codec("encode", "large", "jwe"), codec("encode", "large", "cookiesession")})
	row("large session encode, one small key changed: ≥ 3× faster than go-jose JWE of a claims struct", 3,
		ratio{codec("encode", "large", "jwe-struct"), codec("encode", "large", "cookiesession")})

	name := codec("encode", "large", "cookiesession")
	n, ok1 := res.median(name, "cookies")
	wire, ok2 := res.median(name, "wire-bytes")
	if ok1 && ok2 {
		met := "**no**"
		if n == 1 {
			met = "yes"
		}
		fmt.Fprintf(w, "| the large cart in one cookie | %.0f cookie(s), %.0f bytes on the wire | | %s |\n", n, wire, met)
	} else {
		fmt.Fprintln(w, "| the large cart in one cookie | not measured | | |")
	}
}

// peerOf returns the library part of a benchmark name.
func peerOf(name string) string {
	if _, lib, ok := strings.Cut(name, "lib="); ok {
		return lib
	}
	return name
}
