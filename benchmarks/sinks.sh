#!/usr/bin/env bash
# Alerts/s into the PostgreSQL and Redis sinks at several batch sizes, each
# beside what the server takes without logloom in the same run: psql \copy
# of the same rows into the same table, and redis-benchmark pipelining XADD
# of the same record as deep as the batch.
#
#   benchmarks/sinks.sh [BUILD_DIR] [N] [ROUNDS]     (build, 20000, 3)
#
# Starts a throwaway PostgreSQL (initdb in a temp dir, unix socket only;
# as root the server runs as the postgres user) and a Redis with the
# persistence the sink's durability relies on (AOF, appendfsync always),
# and removes both at the end. Prints medians over ROUNDS; with batch 1 it
# delivers N/10 alerts to keep the run short.
set -euo pipefail

build=${1:-build}
n=${2:-20000}
rounds=${3:-3}
bench=$build/benchmarks/ll-bench-sinks
[ -x "$bench" ] || { echo "sinks.sh: $bench not built" >&2; exit 2; }
bindir=$(pg_config --bindir)
work=$(mktemp -d /tmp/ll-sinks-XXXXXX)
port=$((50000 + $$ % 10000))

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    as_pg "$bindir/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
    [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] && chown postgres "$work"
as_pg "$bindir/initdb" -D "$work/pg" -U postgres --auth=trust >/dev/null
as_pg "$bindir/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
    -o "-k $work -c listen_addresses= -p $port" start >/dev/null
conn="host=$work port=$port dbname=postgres user=postgres"
psql_q() { psql -X -q -h "$work" -p "$port" -U postgres -d postgres "$@"; }

redis-server --port 0 --unixsocket "$work/redis.sock" --dir "$work" --appendonly yes \
    --appendfsync always --save '' --daemonize yes --pidfile "$work/redis.pid" \
    --logfile "$work/redis.log"
for _ in $(seq 50); do redis-cli -s "$work/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
rsock="unix://$work/redis.sock"
record=$("$bench" --record)

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
rate_of() { awk '/^alerts\/s/ {print $2}'; }

"$bench" "$conn" 10 10 >/dev/null # creates the schema
cols="id, rule, symptom, playbook, severity, correlation_id, service, first_seen, last_seen,
      count, title, summary, evidence, remediation, timeline_id"

printf '%-6s %8s | %10s %10s %6s | %10s %10s %6s\n' batch alerts "pg sink" "psql copy" ratio \
    "redis sink" "xadd -P" ratio
for batch in 1 10 100 1000; do
    count=$n
    [ "$batch" -eq 1 ] && count=$((n / 10))
    "$bench" --copy "$work/rows.copy" "$count"
    pg=() copy=() rs=() xadd=()
    for _ in $(seq "$rounds"); do
        psql_q -c "TRUNCATE logloom.alerts"
        pg+=("$("$bench" "$conn" "$count" "$batch" | rate_of)")
        psql_q -c "TRUNCATE logloom.alerts"
        t0=$(now)
        psql_q -c "\\copy logloom.alerts ($cols) FROM '$work/rows.copy'"
        copy+=("$(awk -v n="$count" -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.0f", n / (b - a)}')")
        redis-cli -s "$work/redis.sock" flushall >/dev/null
        rs+=("$("$bench" "$rsock" "$count" "$batch" | rate_of)")
        redis-cli -s "$work/redis.sock" flushall >/dev/null
        xadd+=("$(redis-benchmark -s "$work/redis.sock" -n "$count" -c 1 -P "$batch" -q \
            XADD bench '*' record "$record" 2>/dev/null | tr '\r' '\n' |
            awk '/requests per second/ {for (i = 1; i <= NF; i++) if ($i == "requests") r = $(i - 1)}
                 END {printf "%.0f", r}')")
    done
    mp=$(printf '%s\n' "${pg[@]}" | median)
    mc=$(printf '%s\n' "${copy[@]}" | median)
    mr=$(printf '%s\n' "${rs[@]}" | median)
    mx=$(printf '%s\n' "${xadd[@]}" | median)
    printf '%-6s %8s | %10.0f %10.0f %5.2fx | %10.0f %10.0f %5.2fx\n' "$batch" "$count" \
        "$mp" "$mc" "$(awk -v a="$mp" -v b="$mc" 'BEGIN {print a / b}')" \
        "$mr" "$mx" "$(awk -v a="$mr" -v b="$mx" 'BEGIN {print a / b}')"
done
