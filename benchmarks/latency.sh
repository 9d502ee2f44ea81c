#!/usr/bin/env bash
# `logloom run` as a live daemon: how long a line written to a log takes to
# become an alert in Redis, and how fast it tails compared with `replay`.
#
#   benchmarks/latency.sh [BUILD_DIR] [SECONDS]        (build, 10)
#
# 1. Latency. Starts a throwaway Redis on a unix socket (no persistence:
#    --save '' --appendonly no, so the figure is logloom's and not the
#    disk's), then for each of LL_BENCH_ROUNDS rounds (3) and each rate,
#    1,000 and 10,000 lines/s (the order alternates between rounds): a fresh
#    temp dir with an empty log file, a configuration (that file from its
#    head with `watch: LL_BENCH_WATCH` (inotify), a Redis sink with the
#    default linger or LL_BENCH_LINGER, checkpoints in the dir, metrics
#    off, the built-in rule pack), a fresh `logloom run`, ll-bench-latency
#    for SECONDS, SIGTERM. A fresh daemon
#    per measurement because the econnreset rule's default rate_limit is
#    1000 alerts a minute: 10 s at 10,000 lines/s makes exactly 1000
#    markers, so SECONDS is at most 10. With LL_BENCH_RESTART=MS, the
#    daemon is SIGKILLed halfway through and started again MS ms later, on
#    its checkpoints: the figures then include the lines written while it
#    was down and read again after (each alert must still come, once).
# 2. Tail throughput. A corpus of LL_BENCH_LINES lines (1000000; ll-gen-corpus
#    seed 1, or $LL_BENCH_CORPUS; LL_BENCH_LINES=0 skips this part), read
#    once untimed (to warm the page cache and count its events), then
#    LL_BENCH_ROUNDS rounds, interleaved: (a) `logloom replay --format none`,
#    the whole process; (b) `logloom run` with start_at: head and metrics on
#    127.0.0.1 (a free port), no sinks (alerts to stdout, /dev/null), timed
#    from its start until /metrics shows logloom_events_total equal to the
#    corpus's events (polled every 50 ms), then SIGTERM. The daemon
#    publishes its metrics once a second, so (b) is also given as an
#    estimate of when reading really finished, from the rate between the
#    last samples.
#
# Prints medians (and min-max) over the rounds. Works as root or not;
# everything it starts is stopped and its temp dir removed on exit.
set -euo pipefail

build=${1:-build}
seconds=${2:-10}
rounds=${LL_BENCH_ROUNDS:-3}
lines=${LL_BENCH_LINES:-1000000}
linger=${LL_BENCH_LINGER:-}
watch=${LL_BENCH_WATCH:-inotify}
restart=${LL_BENCH_RESTART:-}
logloom=$build/logloom
bench=$build/benchmarks/ll-bench-latency
gen=$build/benchmarks/ll-gen-corpus

prog=latency.sh
. "$(dirname "$0")/lib.sh"
for x in "$logloom" "$bench" "$gen"; do [ -x "$x" ] || die "$x not built"; done
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    die "needs redis-server and redis-cli"
fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ] || [ "$seconds" -gt 10 ]; then
    die "SECONDS is 1 to 10: the built-in econnreset rule raises at most 1000 alerts a minute"
fi

work=$(mktemp -d /tmp/ll-latency-XXXXXX)
redis_pid=
daemon_pid=
status=0

cleanup() {
    stop_pid "$daemon_pid"
    stop_pid "$redis_pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

field() { tr ' ' '\n' | sed -n "s/^$1=\([0-9.]*\)$/\1/p" | head -n 1; } # NAME=value

# start_run CONFIG NAME: logloom run in the background, back once it has
# said "started" (sinks connected, files open).
start_run() {
    "$logloom" run -c "$1" >"$work/$2.out" 2>"$work/$2.err" &
    daemon_pid=$!
    for _ in $(seq 200); do
        grep -q 'run: started' "$work/$2.err" && return 0
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$work/$2.err" >&2
    die "logloom run did not start"
}

# ------------------------------------------------------------------------
# 1. Latency

start_redis "$work" "see it with a shell in $work"

latency_config() { # DIR
    cat >"$1/run.yaml" <<EOF
sources:
  - paths: [$1/app.log]
    start_at: head
    watch: $watch
sinks:
  - url: unix://$work/redis.sock
${linger:+    linger: $linger
}checkpoints: {dir: $1/ckpt}
metrics: off
log: {level: info, format: text}
EOF
}

declare -A p50 p90 p99 pmax achieved
echo "latency: $rounds rounds of $seconds s per rate, watch $watch, Redis sink linger" \
    "${linger:-default}${restart:+, killed halfway and started again after $restart ms}"
for round in $(seq "$rounds"); do
    order="1000 10000"
    [ $((round % 2)) -eq 0 ] && order="10000 1000"
    for rate in $order; do
        dir=$work/lat-$round-$rate
        mkdir "$dir"
        : >"$dir/app.log"
        latency_config "$dir"
        rcli flushall >/dev/null
        start_run "$dir/run.yaml" "lat-$round-$rate"
        "$bench" "$dir/app.log" "$rate" "$seconds" "$work/redis.sock" >"$dir/bench.txt" &
        bench_pid=$!
        if [ -n "$restart" ]; then
            sleep "$(awk -v s="$seconds" 'BEGIN { print s / 2 }')"
            kill -KILL "$daemon_pid"
            wait "$daemon_pid" 2>/dev/null || true
            sleep "$(awk -v ms="$restart" 'BEGIN { print ms / 1000 }')"
            start_run "$dir/run.yaml" "lat-$round-$rate-again"
        fi
        if ! wait "$bench_pid"; then
            echo "latency.sh: round $round at $rate lines/s: alerts missing" >&2
            status=1
        fi
        stop_run
        sed "s/^/  $rate lines\/s, round $round: /" "$dir/bench.txt"
        p50[$rate]+="$(field p50 <"$dir/bench.txt") "
        p90[$rate]+="$(field p90 <"$dir/bench.txt") "
        p99[$rate]+="$(field p99 <"$dir/bench.txt") "
        pmax[$rate]+="$(field max <"$dir/bench.txt") "
        achieved[$rate]+="$(field rate <"$dir/bench.txt") "
    done
done
kill "$redis_pid"
wait "$redis_pid" 2>/dev/null || true
redis_pid=

printf '\n%-9s %-22s %-22s %-22s %-22s %s\n' "lines/s" "p50 ms" "p90 ms" "p99 ms" "max ms" \
    "achieved lines/s"
for rate in 1000 10000; do
    row=("$rate")
    for v in "${p50[$rate]}" "${p90[$rate]}" "${p99[$rate]}" "${pmax[$rate]}" \
        "${achieved[$rate]}"; do
        row+=("$(tr ' ' '\n' <<<"$v" | grep . | median) ($(tr ' ' '\n' <<<"$v" | grep . | range))")
    done
    printf '%-9s %-22s %-22s %-22s %-22s %s\n' "${row[@]}"
done

# ------------------------------------------------------------------------
# 2. Tail throughput next to replay

[ "$lines" -gt 0 ] || exit "$status"
corpus_events

# time_run ROUND: `logloom run` tailing the corpus, timed (lib.sh).
time_run() {
    local dir=$work/tp-$1
    mkdir "$dir"
    cat >"$dir/run.yaml" <<EOF
sources:
  - paths: [$corpus]
    start_at: head
checkpoints: {dir: $dir/ckpt}
metrics: {listen: "127.0.0.1:0"}
log: {level: info, format: text}
EOF
    time_to_events "$dir"
}

echo
echo "tail throughput: $events events ($(($(stat -c %s "$corpus") / 1000000)) MB), $rounds rounds"
versus_replay run time_run
exit "$status"
