#!/usr/bin/env bash
# Caps at a constant cost: N lines whose correlation ids are all distinct
# (every line opens a workflow; past max_open, each one evicts another)
# against N lines over 2,000 ids, at the default caps (max_open 1,000,000).
#
#   benchmarks/distinct_ids.sh [BUILD_DIR] [LINES]        (build, 2000000)
#
# Both corpora are the same pino-shaped line, 10 µs of event time apart, so
# every workflow stays open: the distinct one reaches max_open half way and
# evicts from then on. For each of LL_BENCH_ROUNDS rounds (3), interleaved:
# `logloom replay --format none --no-rules` of each (the whole process), and
# `logloom run` on each from its head, timed until /metrics shows every
# event. Prints medians and the ratio distinct / 2,000 ids (issue 19: at
# most 2).
set -euo pipefail

build=${1:-build}
lines=${2:-2000000}
rounds=${LL_BENCH_ROUNDS:-3}
logloom=$build/logloom
prog=distinct_ids.sh
. "$(dirname "$0")/lib.sh"
[ -x "$logloom" ] || die "$logloom not built"

work=$(mktemp -d /tmp/ll-distinct-XXXXXX)
daemon_pid=
status=0
trap 'stop_pid "$daemon_pid"; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# corpus NAME IDS: LINES lines over IDS ids (0: every line its own).
corpus() {
    awk -v n="$lines" -v ids="$2" 'BEGIN {
        t = 1768464000000
        for (i = 0; i < n; i++)
            printf "{\"level\":30,\"time\":%.0f,\"name\":\"api\",\"correlationId\":\"req-%08d\",\"msg\":\"request\"}\n",
                t + int(i / 100), ids ? i % ids : i
    }' >"$work/$1.log"
}
corpus distinct 0
corpus few 2000
events=$lines

# time_run NAME ROUND: `logloom run` on corpus NAME until /metrics shows it all.
time_run() {
    local dir=$work/run-$1-$2
    mkdir "$dir"
    cat >"$dir/run.yaml" <<EOF
sources:
  - paths: [$work/$1.log]
    start_at: head
rules: []
checkpoints: {dir: $dir/ckpt}
metrics: {listen: "127.0.0.1:0"}
log: {level: info, format: text}
EOF
    time_to_events "$dir"
    echo "$visible"
}

declare -A replay_s run_s
echo "distinct_ids: $lines lines, $rounds rounds"
for round in $(seq "$rounds"); do
    order="few distinct"
    [ $((round % 2)) -eq 0 ] && order="distinct few"
    for name in $order; do
        t0=$(now)
        "$logloom" replay -q --format none --no-rules "$work/$name.log"
        t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')
        replay_s[$name]+="$t "
        r=$(time_run "$name" "$round" | tail -n 1)
        run_s[$name]+="$r "
        echo "  round $round, $name ids: replay $t s, run $r s"
    done
done

printf '\n%-28s %-10s %-10s %s\n' "" "2,000 ids" "distinct" "distinct / 2,000"
for mode in replay run; do
    declare -n m=${mode}_s
    few=$(tr ' ' '\n' <<<"${m[few]}" | grep . | median)
    dist=$(tr ' ' '\n' <<<"${m[distinct]}" | grep . | median)
    printf '%-28s %-10s %-10s %.2fx\n' "$mode (median seconds)" "$few" "$dist" \
        "$(awk -v a="$dist" -v b="$few" 'BEGIN {print a / b}')"
done
exit "$status"
