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
# and client allow. The broker runs on this machine too. Then, in turn on
# the same topics, `run` with decode.threads 1 and with the default (one
# per CPU): what decoding on more threads gains.
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
    run_config "$dir" "bench-$1" "logs-$1" ""
    time_to_events "$dir"
}

# run_config DIR GROUP TOPIC DECODE: DIR/run.yaml for a member of GROUP on
# TOPIC, with DECODE (YAML, may be empty) as its decode section.
run_config() {
    cat >"$1/run.yaml" <<EOF
sources:
  - brokers: $bootstrap
    group_id: $2
    topics: [$3]
${4:+decode: $4}
metrics: {listen: "127.0.0.1:0"}
log: {level: info, format: text}
EOF
}

# Decoding on one thread against the default (one per CPU), each round
# on the same topic in fresh groups, in turn.
time_threads() {
    local dir=$work/t-$1-$2
    mkdir "$dir"
    run_config "$dir" "threads-$1-$2" "logs-$1" "$([ "$2" = default ] || echo "{threads: $2}")"
    time_to_events "$dir"
}

echo "kafka throughput: $events events ($(($(stat -c %s "$corpus") / 1000000)) MB), $rounds rounds"
versus_replay kafka time_kafka

echo
echo "decoding threads: decode.threads 1 against the default ($(nproc) CPUs), in turn"
declare -A seen_s steady_s
for round in $(seq "$rounds"); do
    order=(1 default)
    [ $((round % 2)) -eq 0 ] && order=(default 1)
    for th in "${order[@]}"; do
        time_threads "$round" "$th"
        seen_s[$th]+="$visible "
        steady_s[$th]+="$steady "
        echo "  round $round: threads $th: $visible s to visible, steady $steady events/s"
    done
done
for th in 1 default; do
    printf '  threads %-8s %8.3f s to visible (median), steady %10.0f events/s (median)\n' "$th" \
        "$(printf '%s\n' ${seen_s[$th]} | median)" "$(printf '%s\n' ${steady_s[$th]} | median)"
done
mb=$(printf '%s\n' "${bare_s[@]}" | median)
printf '%-34s %10.3f %14s (kafka, until all: %.2fx of it)\n' "bare consumer, whole process" "$mb" \
    "$(awk -v n="$lines" -v s="$mb" 'BEGIN {printf "%.0f", n / s}')" \
    "$(awk -v a="$mb" -v b="$visible_median" 'BEGIN {print a / b}')"
exit "$status"
