#!/usr/bin/env bash
# `logloom run` consuming Kafka, next to `replay` of the same data in the
# same run.
#
#   benchmarks/kafka.sh [BUILD_DIR]        (build)
#
# A corpus of LL_BENCH_LINES lines (1000000; ll-gen-corpus seed 1, or
# $LL_BENCH_CORPUS), and librdkafka's mock cluster (one broker on loopback
# TCP) with a topic of LL_BENCH_PARTITIONS partitions (256) per round, each
# filled with the corpus beforehand (keyed by correlation id; the
# producer's rate is printed). The mock keeps only a few MB of a partition
# and deletes what is older, so the corpus is spread thin enough to stay
# whole. Then LL_BENCH_ROUNDS rounds (3), interleaved: (a) `logloom replay
# --format none` of the corpus file, the whole process; (b) `logloom run`
# with a Kafka source in a fresh group on the round's topic, the built-in
# rules, no sinks (alerts to /dev/null), metrics on 127.0.0.1, timed from
# its start until /metrics shows every event (and the estimate of when
# reading finished), with its steady rate: events/s from the first metrics
# sample that showed events to the last before all, which leaves out
# joining the group. Beside them (c) a bare librdkafka consumer reading
# the round's topic to /dev/null, whole process: the ceiling this broker
# and client allow. The broker runs on this machine too.
#
# Prints medians (and min-max) over the rounds.
set -euo pipefail

build=${1:-build}
rounds=${LL_BENCH_ROUNDS:-3}
lines=${LL_BENCH_LINES:-1000000}
partitions=${LL_BENCH_PARTITIONS:-256}
logloom=$build/logloom
mock=$build/tests/ll-kafka-mock
gen=$build/benchmarks/ll-gen-corpus
prog=kafka.sh
. "$(dirname "$0")/lib.sh"
for x in "$logloom" "$mock" "$gen"; do [ -x "$x" ] || die "$x not built"; done

kafka_setup
corpus_events

topics=()
for round in $(seq "$rounds"); do topics+=(-t "logs-$round:$partitions"); done
start_mock -b 1 "${topics[@]}"
for round in $(seq "$rounds"); do
    t0=$(now)
    "$mock" produce -B "$bootstrap" -t "logs-$round" -k correlationId <"$corpus" ||
        die "produce failed"
    echo "produced $(wc -l <"$corpus") lines into $partitions partitions in" \
        "$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}') s"
done

# The ceiling this broker allows: a bare librdkafka consumer (its own
# group) that only prints each message, the whole process, joining
# included, like `run` until /metrics shows all.
bare_s=()
time_kafka() {
    local dir=$work/k-$1 t0
    mkdir "$dir"
    t0=$(now)
    "$mock" consume -B "$bootstrap" -t "logs-$1" -n "$lines" -s 120 >/dev/null ||
        die "the bare consumer did not read $lines messages"
    bare_s+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')")
    echo "  round $1: bare consumer ${bare_s[-1]} s"
    cat >"$dir/run.yaml" <<EOF
sources:
  - brokers: $bootstrap
    group_id: bench-$1
    topics: [logs-$1]
metrics: {listen: "127.0.0.1:0"}
log: {level: info, format: text}
EOF
    time_to_events "$dir"
}

echo "kafka throughput: $events events ($(($(stat -c %s "$corpus") / 1000000)) MB), $rounds rounds"
versus_replay kafka time_kafka
mb=$(printf '%s\n' "${bare_s[@]}" | median)
printf '%-34s %10.3f %14s (kafka, until all: %.2fx of it)\n' "bare consumer, whole process" "$mb" \
    "$(awk -v n="$lines" -v s="$mb" 'BEGIN {printf "%.0f", n / s}')" \
    "$(awk -v a="$mb" -v b="$visible_median" 'BEGIN {print a / b}')"
exit "$status"
