#!/usr/bin/env bash
# `logloom run` under a steady load for a long time: does its memory, its
# descriptors or its latency drift, and does it lose lines?
#
#   benchmarks/soak.sh [BUILD_DIR]                      (build)
#
# Starts a throwaway Redis on a unix socket in a temp dir (no persistence:
# --save '' --appendonly no), and `logloom run` tailing one file (from its
# head, inotify) with the built-in rule pack, "workflow finished" as a
# terminal message, a Redis sink, checkpoints in the temp dir (every 5 s,
# the default) and metrics on 127.0.0.1 (a free port). Then ll-bench-soak
# appends LL_SOAK_RATE lines/s (2000) to the file for LL_SOAK_SECONDS
# (1800): workflows of 10 lines that start and finish at the same rate, so
# that about LL_SOAK_OPEN (2000) are open in the daemon all along, and
# about LL_SOAK_MARKERS (10) a second open with an ECONNRESET error, whose
# alert it times from the write(2) to the message on the Redis channel.
#
# Every LL_SOAK_SAMPLE seconds (10) it samples the daemon: VmRSS from
# /proc/PID/status, open descriptors in /proc/PID/fd, CPU time, the /metrics
# counters (events, rejected lines, open and closed workflows, alerts, sink
# queue, checkpoint lag), the size of the checkpoints' closed.json, the
# lines written so far, and the latency of the alerts that came since the
# last sample, into a CSV in a temp dir that is kept (its path is printed).
#
# At the end it waits (up to 60 s) until /metrics counts as many events as
# lines were written, stops the daemon, and prints: RSS after the warm-up
# (LL_SOAK_WARMUP, 300 s) min/median/max and its drift (the median of the
# last LL_SOAK_WINDOW (300 s) against that of the first window after the
# warm-up, in %), descriptors min/max, latency p50/p99 per window, and lines
# written against events counted. Both LL_SOAK_WARMUP and LL_SOAK_WINDOW are
# at most a quarter of the run. Exit status 1 if the drift is over
# LL_SOAK_MAX_DRIFT (5) %, the descriptors grew (the median of the last
# window above that of the first), lines were lost or rejected, an alert
# never came, or the daemon failed; 2 on bad settings. Works as root or not;
# everything it starts is stopped and the temp dir with the log removed on
# exit (LL_SOAK_KEEP=1 keeps it).
set -euo pipefail

build=${1:-build}
seconds=${LL_SOAK_SECONDS:-1800}
rate=${LL_SOAK_RATE:-2000}
open=${LL_SOAK_OPEN:-2000}
markers=${LL_SOAK_MARKERS:-10}
every=${LL_SOAK_SAMPLE:-10}
max_drift=${LL_SOAK_MAX_DRIFT:-5}
logloom=$build/logloom
bench=$build/benchmarks/ll-bench-soak
wf_lines=10  # ll-bench-soak's workflows
lateness=5   # allowed_lateness (s): a finished workflow closes this long after its last line

prog=soak.sh
. "$(dirname "$0")/lib.sh"
for x in "$logloom" "$bench"; do [ -x "$x" ] || die "$x not built"; done
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    die "needs redis-server and redis-cli"
fi
for v in seconds rate open markers every max_drift; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "$v must be a positive integer"
done
[ "$markers" -le 16 ] ||
    die "LL_SOAK_MARKERS is at most 16: the econnreset rule raises at most 1000 alerts a minute"
[ "$seconds" -ge $((8 * every)) ] || die "LL_SOAK_SECONDS is at least 8 samples"
quarter=$((seconds / 4))
warmup=${LL_SOAK_WARMUP:-300}
window=${LL_SOAK_WINDOW:-300}
[ "$warmup" -le "$quarter" ] || warmup=$quarter
[ "$window" -le "$quarter" ] || window=$quarter
[ "$window" -ge $((2 * every)) ] || window=$((2 * every))
# Workflows in progress in the writer; finished ones stay open another
# allowed_lateness, until the watermark passes their terminal line.
in_flight=$((open - rate * lateness / wf_lines))
[ "$in_flight" -ge $((open / 4)) ] || in_flight=$((open / 4))
[ "$in_flight" -ge 1 ] || in_flight=1

work=$(mktemp -d "${TMPDIR:-/tmp}/ll-soak-XXXXXX")
results=$(mktemp -d "${TMPDIR:-/tmp}/ll-soak-results-XXXXXX")
csv=$results/samples.csv
redis_pid=
daemon_pid=
probe_pid=
status=0

cleanup() {
    stop_pid "$probe_pid"
    stop_pid "$daemon_pid"
    stop_pid "$redis_pid"
    [ -f "$work/run.err" ] && cp "$work/run.err" "$results/run.log"
    if [ "${LL_SOAK_KEEP:-0}" = 1 ]; then
        echo "soak.sh: kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pct Q: the nearest-rank Q-quantile of the numbers on stdin ("-": none).
pct() {
    sort -g | awk -v q="$1" '{v[NR] = $1} END {
        if (!NR) { print "-"; exit }
        r = int(q * NR); if (r < q * NR) r++; if (r < 1) r = 1; print v[r] }'
}

start_redis "$work"

: >"$work/app.log"
cat >"$work/run.yaml" <<EOF
sources:
  - paths: [$work/app.log]
    start_at: head
    watch: inotify
correlation:
  terminal: ["workflow finished"]
  allowed_lateness: ${lateness}s
sinks:
  - url: unix://$work/redis.sock
checkpoints: {dir: $work/ckpt}
metrics: {listen: "127.0.0.1:0"}
log: {level: info, format: text}
EOF
start_daemon "$work"
pid=$daemon_pid
clk_tck=$(getconf CLK_TCK)

echo "soak: $seconds s at $rate lines/s, ~$open workflows open ($in_flight in progress in the" \
    "writer), ~$markers alerts/s; sample every $every s, warm-up $warmup s, windows of $window s"
echo "soak: samples in $csv"
echo "t_s,rss_kb,fds,cpu_s,lines_written,events,rejected,timelines_open,timelines_closed,alerts,\
alerts_rate_limited,sink_queue,sink_delivered,checkpoint_lag_bytes,closed_json_bytes,\
alerts_timed,latency_p50_ms,latency_p99_ms" >"$csv"

"$bench" "$work/app.log" "$rate" "$seconds" "$in_flight" "$markers" "$work/redis.sock" \
    "$work" >"$results/probe.txt" 2>"$work/probe.err" &
probe_pid=$!
t0=$(now)
for _ in $(seq 200); do [ -f "$work/progress" ] && break; sleep 0.05; done
[ -f "$work/progress" ] || { cat "$work/probe.err" >&2; die "ll-bench-soak did not start"; }
exec {lat_fd}<"$work/markers.tsv"
carry=
last_fds=

# sample T: one CSV row for the sample at T seconds into the run.
sample() {
    local t=$1 key v rss=0 fds cpu written lat=() line p50 p99 row
    while read -r key v _; do
        [ "$key" = VmRSS: ] && rss=$v
    done <"/proc/$pid/status"
    fds=(/proc/"$pid"/fd/*)
    read -r -a v <"/proc/$pid/stat"
    # utime and stime are fields 14 and 15; the name (field 2) has no space.
    cpu=$(awk -v u="${v[13]}" -v s="${v[14]}" -v hz="$clk_tck" \
        'BEGIN {printf "%.2f", (u + s) / hz}')
    read -r written <"$work/progress" || written=0
    scrape_metrics "$port" || metric=()
    # Alerts timed since the last sample; a line not ended yet waits.
    while IFS= read -r line <&"$lat_fd" || { carry+=$line; false; }; do
        line=$carry$line
        carry=
        lat+=("${line#* }")
    done
    if [ "${#lat[@]}" -gt 0 ]; then
        p50=$(printf '%s\n' "${lat[@]}" | pct 0.50)
        p99=$(printf '%s\n' "${lat[@]}" | pct 0.99)
    else
        p50= p99=
    fi
    if [ "${#fds[@]}" != "$last_fds" ]; then # what changed, for the record
        { echo "t=$t: ${#fds[@]} descriptors"; ls -l "/proc/$pid/fd/"; } \
            >>"$results/fds.txt" 2>&1
        last_fds=${#fds[@]}
    fi
    m() { echo "${metric[$1]:-}"; }
    row=("$t" "$rss" "${#fds[@]}" "$cpu" "$written")
    for key in events_total rejected_lines_total timelines_open timelines_total alerts_total \
        alerts_rate_limited_total sink_queue_depth sink_delivered_total checkpoint_lag_bytes; do
        row+=("$(m "logloom_$key")")
    done
    row+=("$(stat -c %s "$work/ckpt/closed.json" 2>/dev/null || echo 0)" "${#lat[@]}" "$p50" "$p99")
    (IFS=,; echo "${row[*]}") >>"$csv"
    if [ $((t % 60)) -eq 0 ] || [ "$t" -eq "$every" ]; then
        printf '  %5d s: RSS %6.1f MiB, %3d fds, %5s open, %9s lines, %9s events, %s alerts,' \
            "$t" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "${#fds[@]}" \
            "$(m logloom_timelines_open)" "$written" "$(m logloom_events_total)" \
            "$(m logloom_alerts_total)"
        echo " latency p50/p99 ${p50:--}/${p99:--} ms"
    fi
}

for ((k = 1; k * every <= seconds; k++)); do
    # Sleep until t0 + k * every.
    sleep "$(awk -v t0="$t0" -v n="$(now)" -v at="$((k * every))" \
        'BEGIN {d = t0 + at - n; print (d > 0 ? d : 0)}')"
    kill -0 "$pid" 2>/dev/null || { cat "$work/run.err" >&2; die "logloom run died"; }
    sample $((k * every))
done

probe_rc=0
wait "$probe_pid" || probe_rc=$?
probe_pid=
cat "$work/probe.err" >&2
if [ "$probe_rc" -ne 0 ]; then
    echo "soak.sh: alerts missing (ll-bench-soak exited $probe_rc)" >&2
    status=1
fi
read -r written <"$work/progress"
# What was written must all be counted.
events=0 rejected=0
for _ in $(seq 600); do
    scrape_metrics "$port" || metric=()
    events=${metric[logloom_events_total]:-0}
    rejected=${metric[logloom_rejected_lines_total]:-0}
    [ "$((events + rejected))" -ge "$written" ] && break
    sleep 0.1
done
stop_run
cp "$work/run.err" "$results/run.log"

echo
sed 's/^/probe: /' "$results/probe.txt"
awk -F, -v w="$warmup" -v win="$window" -v end="$seconds" -v maxd="$max_drift" '
    function med(a, n,   i, j, t) { # sorts a[1..n] in place, returns the median
        for (i = 2; i <= n; i++) {
            t = a[i]
            for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]
            a[j + 1] = t
        }
        return n ? a[int((n + 1) / 2)] : 0
    }
    NR == 1 { next }
    {
        fd_min = (NR == 2 || $3 < fd_min) ? $3 : fd_min
        fd_max = $3 > fd_max ? $3 : fd_max
    }
    $1 < w { next }
    {
        r[++n] = $2
        omin = (n == 1 || $8 < omin) ? $8 : omin; omax = $8 > omax ? $8 : omax
        lagmax = $14 > lagmax ? $14 : lagmax; cpu = $4
        if ($1 < w + win) { f[++nf] = $2; ff[nf] = $3 }
        if ($1 > end - win) { l[++nl] = $2; lf[nl] = $3 }
    }
    END {
        if (!n || !nf || !nl) { print "summary: not enough samples after the warm-up"; exit 3 }
        mf = med(f, nf); ml = med(l, nl); mff = med(ff, nf); mlf = med(lf, nl); m = med(r, n)
        drift = (ml - mf) * 100 / mf
        printf "RSS after warm-up (%d s, %d samples): min %.1f MiB, median %.1f MiB, " \
            "max %.1f MiB\n", w, n, r[1] / 1024, m / 1024, r[n] / 1024
        printf "RSS drift: last %d s median %.1f MiB vs first %d s after warm-up %.1f MiB: " \
            "%+.2f%% (limit %d%%)\n", win, ml / 1024, win, mf / 1024, drift, maxd
        printf "fds: min %d, max %d (whole run); median %d in the first window after warm-up, " \
            "%d in the last\n", fd_min, fd_max, mff, mlf
        printf "after warm-up: workflows open min %d, max %d; checkpoint lag max %.1f MB; " \
            "daemon CPU %.1f s in all\n", omin, omax, lagmax / 1e6, cpu
        bad = 0
        if (drift > maxd) { print "FAIL: RSS grew more than " maxd "% after the warm-up"; bad = 1 }
        if (mlf > mff) { print "FAIL: descriptors grew"; bad = 1 }
        exit bad
    }' "$csv" || status=1

echo "latency (line written -> alert on the Redis channel), per $window s window of send time:"
awk -v win="$window" '{print int($1 / win), $2}' "$work/markers.tsv" | sort -k1,1n -k2,2g |
    awk -v win="$window" '
    function rank(q,   r) { r = int(q * n); if (r < q * n) r++; return r < 1 ? 1 : r } # nearest
    function out() {
        if (!n) return
        printf "  %5d-%5d s: %6d alerts, p50 %7.3f ms, p99 %7.3f ms, max %7.3f ms\n",
            cur * win, (cur + 1) * win, n, v[rank(0.5)], v[rank(0.99)], v[n]
    }
    NR == 1 || $1 != cur { out(); cur = $1; n = 0 }
    { v[++n] = $2 }
    END { out() }'
echo "lines written $written, events counted $events, rejected $rejected"
if [ "$events" -ne "$written" ] || [ "$rejected" -ne 0 ]; then
    echo "FAIL: lines lost or rejected" >&2
    status=1
fi
grep -E ': (warn|error): ' "$results/run.log" | head -n 20 | sed 's/^/daemon: /' || true
echo "soak: samples in $csv (probe output and the daemon's log beside it)"
[ "$status" -eq 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit "$status"
