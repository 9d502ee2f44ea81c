#!/usr/bin/env bash
# What an idle member of a Kafka group costs: `logloom run` holding every
# partition of an empty topic, with librdkafka's statistics once a second
# (the default: they tell when a partition is reachable) and without them
# (statistics.interval.ms=0), side by side.
#
#   benchmarks/kafka_idle.sh [BUILD_DIR]        (build)
#
# librdkafka's mock cluster (one broker on loopback TCP) serves a topic of
# LL_BENCH_PARTITIONS partitions (2048). Each round (LL_BENCH_ROUNDS, 3)
# starts one member per setting in turn, waits LL_BENCH_SETTLE seconds (20)
# for the group to settle, then reads the process's CPU time (user + system,
# /proc) over LL_BENCH_SECONDS (30). Prints the median CPU-seconds and the
# share of one core, per setting.
set -euo pipefail

build=${1:-build}
rounds=${LL_BENCH_ROUNDS:-3}
partitions=${LL_BENCH_PARTITIONS:-2048}
settle=${LL_BENCH_SETTLE:-20}
seconds=${LL_BENCH_SECONDS:-30}
logloom=$build/logloom
mock=$build/tests/ll-kafka-mock
prog=kafka_idle.sh
. "$(dirname "$0")/lib.sh"
for x in "$logloom" "$mock"; do [ -x "$x" ] || die "$x not built"; done

kafka_setup
start_mock -b 1 -t "idle:$partitions"
ticks=$(getconf CLK_TCK)

# cpu_of PID: its user + system clock ticks so far.
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# idle ROUND INTERVAL: appends the CPU-seconds of a member over $seconds.
declare -A cpu
idle() {
    local dir=$work/$1-$2 a b
    mkdir "$dir"
    cat >"$dir/run.yaml" <<EOF
sources:
  - brokers: $bootstrap
    group_id: idle-$1-$2
    topics: [idle]
    properties: [statistics.interval.ms=$2]
metrics: off
log: {level: warn, format: text}
EOF
    "$logloom" run -c "$dir/run.yaml" >/dev/null 2>"$dir/run.err" &
    daemon_pid=$!
    sleep "$settle"
    a=$(cpu_of "$daemon_pid")
    sleep "$seconds"
    b=$(cpu_of "$daemon_pid")
    stop_run
    cpu[$2]+="$(awk -v a="$a" -v b="$b" -v t="$ticks" 'BEGIN {print (b - a) / t}') "
}

echo "an idle member holding $partitions partitions, CPU over $seconds s, $rounds rounds"
for round in $(seq "$rounds"); do
    idle "$round" 1000
    idle "$round" 0
done
for interval in 1000 0; do
    # shellcheck disable=SC2086
    m=$(printf '%s\n' ${cpu[$interval]} | median)
    printf 'statistics.interval.ms=%-5s %6.2f CPU-s (%4.1f%% of a core; %s)\n' "$interval" "$m" \
        "$(awk -v m="$m" -v s="$seconds" 'BEGIN {print 100 * m / s}')" \
        "$(printf '%s\n' ${cpu[$interval]} | range)"
done
exit "$status"
