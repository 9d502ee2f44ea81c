#!/usr/bin/env bash
# A peer for run.sh: syslog-ng reading a JSONL file through json-parser,
# with or without grouping-by on the correlation id.
#
#   benchmarks/syslog_ng.sh parse|group FILE LINES
#
# syslog-ng does not stop at the end of a file: this starts it in the
# foreground with a configuration of its own, polls its statistics until
# the file source has passed LINES messages on (read, parsed and, with
# `group`, grouped: one thread runs the whole log path), then stops it. The
# wall time of this script is the figure. Every message also goes to a file
# destination, one short line each (grouping-by passes messages on, and
# adds one per closed group).
set -euo pipefail

MODE=${1:?mode: parse or group}
FILE=$(realpath "${2:?FILE}")
LINES=${3:?LINES}
WORK=$(mktemp -d -t ll-syslog-ng.XXXXXX)
PID=
cleanup() {
    [[ -z $PID ]] || kill "$PID" 2>/dev/null || true
    [[ -z $PID ]] || wait "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

case $MODE in
parse) GROUP= ;;
group)
    GROUP='parser g { grouping-by(key("${.json.correlationId}") timeout(30)
        aggregate(value("events" "$(context-length)") inherit-mode(context))); };'
    ;;
*)
    echo "syslog_ng.sh: mode is parse or group, not '$MODE'" >&2
    exit 2
    ;;
esac

cat >"$WORK/syslog-ng.conf" <<CONF
@version: 3.38
options { stats-level(1); log-msg-size(1048576); };
source s { file("$FILE" flags(no-parse) follow-freq(1) log-fetch-limit(1000)
                log-iw-size(100000)); };
parser p { json-parser(prefix(".json.")); };
$GROUP
destination d { file("$WORK/out.txt" template("\${.json.correlationId} \${events}\n")); };
log { source(s); parser(p); ${GROUP:+parser(g);} destination(d); };
CONF

syslog-ng -F -f "$WORK/syslog-ng.conf" -R "$WORK/persist" -p "$WORK/pid" -c "$WORK/ctl" \
    --no-caps >"$WORK/log" 2>&1 &
PID=$!
deadline=$((SECONDS + 600))
while :; do
    n=$(syslog-ng-ctl stats -c "$WORK/ctl" 2>/dev/null |
        awk -F';' '$1 == "src.file" && $5 == "processed" { print $6 }') || true
    [[ ${n:-0} -lt $LINES ]] || break
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "syslog_ng.sh: syslog-ng exited:" >&2
        cat "$WORK/log" >&2
        exit 1
    fi
    if ((SECONDS > deadline)); then
        echo "syslog_ng.sh: only ${n:-0} of $LINES lines after 600 s" >&2
        exit 1
    fi
    sleep 0.02
done
