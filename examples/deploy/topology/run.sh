#!/bin/sh
# The topology on one machine, over librdkafka's mock cluster: the bundled
# incident shipped unkeyed to a raw topic, `logloom repartition`, the
# correlating stage and the service stage; alerts land in OUT/*.jsonl.
# Run from the repository root after a build: examples/deploy/topology/run.sh
set -e
HERE=$(dirname "$0")
BUILD=${BUILD:-build}
OUT=${OUT:-$(mktemp -d)}
# The cluster serves while its stdin is open: a sleep holds it.
mkfifo "$OUT/mock.in"
sleep 3600 > "$OUT/mock.in" &
HOLD=$!
"$BUILD/tests/ll-kafka-mock" serve -t app-logs:4 -t app-logs-by-request:16 \
    -t logloom-facts:8 < "$OUT/mock.in" > "$OUT/mock.addr" &
MOCK=$!
while [ ! -s "$OUT/mock.addr" ]; do sleep 0.1; done
BROKERS=$(head -n 1 "$OUT/mock.addr")
for stage in correlate service; do
    sed -e "s|\${BROKERS}|$BROKERS|" -e "s|\${OUT}|$OUT|" "$HERE/$stage.yaml" > "$OUT/$stage.yaml"
done
"$BUILD/logloom" repartition --config "$OUT/correlate.yaml" --brokers "$BROKERS" \
    --group logloom-repartition --from app-logs --to app-logs-by-request 2> "$OUT/repartition.log" &
PIDS=$!
"$BUILD/logloom" run -c "$OUT/correlate.yaml" 2> "$OUT/correlate.log" &
PIDS="$PIDS $!"
"$BUILD/logloom" run -c "$OUT/service.yaml" 2> "$OUT/service.log" &
PIDS="$PIDS $!"
sleep 3
python3 "$HERE/shipper.py" examples/incident > "$OUT/feed.tsv"
"$BUILD/tests/ll-kafka-mock" produce -B "$BROKERS" -t app-logs -f file -r 2000 < "$OUT/feed.tsv"
# The logs were shipped in a blink, not over their ten minutes: once
# repartition has read them all, its marks move event time on with the
# clock only. A fleet's steady traffic moves it on; here one line ten
# minutes on, once every line is keyed, does it in every partition.
sleep 3
LAST=$(awk -F '\t' 'END {printf "%.0f", $2 + 600000}' "$OUT/feed.tsv")
printf '/var/log/app/heartbeat.log\t%s\t{"level":30,"time":%s,"name":"heartbeat","msg":"tick"}\n' \
    "$LAST" "$LAST" | "$BUILD/tests/ll-kafka-mock" produce -B "$BROKERS" -t app-logs-by-request -f file -a
echo "shipped $(wc -l < "$OUT/feed.tsv") lines; waiting for the last workflows (15 s)"
sleep 15
kill $PIDS
wait $PIDS || true
kill $MOCK $HOLD 2>/dev/null || true
echo "alerts:"
cat "$OUT"/correlate.jsonl "$OUT"/service.jsonl 2>/dev/null | grep '^{"type":"alert"' |
    sed -n 's/^[^,]*,"id":"\([0-9a-f]*\)","rule":"\([^"]*\)".*"correlation_id":\([^,]*\),"service":\([^,]*\),.*/  \1 \2 \3 \4/p' |
    sort -u
echo "(records in $OUT)"
