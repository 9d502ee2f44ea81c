#!/usr/bin/env bash
# The Kafka topology (README, "The topology") against `replay` of the same
# lines and a bare librdkafka consumer of the raw topic, in the same run.
#
#   benchmarks/topology.sh [BUILD_DIR]        (build)
#
# A corpus of LL_BENCH_LINES lines (300000; ll-gen-corpus seed 1, or
# $LL_BENCH_CORPUS), and a line ten minutes after its last, produced
# unkeyed, as a shipper would, into a raw topic
# of LL_BENCH_PARTITIONS partitions (16) per round on librdkafka's mock
# cluster (one broker, this machine). Then LL_BENCH_ROUNDS rounds (3), in
# turn within a round:
#   (a) `logloom replay --format none` of the corpus file, whole process;
#   (b) a bare librdkafka consumer of the raw topic to /dev/null, whole
#       process: the most this broker and client allow one reader;
#   (c) the topology: `logloom repartition` into a keyed topic, one member
#       of the correlating stage on it and one of the service stage on the
#       facts topic (the built-in rules, no sinks), all started at once,
#       timed until the correlating stage's /metrics shows every line and
#       the service stage's shows every fact the correlating one sent.
# The three processes and the broker share the machine's cores.
#
# Prints medians (and min-max) over the rounds.
set -euo pipefail

build=${1:-build}
rounds=${LL_BENCH_ROUNDS:-3}
lines=${LL_BENCH_LINES:-300000}
partitions=${LL_BENCH_PARTITIONS:-16}
logloom=$build/logloom
mock=$build/tests/ll-kafka-mock
gen=$build/benchmarks/ll-gen-corpus
prog=topology.sh
. "$(dirname "$0")/lib.sh"
for x in "$logloom" "$mock" "$gen"; do [ -x "$x" ] || die "$x not built"; done

kafka_setup
corpus_events
rep_pid= svc_pid=
trap 'stop_pid "$rep_pid"; stop_pid "$svc_pid"; stop_pid "$daemon_pid"; stop_pid "$mock_pid";
      rm -rf "$work"' EXIT

topics=()
for round in $(seq "$rounds"); do
    topics+=(-t "raw-$round:$partitions" -t "keyed-$round:$partitions" -t "facts-$round:$partitions")
done
start_mock -b 1 "${topics[@]}"
# The corpus is a minute of a fleet's logs; a line ten minutes on ends it,
# as the fleet's next lines would: without it, the lines repartition holds
# for their workflow (those with no id that joined none yet) wait for the
# workflow window to pass on the clock (half a minute), and the run times
# that wait, not the work. The line has an id, so it is not held itself.
last=$(tail -n 1 "$corpus" | sed -n 's/.*"time":\([0-9]*\).*/\1/p')
clock=
if [ -n "$last" ]; then
    clock='{"level":30,"time":'$((last + 600000))',"name":"clock","correlationId":"clock","msg":"ten minutes later"}'
    events=$((events + 1))
else
    echo "$prog: the corpus's last line has no epoch \"time\": no line ten minutes on" >&2
fi
for round in $(seq "$rounds"); do
    { cat "$corpus"; [ -z "$clock" ] || echo "$clock"; } |
        "$mock" produce -B "$bootstrap" -t "raw-$round" || die "produce failed"
done
echo "topology: $lines lines${clock:+ and a line ten minutes on} ($events events), $partitions partitions per topic," \
    "$rounds rounds"

# stage_config ROUND STAGE: a member of STAGE (correlate, service) for ROUND.
stage_config() {
    local dir=$work/$2-$1 topic extra=""
    mkdir -p "$dir"
    if [ "$2" = correlate ]; then
        topic=keyed-$1
        extra="  facts_topic: facts-$1"
    else
        topic=facts-$1
    fi
    cat >"$dir/run.yaml" <<EOF
sources:
  - brokers: $bootstrap
    group_id: $2-$1
    topics: [$topic]
topology:
  stage: $2
$extra
metrics: {listen: "127.0.0.1:0"}
log: {level: info, format: text}
EOF
    echo "$dir"
}

# time_topology ROUND: sets $took to the seconds from the start until both
# stages' /metrics show everything.
time_topology() {
    local t0 cdir sdir cport sport
    cdir=$(stage_config "$1" correlate)
    sdir=$(stage_config "$1" service)
    t0=$(now)
    "$logloom" repartition --brokers "$bootstrap" --group "rep-$1" --from "raw-$1" \
        --to "keyed-$1" 2>"$work/rep-$1.err" &
    rep_pid=$!
    start_daemon "$sdir"
    svc_pid=$daemon_pid sport=$port
    start_daemon "$cdir"
    cport=$port
    for _ in $(seq 12000); do # 10 minutes at most
        scrape_metrics "$cport" || metric=()
        local seen=${metric[logloom_events_total]:-0} sent=${metric[logloom_facts_sent_total]:-0}
        if [ "$seen" -ge "$events" ]; then
            scrape_metrics "$sport" || metric=()
            [ "${metric[logloom_events_total]:-0}" -ge "$sent" ] && break
        fi
        sleep 0.05
    done
    took=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')
    [ "$seen" -ge "$events" ] || die "the correlating stage saw $seen of $events events"
    stop_run
    daemon_pid=$svc_pid
    stop_run
    stop_pid "$rep_pid"
    rep_pid= svc_pid=
    facts=$sent
}

replay_s=() bare_s=() topo_s=()
for round in $(seq "$rounds"); do
    t0=$(now)
    "$logloom" replay --format none "$corpus" 2>/dev/null
    replay_s+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')")
    t0=$(now)
    "$mock" consume -B "$bootstrap" -t "raw-$round" -n "$lines" -s 300 >/dev/null ||
        die "the bare consumer did not read $lines messages"
    bare_s+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')")
    time_topology "$round"
    topo_s+=("$took")
    echo "  round $round: replay ${replay_s[-1]} s, bare consumer ${bare_s[-1]} s," \
        "topology $took s ($facts facts)"
done
mr=$(printf '%s\n' "${replay_s[@]}" | median)
mb=$(printf '%s\n' "${bare_s[@]}" | median)
mt=$(printf '%s\n' "${topo_s[@]}" | median)
rate() { awk -v n="$lines" -v s="$1" 'BEGIN {printf "%.0f", n / s}'; }
printf '\n%-34s %10s %12s %10s %10s\n' "" seconds "lines/s" "vs replay" "vs bare"
printf '%-34s %10.3f %12s %10s %10s\n' "replay --format none" "$mr" "$(rate "$mr")" 1.00x \
    "$(awk -v a="$mb" -v b="$mr" 'BEGIN {printf "%.2fx", a / b}')"
printf '%-34s %10.3f %12s %10s %10s\n' "bare consumer of the raw topic" "$mb" "$(rate "$mb")" \
    "$(awk -v a="$mr" -v b="$mb" 'BEGIN {printf "%.2fx", a / b}')" 1.00x
printf '%-34s %10.3f %12s %10s %10s\n' "topology, until both stages are done" "$mt" \
    "$(rate "$mt")" "$(awk -v a="$mr" -v b="$mt" 'BEGIN {printf "%.2fx", a / b}')" \
    "$(awk -v a="$mb" -v b="$mt" 'BEGIN {printf "%.2fx", a / b}')"
echo "(medians of $rounds; replay $(printf '%s\n' "${replay_s[@]}" | range), bare" \
    "$(printf '%s\n' "${bare_s[@]}" | range), topology $(printf '%s\n' "${topo_s[@]}" | range))"
exit "$status"
