#!/bin/sh
# Runs the benchmark suite against gorilla/securecookie, gorilla/sessions,
# golang-jwt/jwt and go-jose JWE, saves the raw results, and prints every
# table of BENCHMARKS.md: benchstat tables that put the libraries side by
# side, then the targets of issue 12 with the ratios of this run.
#
#	./run.sh [results-file]
#
# Environment: COUNT (default 10) rounds; BENCHTIME (default 300ms) per
# benchmark and round; BENCH (default .) selects benchmarks; SKIP_RUN=1
# only prints the tables of an existing results file.
#
# The rounds are interleaved: each round runs every benchmark once, so that
# a burst of load from another process spreads over all the columns instead
# of landing on one library's ten runs. benchstat reads the result as ten
# runs of each benchmark. Run it on a quiet machine all the same: the
# targets are ratios within one run, but noise widens every interval.
# The whole suite takes 8 to 10 minutes on 2 cores.
set -eu

cd "$(dirname "$0")"
out=${1:-results.txt}
count=${COUNT:-10}
benchtime=${BENCHTIME:-300ms}

# benchstat, installed into GOBIN (or GOPATH/bin) if it is not on PATH.
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
if command -v benchstat >/dev/null 2>&1; then
	benchstat=benchstat
elif [ -x "$gobin/benchstat" ]; then
	benchstat=$gobin/benchstat
else
	echo "installing benchstat into $gobin" >&2
	GOBIN=$gobin go install golang.org/x/perf/cmd/benchstat@latest
	benchstat=$gobin/benchstat
fi

if [ -z "${SKIP_RUN:-}" ]; then
	bin=$(mktemp -d)
	trap 'rm -rf "$bin"' EXIT
	go test -c -o "$bin/bench.test" .
	echo "$count rounds of: go test -run '^\$' -bench '${BENCH:-.}' -benchmem -benchtime $benchtime > $out" >&2
	: >"$out.tmp"
	i=1
	while [ "$i" -le "$count" ]; do
		echo "round $i of $count" >&2
		"$bin/bench.test" -test.run '^$' -test.bench "${BENCH:-.}" -test.benchmem \
			-test.benchtime "$benchtime" -test.count 1 -test.timeout 0 >>"$out.tmp"
		i=$((i + 1))
	done
	mv "$out.tmp" "$out"
fi

table() {
	printf '\n## %s\n\n' "$1"
	shift
	"$benchstat" "$@" "$out"
}

# Columns are libraries: the first named one is the baseline that the
# others' deltas are against. Each table shows the units that matter to it.
table 'Codec: cookiesession vs gorilla/securecookie (baseline: securecookie-json)' \
	-filter '.name:Codec .unit:(sec/op OR wire-bytes OR B/op OR allocs/op)' \
	-col '/lib@(securecookie-json securecookie-gob cookiesession cookiesession-typed cookiesession-eager codec)'
table 'Codec: cookiesession vs the token libraries (baseline: cookiesession)' \
	-filter '.name:Codec .unit:(sec/op OR wire-bytes OR allocs/op)' \
	-col '/lib@(cookiesession cookiesession-typed jwt jwt-struct jwe jwe-struct)'
table 'Codec: the floor (baseline: raw XChaCha20-Poly1305 + base64url)' \
	-filter '.name:Codec .unit:(sec/op OR allocs/op)' \
	-col '/lib@(floor codec-raw codec cookiesession)'
table 'Requests: cookiesession middleware vs gorilla/sessions by hand and JWT/JWE behind a small middleware (baseline: gorilla)' \
	-filter '.name:Middleware .unit:(sec/op OR wire-bytes OR allocs/op)' \
	-col '/lib@(gorilla cookiesession jwt jwe)'
table 'Overhead of the middleware on a request that does not use the session' \
	-filter '.name:Overhead' \
	-col '/handler@(bare middleware)'

printf '\n## Targets (issue 12)\n\n'
go run ./targets "$out"
