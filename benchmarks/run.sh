#!/usr/bin/env bash
# logloom throughput benchmark.
#
#   benchmarks/run.sh [BUILD_DIR] [LINES] [RUNS]     (defaults: build 2000000 5)
#
# Measures, interleaved round-robin so machine noise hits every command
# alike, on one page-cache-warm corpus:
#   cat            cat FILE > /dev/null                 (read ceiling)
#   decode-only    ll-decode-only FILE                  (yajl parse ceiling)
#   decode-scan    ll-decode-only --scan FILE           (the same through
#                  logloom's line scanner, yajl only for what it leaves:
#                  the ceiling of logloom's own decoder)
#   replay         logloom replay --threads 1 --format jsonl FILE  (one thread)
#   replay-mt      logloom replay --threads NCPU ...    (all cores; output
#                  checked to be identical to replay's, byte for byte)
#   replay-gz      logloom replay --threads NCPU --format jsonl FILE.gz
# and counts the allocations (malloc, calloc, realloc) of one single-thread
# replay per line, with libll-alloc-count.so preloaded.
#   jq             jq -c 'select(.err)' FILE            (a peer, when installed)
#   syslog-ng      json-parser, and json-parser + grouping-by on the
#   syslog-ng-group  correlation id (peers, when syslog-ng is installed;
#                  see syslog_ng.sh)
# and reports median/min/max wall time, lines/s, MB/s (1 MB = 10^6 bytes
# of uncompressed JSONL), peak RSS where GNU time is available, and the
# ratios replay : decode-only : cat.
#
# Environment:
#   LL_BENCH_CORPUS=FILE  use this (uncompressed) JSONL file instead of
#                         generating one; LINES is then ignored, and
#                         FILE.gz is reused for replay-gz if it exists
#   LL_BENCH_GZ=0         skip the gzip variant
#   LL_BENCH_SEED=S       generator seed (default 1)
#   LL_BENCH_PEERS=0      skip the peers (jq, syslog-ng)
#   LL_BENCH_BASELINE=DIR also time DIR/logloom (an earlier build, say
#                         the last release's) as replay-base, in the same
#                         rounds, and print replay : replay-base
#   LL_BENCH_PROFILE=1    also record one replay with perf and print where
#                         its time goes (self time per function)
set -euo pipefail

ll_usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

ll_die() {
    printf 'run.sh: %s\n' "$*" >&2
    exit 1
}

case "${1:-}" in
-h | --help)
    ll_usage
    exit 0
    ;;
esac

BUILD_DIR=${1:-build}
LINES=${2:-2000000}
RUNS=${3:-5}
[[ $LINES =~ ^[0-9]+$ && $LINES -gt 0 ]] || ll_die "LINES must be a positive integer, got '$LINES'"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -gt 0 ]] || ll_die "RUNS must be a positive integer, got '$RUNS'"

GEN=$BUILD_DIR/benchmarks/ll-gen-corpus
DEC=$BUILD_DIR/benchmarks/ll-decode-only
LOGLOOM=$BUILD_DIR/logloom
for bin in "$GEN" "$DEC"; do
    [[ -x $bin ]] || ll_die "$bin not found; build first:
    cmake -S . -B $BUILD_DIR -DCMAKE_BUILD_TYPE=Release && cmake --build $BUILD_DIR"
done

WORK=$(mktemp -d -t ll-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# --- timing helpers ---------------------------------------------------

# Microseconds since the epoch; EPOCHREALTIME (bash >= 5) avoids a fork.
ll_now_us() {
    if [[ -n ${EPOCHREALTIME:-} ]]; then
        echo "${EPOCHREALTIME//[!0-9]/}"
    else
        echo $(($(date +%s%N) / 1000))
    fi
}

# GNU time, if present, gives peak RSS (%M, KiB). `type -P` finds the
# binary on PATH, not the shell keyword.
TIME_BIN=$(type -P time || true)
if [[ -n $TIME_BIN ]] && ! "$TIME_BIN" -f '%M' -o /dev/null true 2>/dev/null; then
    TIME_BIN= # not GNU time
fi

# --- corpus -------------------------------------------------------------

if [[ -n ${LL_BENCH_CORPUS:-} ]]; then
    CORPUS=$LL_BENCH_CORPUS
    [[ -r $CORPUS ]] || ll_die "LL_BENCH_CORPUS=$CORPUS is not readable"
    echo "corpus: reusing $CORPUS"
else
    CORPUS=$WORK/corpus.jsonl
    echo "corpus: generating $LINES lines (seed ${LL_BENCH_SEED:-1}) ..."
    t0=$(ll_now_us)
    "$GEN" --lines "$LINES" --seed "${LL_BENCH_SEED:-1}" --out "$CORPUS" 2>"$WORK/gen.err" ||
        { cat "$WORK/gen.err" >&2; ll_die "corpus generation failed"; }
    t1=$(ll_now_us)
    awk -v us=$((t1 - t0)) 'BEGIN { printf "corpus: generated in %.2f s\n", us / 1e6 }'
fi
BYTES=$(wc -c <"$CORPUS")
NLINES=$(wc -l <"$CORPUS")
BYTES=${BYTES//[!0-9]/}
NLINES=${NLINES//[!0-9]/}
[[ $NLINES -gt 0 ]] || ll_die "corpus $CORPUS has no lines"
awk -v b="$BYTES" -v n="$NLINES" 'BEGIN {
    printf "corpus: %d lines, %.1f MB, %.0f bytes/line\n", n, b / 1e6, b / n }'

HAVE_LOGLOOM=0
if [[ -x $LOGLOOM ]]; then
    HAVE_LOGLOOM=1
else
    echo
    echo "NOTE: $LOGLOOM does not exist (not built yet?): replay is NOT measured;"
    echo "      measuring cat and decode-only only."
fi

GZ=
if [[ $HAVE_LOGLOOM == 1 && ${LL_BENCH_GZ:-1} != 0 ]]; then
    if [[ -n ${LL_BENCH_CORPUS:-} && -r $CORPUS.gz ]]; then
        GZ=$CORPUS.gz
    elif command -v gzip >/dev/null; then
        GZ=$WORK/corpus.jsonl.gz
        gzip -1 -c "$CORPUS" >"$GZ"
    fi
    [[ -z $GZ ]] || awk -v b="$(wc -c <"$GZ")" 'BEGIN {
        printf "corpus: gzip copy %.1f MB\n", b / 1e6 }'
fi

# --- commands -----------------------------------------------------------

NAMES=(cat decode-only decode-scan)
[[ $HAVE_LOGLOOM == 0 ]] || NAMES+=(replay replay-mt)
BASE=${LL_BENCH_BASELINE:+$LL_BENCH_BASELINE/logloom}
if [[ -n $BASE ]]; then
    [[ -x $BASE ]] || ll_die "LL_BENCH_BASELINE: $BASE not found"
    NAMES+=(replay-base)
fi
[[ -z $GZ ]] || NAMES+=(replay-gz)
# A peer on the same file: jq parses every line and selects the errors.
[[ ${LL_BENCH_PEERS:-1} == 0 ]] || ! command -v jq >/dev/null || NAMES+=(jq)
# syslog-ng (Debian's syslog-ng-core): json-parser, then with grouping-by.
if [[ ${LL_BENCH_PEERS:-1} != 0 ]] && command -v syslog-ng >/dev/null; then
    NAMES+=(syslog-ng syslog-ng-group)
fi
SNG=$(dirname "$0")/syslog_ng.sh

NCPU=$(nproc 2>/dev/null || echo 1)

# ll_argv NAME: sets ARGV (the command) and OUT (where its stdout goes).
# decode-only's one-line summary is kept to check the corpus parsed.
ll_argv() {
    OUT=/dev/null
    case $1 in
    cat) ARGV=(cat "$CORPUS") ;;
    decode-only) ARGV=("$DEC" "$CORPUS") OUT=$WORK/decode.out ;;
    decode-scan) ARGV=("$DEC" --scan "$CORPUS") ;;
    replay) ARGV=("$LOGLOOM" replay --threads 1 --format jsonl "$CORPUS") ;;
    replay-mt) ARGV=("$LOGLOOM" replay --threads "$NCPU" --format jsonl "$CORPUS") ;;
    replay-base) ARGV=("$BASE" replay --threads 1 --format jsonl "$CORPUS") ;;
    replay-gz) ARGV=("$LOGLOOM" replay --threads "$NCPU" --format jsonl "$GZ") ;;
    jq) ARGV=(jq -c 'select(.err)' "$CORPUS") ;;
    syslog-ng) ARGV=("$SNG" parse "$CORPUS" "$NLINES") ;;
    syslog-ng-group) ARGV=("$SNG" group "$CORPUS" "$NLINES") ;;
    *) ll_die "unknown command $1" ;;
    esac
}

# ll_warmup NAME: one untimed run; records peak RSS when GNU time exists.
# The replays' output is kept (its checksum) for the check below.
ll_warmup() {
    local name=$1
    ll_argv "$name"
    [[ $name != replay && $name != replay-mt ]] || OUT=$WORK/$name.out
    if [[ -n $TIME_BIN ]]; then
        "$TIME_BIN" -f '%M' -o "$WORK/$name.rss" "${ARGV[@]}" >"$OUT" 2>"$WORK/$name.err"
    else
        "${ARGV[@]}" >"$OUT" 2>"$WORK/$name.err"
    fi
}

# ll_measure NAME: appends the wall time of one run, in microseconds.
ll_measure() {
    local name=$1 t0 t1 rc=0
    ll_argv "$name"
    t0=$(ll_now_us)
    "${ARGV[@]}" >"$OUT" 2>"$WORK/$name.err" || rc=$?
    t1=$(ll_now_us)
    if [[ $rc != 0 ]]; then
        echo "run.sh: '$name' failed (exit $rc):" >&2
        tail -n 5 "$WORK/$name.err" >&2
        return 1
    fi
    echo $((t1 - t0)) >>"$WORK/$name.times"
}

# --- warm-up, then interleaved timed runs --------------------------------

echo "warm-up: page cache + one untimed run of each command${TIME_BIN:+ (peak RSS via GNU time)}"
cat "$CORPUS" >/dev/null
[[ -z $GZ ]] || cat "$GZ" >/dev/null
ACTIVE=()
for name in "${NAMES[@]}"; do
    if ll_warmup "$name"; then
        ACTIVE+=("$name")
    else
        echo "run.sh: '$name' failed in warm-up; not measured:" >&2
        tail -n 5 "$WORK/$name.err" >&2
    fi
done
[[ ${#ACTIVE[@]} -gt 0 ]] || ll_die "nothing left to measure"
echo "decode-only: $(cat "$WORK/decode.out")"
# One thread and all cores must have printed the same, byte for byte.
if [[ " ${ACTIVE[*]} " == *" replay-mt "* && " ${ACTIVE[*]} " == *" replay "* ]]; then
    cmp -s "$WORK/replay.out" "$WORK/replay-mt.out" ||
        ll_die "replay --threads $NCPU printed something else than --threads 1"
    echo "replay-mt: output identical to replay's ($(cksum <"$WORK/replay.out" | cut -d' ' -f1,2))"
fi
rm -f "$WORK/replay.out" "$WORK/replay-mt.out"
if ! grep -q ' bad=0 ' "$WORK/decode.out"; then
    echo "WARNING: the corpus has lines yajl rejects; see bad= above" >&2
fi

# Allocations of one single-thread replay, counted by a preloaded shim.
ALLOC_LIB=$BUILD_DIR/benchmarks/libll-alloc-count.so
if [[ " ${ACTIVE[*]} " == *" replay "* && -r $ALLOC_LIB ]]; then
    ll_argv replay
    LL_ALLOC_COUNT_OUT=$WORK/alloc.txt LD_PRELOAD=$(realpath "$ALLOC_LIB") \
        "${ARGV[@]}" >/dev/null 2>&1
    awk -v n="$NLINES" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); c[kv[1]] = kv[2] }
        a = c["malloc"] + c["calloc"] + c["realloc"]
        printf "allocations: %d (malloc %d, calloc %d, realloc %d) for %d lines = %.3f per line\n",
            a, c["malloc"], c["calloc"], c["realloc"], n, a / n }' "$WORK/alloc.txt"
fi

N=${#ACTIVE[@]}
echo "measuring $RUNS rounds of: ${ACTIVE[*]}"
for ((r = 0; r < RUNS; r++)); do
    # rotate the start of each round so no command always follows another
    for ((i = 0; i < N; i++)); do
        ll_measure "${ACTIVE[(i + r) % N]}" || ll_die "a timed run failed"
    done
done

# --- report ---------------------------------------------------------------

# ll_stats NAME -> "median min max" in seconds
ll_stats() {
    sort -n "$WORK/$1.times" | awk '
        { v[NR] = $1 }
        END {
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.6f %.6f %.6f\n", m / 1e6, v[1] / 1e6, v[NR] / 1e6
        }'
}

ll_peak_rss() {
    if [[ -s $WORK/$1.rss ]]; then
        tail -n 1 "$WORK/$1.rss" | awk '{ printf "%.1f MiB", $1 / 1024 }'
    else
        echo "n/a"
    fi
}

declare -A MED
echo
printf '%-12s %10s %10s %10s %14s %10s %12s\n' command median_s min_s max_s lines/s MB/s peak_RSS
for name in "${ACTIVE[@]}"; do
    read -r med min max <<<"$(ll_stats "$name")"
    MED[$name]=$med
    awk -v n="$name" -v med="$med" -v min="$min" -v max="$max" \
        -v l="$NLINES" -v b="$BYTES" -v rss="$(ll_peak_rss "$name")" 'BEGIN {
        printf "%-12s %10.3f %10.3f %10.3f %14.0f %10.1f %12s\n",
            n, med, min, max, l / med, b / 1e6 / med, rss }'
done

# ll_ratio A B: throughput of A relative to B (= median time B / median time A)
ll_ratio() {
    [[ -n ${MED[$1]:-} && -n ${MED[$2]:-} ]] || return 0
    awk -v a="$1" -v b="$2" -v ta="${MED[$1]}" -v tb="${MED[$2]}" 'BEGIN {
        printf "%s = %.2fx %s throughput\n", a, tb / ta, b }'
}

echo
echo "ratios (median wall time, same corpus, $RUNS interleaved runs):"
ll_ratio replay decode-only
ll_ratio replay decode-scan
ll_ratio decode-scan decode-only
ll_ratio replay-mt replay
ll_ratio replay replay-base
ll_ratio replay-mt decode-only
ll_ratio replay cat
ll_ratio replay-gz replay-mt
ll_ratio decode-only cat
ll_ratio replay jq
ll_ratio replay syslog-ng
ll_ratio replay syslog-ng-group
ll_ratio replay-mt syslog-ng-group
if [[ $HAVE_LOGLOOM == 0 ]]; then
    echo "(replay not measured: $LOGLOOM missing)"
elif [[ " ${ACTIVE[*]} " != *" replay "* ]]; then
    echo "(replay not measured: it failed in the warm-up run, see above)"
fi
echo
echo "machine: $(nproc 2>/dev/null || echo '?') cpus, $(uname -sr)," \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"

# --- profile ----------------------------------------------------------------

if [[ ${LL_BENCH_PROFILE:-0} == 1 && $HAVE_LOGLOOM == 1 ]] && command -v perf >/dev/null; then
    echo
    echo "profile: one single-thread replay under perf (self time per function, top 25):"
    perf record -q -F 999 -g -o "$WORK/perf.data" "$LOGLOOM" replay --threads 1 --format jsonl \
        "$CORPUS" >/dev/null 2>&1
    # awk reads to the end: head would close the pipe early and fail the
    # script under pipefail.
    perf report -i "$WORK/perf.data" --no-children --sort dso,sym -g none 2>/dev/null |
        grep -v '^#' | grep . | awk 'NR <= 25'
fi
