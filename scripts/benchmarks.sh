#!/usr/bin/env bash
# Runs every benchmark of the SDK side by side and writes BENCHMARKS.md: per
# benchmark the medians of ns/op, B/op, allocs/op and its own metrics, and
# the ratios of medians it is judged by, with the machine named.
#
#   sign      the signer vs the official Huawei Go SDK signer, the lean
#             prototype and the hash floor (order-query GET, 1 KiB JSON POST)
#   handlers  each callback family (SaaS V2, SaaS V1, License 2.0,
#             orderNotify, kit V2, kit V1) vs a lean hand-written verifier
#             and a bare net/http handler, calls presigned, no network
#   order     QueryOrder vs a hand-written signed net/http call
#   usage     usage push at 10, 100 and 1,000 records a call (ns/record)
#   upload    streamed event-file upload of 32 MiB and 200 MiB (peak heap)
#   bound     newInstance with the replay cache and store at their default
#             bounds vs empty; the heap of the memory stores at their bounds
#   forged    forged calls of the largest accepted size vs a genuine call
#             of the same family (CPU time per call)
#   proof     the exactly-once proof across replicas (LOAD=1 only)
#   soak      the metering soak against PostgreSQL (LOAD=1 only)
#
# Rounds are interleaved: every round runs each benchmark once, so the
# machine's noise is spread over all of them alike; the test binaries are
# built once with go test -c.
#
# Usage: scripts/benchmarks.sh [BASE_REF]
#   BASE_REF      also build the benchmarks at this git ref (e.g. main) and
#                 interleave its rounds with the working tree's, to compare
#                 before and after in one run (adds a benchstat comparison)
# Environment:
#   COUNT=10      rounds
#   BENCHTIME=... per benchmark and round (default 300ms; uploads and heap
#                 measurements 1x)
#   ONLY=...      run only these groups (comma-separated, default all above)
#   REPORT=file   where the report goes (default BENCHMARKS.md; - is stdout)
#   CALLGRIND=1   also report instructions per operation from
#                 valgrind --tool=callgrind (deterministic: GOGC=off, no
#                 async preemption), where wall clock cannot decide
#   LOAD=1        also run the load runs (minutes each) and paste their
#                 reports; without it the report keeps their sections from
#                 the previous REPORT
#   PROOF_CMD, SOAK_CMD
#                 the load runs' commands (defaults below), run from the
#                 repository root with bash -c
#   OUT=dir       keep the raw outputs there (default: a temporary dir)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
count=${COUNT:-10}
benchtime=${BENCHTIME:-300ms}
out=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/benchmarks.XXXXXX")}
mkdir -p "$out"
report=${REPORT:-BENCHMARKS.md}
base=${1:-}
proof_cmd=${PROOF_CMD:-cd internal/proof && go run ./cmd/proof -full}
soak_cmd=${SOAK_CMD:-cd store/pgstore && go test -run TestUsageOutboxSoak -usage-soak-records 100000 -v .}
began=$(date +%s)

only=",${ONLY:-sign,handlers,order,usage,upload,bound,forged,proof,soak},"
want() { [[ $only == *",$1,"* ]]; }

# The benchmarks: group, test binary, -test.bench pattern, benchtime ("" for
# BENCHTIME).
benches=(
  "sign conformance ^BenchmarkSign$"
  "handlers saas ^Benchmark(NewInstance|V1)Presigned$"
  "handlers license ^BenchmarkLicensePresigned$"
  "handlers order ^BenchmarkNotificationPresigned$"
  "handlers kit ^BenchmarkKitPresigned$"
  "order order ^BenchmarkQueryOrder"
  "usage usage ^BenchmarkPushUsage"
  "upload license ^BenchmarkUploadFile$ 1x"
  "bound saas ^BenchmarkNewInstanceAtBound$"
  "bound callback ^BenchmarkReplayCacheAtBound$ 1x"
  "bound store ^BenchmarkMemoryAtBound$ 1x"
  "forged callback ^Benchmark(ForgedMaxSize|Genuine|GenuineMaxSize)$"
)

# pkg BINARY: the package (relative to the module root) a test binary is
# built from; an older tree may hold usage push in saas.
pkg() {
  case $1 in
  conformance) echo internal/conformance ;;
  usage) if [ -d "$2/saas/usage" ]; then echo ./saas/usage; else echo ./saas; fi ;;
  kit) echo ./saas/kit ;;
  callback) echo ./internal/callback ;;
  *) echo "./$1" ;;
  esac
}

# build DIR LABEL: the test binaries the wanted groups need, of one source
# tree. A package the tree lacks (an older BASE_REF) is left out.
build() {
  local dir=$1 label=$2 entry group bin built=,
  for entry in "${benches[@]}"; do
    read -r group bin _ <<<"$entry"
    want "$group" || continue
    [[ $built == *",$bin,"* ]] && continue
    built+="$bin,"
    if [ "$bin" = conformance ]; then
      (cd "$dir/internal/conformance" && go test -c -o "$out/$label-$bin.test" .) >&2
    else
      (cd "$dir" && go test -c -o "$out/$label-$bin.test" "$(pkg "$bin" "$dir")") >&2 ||
        echo "$label: no $bin benchmarks" >&2
    fi
  done
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

# One round: every benchmark of every build once.
round() {
  local label entry group bin pattern bt
  for label in "${labels[@]}"; do
    for entry in "${benches[@]}"; do
      read -r group bin pattern bt <<<"$entry"
      want "$group" && [ -x "$out/$label-$bin.test" ] || continue
      if ! "$out/$label-$bin.test" -test.run '^$' -test.bench "$pattern" -test.benchmem \
        -test.benchtime "${bt:-$benchtime}" >"$out/last.txt" 2>&1; then
        cat "$out/last.txt" >&2
        echo "$label-$bin.test -test.bench '$pattern' failed" >&2
        exit 1
      fi
      grep '^Benchmark' "$out/last.txt" | sed "s/^Benchmark/$label:Benchmark/" || true
    done
  done
  return 0
}

if want sign || want handlers || want order || want usage || want upload || want bound || want forged; then
  : >"$out/raw.txt"
  for i in $(seq "$count"); do
    echo "round $i/$count" >&2
    round >>"$out/raw.txt"
  done
else
  : >"$out/raw.txt"
fi

# medians FILE: one line per benchmark and unit, in order of appearance:
# name unit median runs spread% (half the range, relative to the median).
medians() {
  awk '
    /^Benchmark/ {
      name = $1; sub(/-[0-9]+$/, "", name)
      if (!(name in seen)) { seen[name] = 1; names[++nn] = name }
      for (i = 3; i < NF; i += 2) {
        u = $(i + 1); k = name SUBSEP u
        if (!(k in n)) { units[name] = units[name] " " u }
        v[k, ++n[k]] = $i
      }
    }
    END {
      for (x = 1; x <= nn; x++) {
        name = names[x]; m = split(substr(units[name], 2), us, " ")
        for (y = 1; y <= m; y++) {
          k = name SUBSEP us[y]; c = n[k]
          for (i = 1; i <= c; i++) a[i] = v[k, i] + 0
          for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
          med = c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
          printf "%s %s %s %d %.0f\n", name, us[y], sprintf(med >= 1000 ? "%.0f" : "%.4g", med), c, med ? (a[c] - a[1]) / 2 / med * 100 : 0
        }
      }
    }' "$1"
}
for label in "${labels[@]}"; do
  grep "^$label:Benchmark" "$out/raw.txt" | sed "s/^$label://" >"$out/$label.txt" || true
  medians "$out/$label.txt" >"$out/$label.med"
done

# prefix LABEL: how a build's rows are told apart when there are two.
prefix() { [ ${#labels[@]} -gt 1 ] && echo "$1: " || true; }

# table REGEX: the medians of the benchmarks whose names match, every build.
table() {
  local label
  echo "| benchmark | runs | ns/op | ± | B/op | allocs/op | other (medians) |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for label in "${labels[@]}"; do
    awk -v re="$1" -v pre="$(prefix "$label")" '
      $1 ~ re {
        name = $1; sub(/^Benchmark/, "", name)
        if (!(name in seen)) { seen[name] = 1; names[++nn] = name }
        if ($2 == "ns/op") { ns[name] = $3; runs[name] = $4; spread[name] = $5 }
        else if ($2 == "B/op") bytes[name] = $3
        else if ($2 == "allocs/op") allocs[name] = $3
        else if ($2 != "MB/s") other[name] = other[name] (other[name] == "" ? "" : ", ") $3 " " $2
      }
      END {
        for (i = 1; i <= nn; i++) {
          k = names[i]
          printf "| %s`%s` | %s | %s | %s%% | %s | %s | %s |\n", pre, k, runs[k], ns[k], spread[k], bytes[k], allocs[k], other[k]
        }
      }' "$out/$label.med"
  done
  echo
}

# ratios: reads "label|a|b|unit" lines (unit ns/op unless given) and prints
# the ratio of the medians of a and b, every build; pairs a build lacks are
# left out.
ratios() {
  local label rows
  rows=$(cat)
  echo "| ratio of medians | a | b | a / b |"
  echo "|---|---:|---:|---:|"
  for label in "${labels[@]}"; do
    awk -F'|' -v pre="$(prefix "$label")" '
      FILENAME == ARGV[1] { split($0, f, " "); med[f[1] SUBSEP f[2]] = f[3]; next }
      {
        u = $4 == "" ? "ns/op" : $4
        a = "Benchmark" $2; b = "Benchmark" $3
        if (!((a SUBSEP u) in med) || !((b SUBSEP u) in med) || med[b SUBSEP u] == 0) next
        printf "| %s%s | %s %s | %s %s | %.2f× |\n", pre, $1, med[a SUBSEP u], u, med[b SUBSEP u], u, med[a SUBSEP u] / med[b SUBSEP u]
      }' "$out/$label.med" - <<<"$rows"
  done
  echo
}

# The ratio rows that follow from the names: every handler family's
# handler/lean and handler/bare, and every forged call / the genuine call of
# its family.
family_ratios() {
  cat "$out"/*.med | awk '$2 == "ns/op" && !seen[$1]++ { print $1 }' | sed -n 's/^Benchmark\(.*\)\/variant=handler$/\1/p' |
    while read -r f; do
      echo "$f: handler / lean|$f/variant=handler|$f/variant=lean"
      echo "$f: handler / bare|$f/variant=handler|$f/variant=bare"
    done
}
forged_ratios() {
  cat "$out"/*.med | awk '$2 == "cpu-ms/op" && !seen[$1]++ { print $1 }' | sed -n 's/^BenchmarkForgedMaxSize\/\(\([^/]*\)\/.*\)$/\1 \2/p' |
    while read -r forged family; do
      echo "forged $forged / genuine $family (CPU)|ForgedMaxSize/$forged|Genuine/$family|cpu-ms/op"
      echo "forged $forged / genuine, same body (CPU)|ForgedMaxSize/$forged|GenuineMaxSize/$forged|cpu-ms/op"
    done
}

# load NAME TITLE COMMAND: a load run's section, run with LOAD=1, else kept
# from the previous report (between its markers).
load() {
  local name=$1 title=$2 cmd=$3 status=0
  echo "<!-- load:$name -->"
  if [ "${LOAD:-0}" = 1 ]; then
    echo "running the $name load run: $cmd" >&2
    (cd "$root" && bash -c "$cmd") >"$out/$name.txt" 2>&1 || status=$?
    echo "## $title"
    echo
    echo "Run $(date -u +%Y-%m-%d) on $machine; exit status $status:"
    echo
    echo '```'
    echo "$cmd"
    echo '```'
    echo
    echo '```'
    cat "$out/$name.txt"
    echo '```'
  elif [ -f "$previous" ] && grep -q "^<!-- load:$name -->$" "$previous"; then
    awk -v start="<!-- load:$name -->" -v end="<!-- /load:$name -->" '
      $0 == end { on = 0 } on { print } $0 == start { on = 1 }' "$previous"
    echo "<!-- /load:$name -->"
    return
  else
    echo "## $title"
    echo
    echo "Not run yet: \`LOAD=1 scripts/benchmarks.sh\` runs it (minutes):"
    echo
    echo '```'
    echo "$cmd"
    echo '```'
  fi
  echo "<!-- /load:$name -->"
}

# ir BINARY BENCH N: instructions per op, from runs of N and 2N ops ("n/a"
# when the build has no such benchmark).
ir() {
  local a b
  a=$(GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" -test.run '^$' -test.bench "$2" -test.benchtime "${3}x" -test.cpu 1 2>&1 | awk '/Collected/ {print $4}')
  b=$(GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" -test.run '^$' -test.bench "$2" -test.benchtime "$((2 * $3))x" -test.cpu 1 2>&1 | awk '/Collected/ {print $4}')
  # A benchmark the build lacks runs nothing: both counts are the same.
  if [ -z "$a" ] || [ -z "$b" ] || [ $(((b - a) / $3)) -lt 1000 ]; then echo n/a; else echo $(((b - a) / $3)); fi
}
callgrind() {
  local label bench
  command -v valgrind >/dev/null || { echo "CALLGRIND=1 needs valgrind" >&2; exit 1; }
  echo "## Instructions per operation"
  echo
  echo "From \`valgrind --tool=callgrind\` (GOGC=off, no async preemption; valgrind hides SHA-NI, so SHA-256 runs in"
  echo "software here): deterministic where wall clock cannot tell two cases apart."
  echo
  echo '```'
  for label in "${labels[@]}"; do
    if want sign && [ -x "$out/$label-conformance.test" ]; then
      for bench in 'Sign/GET/ours$' 'Sign/GET/lean$' 'Sign/GET/hash-floor$' 'Sign/POST1KiB/ours$' 'Sign/POST1KiB/lean$' 'Sign/POST1KiB/hash-floor$'; do
        printf "%-5s %-45s %10s\n" "$label" "$bench" "$(ir "$out/$label-conformance.test" "$bench" 20000)"
      done
    fi
    if want order && [ -x "$out/$label-order.test" ]; then
      for bench in 'QueryOrder$/sdk$' 'QueryOrder$/hand-written$' 'QueryOrder$/hand-written-same-wire$' 'QueryOrderNoNetwork/sdk$' 'QueryOrderNoNetwork/hand-written$'; do
        printf "%-5s %-45s %10s\n" "$label" "$bench" "$(ir "$out/$label-order.test" "$bench" 2000)"
      done
    fi
    if want handlers && [ -x "$out/$label-saas.test" ]; then
      for bench in 'NewInstancePresigned/variant=handler$' 'NewInstancePresigned/variant=lean$'; do
        printf "%-5s %-45s %10s\n" "$label" "$bench" "$(ir "$out/$label-saas.test" "$bench" 1000)"
      done
    fi
  done
  echo '```'
  echo
}

machine="$(uname -srm), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(go version | sed 's/^go version //')"
previous=$report
[ "$report" = - ] && previous=BENCHMARKS.md
took=$(($(date +%s) - began))

generate() {
  echo "# Benchmarks"
  echo
  echo "Generated by \`scripts/benchmarks.sh\` (${ONLY:+ONLY=$ONLY }COUNT=$count BENCHTIME=$benchtime${base:+, against $base}); regenerate it"
  echo "with \`COUNT=6 scripts/benchmarks.sh\`, and with \`LOAD=1\` to rerun the load runs too."
  echo "Every round runs each benchmark once, so the machine's noise spreads over all of them alike; each number is the"
  echo "median of the rounds (± is half their range), and each ratio is a ratio of medians. Compare numbers within one"
  echo "run only: wall-clock noise on a shared 2-core machine is 20–50 %."
  echo
  echo "Machine: $machine; run $(date -u +%Y-%m-%dT%H:%MZ), the benchmarks took ${took} s."
  echo
  if want sign; then
    echo "## Signer"
    echo
    echo "\`SDK-HMAC-SHA256\` signing of the order-query GET and a 1 KiB JSON POST: ours, the official Huawei Go SDK"
    echo "signer, the lean prototype (the work any such signature must do) and the hash floor (SHA-256 of the canonical"
    echo "request and the HMAC chain). \`internal/conformance\` \`BenchmarkSign\`."
    echo
    table '^BenchmarkSign/'
    ratios <<'EOF'
sign GET: ours / hash floor|Sign/GET/ours|Sign/GET/hash-floor
sign GET: lean prototype / hash floor|Sign/GET/lean|Sign/GET/hash-floor
sign GET: ours / lean prototype|Sign/GET/ours|Sign/GET/lean
sign GET: official / ours|Sign/GET/official|Sign/GET/ours
sign 1 KiB POST: ours / hash floor|Sign/POST1KiB/ours|Sign/POST1KiB/hash-floor
sign 1 KiB POST: lean prototype / hash floor|Sign/POST1KiB/lean|Sign/POST1KiB/hash-floor
sign 1 KiB POST: ours / lean prototype|Sign/POST1KiB/ours|Sign/POST1KiB/lean
sign 1 KiB POST: official / ours|Sign/POST1KiB/official|Sign/POST1KiB/ours
EOF
  fi
  if want handlers; then
    echo "## Callback handlers"
    echo
    echo "One genuine call per operation, signed beforehand with \`koogallerytest\`'s senders and served without a network:"
    echo "the SDK's handler (default replay cache and store; a fresh handler per round of 4,096 calls, outside the timer),"
    echo "a lean verifier written by hand for the scheme (signature and window only, pooled HMAC, \`encoding/json\`, the"
    echo "answer; \`internal/benchtest\`) and a bare \`net/http\` handler that reads the body and answers. Calls: SaaS V2"
    echo "\`newInstance\` (\`saas\`, plus a naive hand-written verifier), SaaS V1 \`newInstance\` (\`saas\`), License 2.0"
    echo "\`refreshLicenseCode\` (\`license\`), \`orderNotify\` (\`order\`), kit \`tenantSync\` V2 and V1 (\`saas/kit\`)."
    echo
    table 'Presigned/'
    family_ratios | ratios
  fi
  if want order; then
    echo "## QueryOrder"
    echo
    echo "\`order.Client.QueryOrder\` vs a hand-written signed \`net/http\` call, over loopback and over an in-memory"
    echo "transport. \`order\` \`BenchmarkQueryOrder*\`."
    echo
    table '^BenchmarkQueryOrder'
    ratios <<'EOF'
QueryOrder loopback: sdk / hand-written|QueryOrder/sdk|QueryOrder/hand-written
QueryOrder loopback: sdk / hand-written, same wire|QueryOrder/sdk|QueryOrder/hand-written-same-wire
QueryOrder no network: sdk / hand-written|QueryOrderNoNetwork/sdk|QueryOrderNoNetwork/hand-written
EOF
  fi
  if want usage; then
    echo "## Usage push"
    echo
    echo "One push of 10, 100 and 1,000 records against the \`koogallerytest\` fake (validation, encoding, body signature,"
    echo "AK/SK, HTTP, the fake's own checks); ns/record is the cost per record. \`saas/usage\` \`BenchmarkPushUsage\`."
    echo
    table '^BenchmarkPushUsage'
    ratios <<'EOF'
per record: 10 records / 1,000 records|PushUsage/records=10|PushUsage/records=1000|ns/record
per record: 100 records / 1,000 records|PushUsage/records=100|PushUsage/records=1000|ns/record
EOF
  fi
  if want upload; then
    echo "## Streamed upload"
    echo
    echo "Event-file upload of 32 MiB and 200 MiB to the fake, one per round (-benchtime 1x); peak-heap-MiB is the peak"
    echo "growth of the heap while the file streams. \`license\` \`BenchmarkUploadFile\`."
    echo
    table '^BenchmarkUploadFile'
  fi
  if want bound; then
    echo "## Caches and store at their bounds"
    echo
    echo "SaaS V2 \`newInstance\` through \`saas.NewHandler\` whose replay cache (\`store.NewMemoryReplayCache\`, 65,536) and"
    echo "store (\`store.NewMemory\`, 100,000) start empty, or filled outside the timer to their bounds less the 4,096 calls"
    echo "of a round (so a round ends exactly at the bounds, none refused). \`saas\` \`BenchmarkNewInstanceAtBound\`. Then"
    echo "the heap the memory stores hold at their default bounds (-benchtime 1x): \`internal/callback\`"
    echo "\`BenchmarkReplayCacheAtBound\`, \`store\` \`BenchmarkMemoryAtBound\`."
    echo
    table '^Benchmark(NewInstanceAtBound|ReplayCacheAtBound|MemoryAtBound)'
    ratios <<'EOF'
newInstance: caches full / empty|NewInstanceAtBound/caches=full|NewInstanceAtBound/caches=empty
EOF
  fi
  if want forged; then
    echo "## Forged calls of the largest accepted size"
    echo
    echo "What an unauthenticated caller can make a handler spend: a forged call of each scheme's largest accepted body"
    echo "(or V1 query), built for the most work (many members; every canonical form different), next to a genuine call of"
    echo "the same scheme of the size KooGallery sends, and next to a genuine call with the very body forged (signed as"
    echo "Huawei's demo signs it: over its Jackson form, or its raw bytes when it has too many members for any other;"
    echo "none for the V1 shapes of too many members, which are refused before any signature is computed), through the"
    echo "same \`internal/callback\` handler; cpu-ms/op is the process's CPU time per call. \`BenchmarkForgedMaxSize\`,"
    echo "\`BenchmarkGenuine\`, \`BenchmarkGenuineMaxSize\`."
    echo
    table '^Benchmark(ForgedMaxSize|Genuine|GenuineMaxSize)/'
    forged_ratios | ratios
  fi
  if [ -n "$base" ] && [ -s "$out/base.txt" ]; then
    echo "## $base vs the working tree"
    echo
    echo '```'
    benchstat base="$out/base.txt" new="$out/new.txt" 2>&1
    echo '```'
    echo
  fi
  if [ "${CALLGRIND:-0}" = 1 ]; then
    callgrind
  fi
  if want proof; then
    load proof "Exactly-once across replicas" "$proof_cmd"
    echo
  fi
  if want soak; then
    load soak "Metering soak" "$soak_cmd"
    echo
  fi
}

benchstat() {
  if type -P benchstat >/dev/null; then command benchstat "$@"
  else go run golang.org/x/perf/cmd/benchstat@latest "$@"; fi
}

if [ "$report" = - ]; then
  generate
else
  generate >"$out/report.md"
  mv "$out/report.md" "$report"
  echo "wrote $report ($(($(date +%s) - began)) s); raw outputs: $out" >&2
fi
