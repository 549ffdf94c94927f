#!/bin/sh
# Runs the benchmark suite against gorilla/securecookie and gorilla/sessions,
# saves the raw results, and prints benchstat tables that put the libraries
# side by side.
#
#	./run.sh [results-file]
#
# Environment: COUNT (default 10) runs of each benchmark; BENCHTIME
# (default: go test's, 1s); BENCH (default .) selects benchmarks; SKIP_RUN=1
# only prints the tables of an existing results file.
# Run it on a quiet machine: the targets are ratios within one run, but
# noise from other processes widens every interval.
set -eu

cd "$(dirname "$0")"
out=${1:-results.txt}
count=${COUNT:-10}

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
	set -- go test -run '^$' -bench "${BENCH:-.}" -benchmem -count "$count" -timeout 0
	[ -z "${BENCHTIME:-}" ] || set -- "$@" -benchtime "$BENCHTIME"
	echo "$* > $out" >&2
	"$@" >"$out.tmp"
	mv "$out.tmp" "$out"
fi

table() {
	printf '\n## %s\n\n' "$1"
	shift
	"$benchstat" "$@" "$out"
}

# Columns are libraries: the first named one is the baseline that the
# others' deltas are against.
table 'Codec: cookiesession vs gorilla/securecookie (baseline: securecookie-json)' \
	-filter '.name:Codec' \
	-col '/lib@(securecookie-json securecookie-gob cookiesession cookiesession-eager codec)'
table 'Codec: the floor (baseline: raw XChaCha20-Poly1305 + base64url)' \
	-filter '.name:Codec' \
	-col '/lib@(floor codec-raw codec cookiesession)'
table 'Requests: cookiesession middleware vs gorilla/sessions by hand (baseline: gorilla)' \
	-filter '.name:Middleware' \
	-col '/lib@(gorilla cookiesession)'
table 'Overhead of the middleware on a request that does not use the session' \
	-filter '.name:Overhead' \
	-col '/handler@(bare middleware)'
