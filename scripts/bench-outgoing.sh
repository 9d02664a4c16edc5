#!/usr/bin/env bash
# Reruns the benchmarks of the outgoing direction (seller -> KooGallery open
# APIs) side by side and prints medians and the ratios they are judged by:
#
#   signer          ours vs the official Huawei Go SDK signer, the lean
#                   prototype (the work any signature must do) and the hash
#                   floor, for the order-query GET and a 1 KiB JSON POST
#   QueryOrder      the SDK vs a hand-written signed net/http call, over
#                   loopback and over an in-memory transport
#   upload          streamed event-file upload of 32 MiB and 200 MiB: time
#                   and peak heap growth
#   usage push      1,000 records per call
#
# Usage: scripts/bench-outgoing.sh [BASE_REF]
#   BASE_REF        also build the benchmarks at this git ref (e.g. main) and
#                   interleave its rounds with the working tree's, to compare
#                   before and after in one run
# Environment:
#   COUNT=10        rounds; every round runs each benchmark once, so the
#                   machine's noise is spread over all of them alike
#   BENCHTIME=...   per benchmark and round (default 300ms; uploads 1x)
#   CALLGRIND=1     also print instructions per operation from
#                   valgrind --tool=callgrind (deterministic: GOGC=off, no
#                   async preemption), where wall clock cannot decide
#   OUT=dir         keep the raw outputs there (default: a temporary dir)
#   ONLY=sign,order,usage,upload
#                   run only these groups (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
count=${COUNT:-10}
benchtime=${BENCHTIME:-300ms}
out=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bench-outgoing.XXXXXX")}
mkdir -p "$out"
base=${1:-}

benchstat() {
  if command -v benchstat >/dev/null; then command benchstat "$@"
  else go run golang.org/x/perf/cmd/benchstat@latest "$@"; fi
}

# build DIR LABEL: the test binaries of one source tree.
build() {
  local dir=$1 label=$2
  (cd "$dir/internal/conformance" && go test -c -o "$out/$label-conformance.test" .) >&2
  (cd "$dir" && go test -c -o "$out/$label-order.test" ./order) >&2
  (cd "$dir" && go test -c -o "$out/$label-license.test" ./license) >&2
  local usage=./saas/usage
  [ -d "$dir/saas/usage" ] || usage=./saas
  (cd "$dir" && go test -c -o "$out/$label-usage.test" "$usage") >&2
}

labels=(new)
build "$root" new
if [ -n "$base" ]; then
  src="$out/base-src"
  rm -rf "$src" && mkdir -p "$src"
  git archive "$base" | tar -x -C "$src"
  build "$src" base
  labels=(base new)
fi

only=",${ONLY:-sign,order,usage,upload},"
want() { [[ $only == *",$1,"* ]]; }

# One round: every benchmark of every build once.
round() {
  local label
  for label in "${labels[@]}"; do
    want sign && "$out/$label-conformance.test" -test.run '^$' -test.bench '^BenchmarkSign$' -test.benchmem -test.benchtime "$benchtime" | sed "s/^Benchmark/$label:Benchmark/"
    want order && "$out/$label-order.test" -test.run '^$' -test.bench '^BenchmarkQueryOrder' -test.benchmem -test.benchtime "$benchtime" | sed "s/^Benchmark/$label:Benchmark/"
    want usage && "$out/$label-usage.test" -test.run '^$' -test.bench '^BenchmarkPushUsage1000$' -test.benchmem -test.benchtime "$benchtime" | sed "s/^Benchmark/$label:Benchmark/"
    want upload && "$out/$label-license.test" -test.run '^$' -test.bench '^BenchmarkUploadFile$' -test.benchmem -test.benchtime 1x | sed "s/^Benchmark/$label:Benchmark/"
  done
  return 0
}

{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version)"
  echo "# $(uname -srm), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
} | tee "$out/machine.txt"
: > "$out/raw.txt"
for i in $(seq "$count"); do
  echo "round $i/$count" >&2
  round >> "$out/raw.txt"
done

# benchstat wants one configuration per file.
for label in "${labels[@]}"; do
  grep "^$label:Benchmark" "$out/raw.txt" | sed "s/^$label://" > "$out/$label.txt" || true
done
echo
if [ -n "$base" ]; then
  benchstat base="$out/base.txt" new="$out/new.txt"
else
  benchstat new="$out/new.txt"
fi

# Ratios of medians, within each build.
ratios() {
  awk '
    /^Benchmark/ {
      name = $1; sub(/-[0-9]+$/, "", name)
      for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") { n[name]++; v[name, n[name]] = $i }
    }
    function median(k,   m, i, j, t, a) {
      m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, i]
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    function show(label, a, b) {
      if (!(a in n) || !(b in n)) return
      printf "  %-58s %10.0f / %10.0f ns = %.2fx\n", label, median(a), median(b), median(a) / median(b)
    }
    END {
      show("sign GET: ours / hash floor", "BenchmarkSign/GET/ours", "BenchmarkSign/GET/hash-floor")
      show("sign GET: lean prototype / hash floor", "BenchmarkSign/GET/lean", "BenchmarkSign/GET/hash-floor")
      show("sign GET: ours / lean prototype", "BenchmarkSign/GET/ours", "BenchmarkSign/GET/lean")
      show("sign GET: official / ours", "BenchmarkSign/GET/official", "BenchmarkSign/GET/ours")
      show("sign 1 KiB POST: ours / hash floor", "BenchmarkSign/POST1KiB/ours", "BenchmarkSign/POST1KiB/hash-floor")
      show("sign 1 KiB POST: lean prototype / hash floor", "BenchmarkSign/POST1KiB/lean", "BenchmarkSign/POST1KiB/hash-floor")
      show("sign 1 KiB POST: ours / lean prototype", "BenchmarkSign/POST1KiB/ours", "BenchmarkSign/POST1KiB/lean")
      show("sign 1 KiB POST: official / ours", "BenchmarkSign/POST1KiB/official", "BenchmarkSign/POST1KiB/ours")
      show("QueryOrder loopback: sdk / hand-written", "BenchmarkQueryOrder/sdk", "BenchmarkQueryOrder/hand-written")
      show("QueryOrder loopback: sdk / hand-written, same wire", "BenchmarkQueryOrder/sdk", "BenchmarkQueryOrder/hand-written-same-wire")
      show("QueryOrder no network: sdk / hand-written", "BenchmarkQueryOrderNoNetwork/sdk", "BenchmarkQueryOrderNoNetwork/hand-written")
    }' "$1"
}
for label in "${labels[@]}"; do
  echo
  echo "ratios of medians ($label):"
  ratios "$out/$label.txt"
done

if [ "${CALLGRIND:-0}" = 1 ]; then
  command -v valgrind >/dev/null || { echo "CALLGRIND=1 needs valgrind" >&2; exit 1; }
  # ir BINARY BENCH N: instructions per op, from runs of N and 2N ops
  # ("n/a" when the build has no such benchmark).
  ir() {
    local a b
    a=$(GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" -test.run '^$' -test.bench "$2" -test.benchtime "${3}x" -test.cpu 1 2>&1 | awk '/Collected/ {print $4}')
    b=$(GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" -test.run '^$' -test.bench "$2" -test.benchtime "$((2 * $3))x" -test.cpu 1 2>&1 | awk '/Collected/ {print $4}')
    # A benchmark the build lacks runs nothing: both counts are the same.
    if [ -z "$a" ] || [ -z "$b" ] || [ $(( (b - a) / $3 )) -lt 1000 ]; then echo n/a; else echo $(( (b - a) / $3 )); fi
  }
  echo
  echo "instructions per op (callgrind; valgrind hides SHA-NI, so SHA-256 runs in software here):"
  for label in "${labels[@]}"; do
    for bench in 'Sign/GET/ours$' 'Sign/GET/lean$' 'Sign/GET/hash-floor$' 'Sign/POST1KiB/ours$' 'Sign/POST1KiB/lean$' 'Sign/POST1KiB/hash-floor$'; do
      printf "  %-5s %-40s %10s\n" "$label" "$bench" "$(ir "$out/$label-conformance.test" "$bench" 20000)"
    done
    for bench in 'QueryOrder$/sdk$' 'QueryOrder$/hand-written$' 'QueryOrder$/hand-written-same-wire$' 'QueryOrderNoNetwork/sdk$' 'QueryOrderNoNetwork/hand-written$'; do
      printf "  %-5s %-40s %10s\n" "$label" "$bench" "$(ir "$out/$label-order.test" "$bench" 2000)"
    done
  done
fi
echo
echo "raw outputs: $out"
