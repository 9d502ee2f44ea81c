# Shared by the benchmark scripts: timing, medians, scraping /metrics,
# stopping `logloom run` and a throwaway Redis. Expects $prog (for
# messages), and for the run helpers $logloom, $events, $status and
# $daemon_pid.

die() { echo "$prog: $*" >&2; exit 2; }
now() { echo "${EPOCHREALTIME:-$(date +%s.%N)}"; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "-" hi}'; }

stop_run() {
    local rc=0
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" || rc=$?
    daemon_pid=
    [ "$rc" -eq 0 ] || { echo "$prog: logloom run exited $rc" >&2; status=1; }
}

# scrape PORT: the sum of logloom_events_total into $scraped (bash's own
# /dev/tcp, so polling forks nothing); 1 if the server does not answer.
scrape() {
    local line v
    scraped=0
    exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&"$fd"
    while IFS= read -r line <&"$fd"; do
        case $line in
        logloom_events_total*)
            v=${line##* }
            v=${v%$'\r'}
            scraped=$((scraped + ${v%%.*}))
            ;;
        esac
    done
    exec {fd}<&-
}

# start_daemon DIR: starts `logloom run -c DIR/run.yaml` (with metrics on
# 127.0.0.1:0) in the background; sets $port once it listens.
start_daemon() {
    local dir=$1 line
    port=''
    "$logloom" run -c "$dir/run.yaml" >/dev/null 2>"$dir/run.err" &
    daemon_pid=$!
    while [ -z "$port" ]; do
        kill -0 "$daemon_pid" 2>/dev/null || { cat "$dir/run.err" >&2; die "run failed"; }
        if [ -f "$dir/run.err" ]; then
            while IFS= read -r line; do
                [[ $line =~ \(port\ ([0-9]+)\) ]] && port=${BASH_REMATCH[1]}
            done <"$dir/run.err"
        fi
        [ -n "$port" ] || sleep 0.01
    done
}

# wait_events T0: polls the daemon's /metrics until it shows $events
# events; sets $visible to the seconds since T0 (a now() value), $finished
# to the estimate of when reading finished (from the rate between the last
# samples: metrics are published once a second while busy), and $steady to
# events/s from the first sample that showed events to the last before all
# (0: too few samples), which leaves out the start. Stops the daemon.
wait_events() {
    local t0=$1 t prev_t prev_v last_t last_v first_t=0 first_v=0
    prev_t=0 prev_v=0 last_t=0 last_v=0
    for _ in $(seq 6000); do # 5 minutes at most
        scrape "$port" || scraped=0
        t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')
        [ "$scraped" -ge "$events" ] && break
        if [ "$scraped" -ne "$last_v" ]; then
            prev_t=$last_t prev_v=$last_v last_t=$t last_v=$scraped
            [ "$first_v" -gt 0 ] || first_t=$t first_v=$scraped
        fi
        sleep 0.05
    done
    stop_run
    [ "$scraped" -ge "$events" ] || die "run never showed $events events (last: $scraped)"
    [ "$scraped" -eq "$events" ] || echo "$prog: run counted $scraped events, not $events" >&2
    visible=$t
    finished=$(awk -v t="$t" -v pt="$prev_t" -v pv="$prev_v" -v lt="$last_t" -v lv="$last_v" \
        -v n="$events" 'BEGIN {
            if (lv == 0 || lt <= pt) { print t; exit }
            e = lt + (n - lv) * (lt - pt) / (lv - pv)
            print (e < t ? e : t) }')
    steady=$(awk -v ft="$first_t" -v fv="$first_v" -v lt="$last_t" -v lv="$last_v" 'BEGIN {
            print (lt > ft ? (lv - fv) / (lt - ft) : 0) }')
}

# time_to_events DIR: start_daemon and wait_events, timed from the start.
time_to_events() {
    local t0
    t0=$(now)
    start_daemon "$1"
    wait_events "$t0"
}

# versus_replay LABEL FN: $rounds rounds, interleaved, of `logloom replay
# --format none $corpus` (the whole process, timed) and of FN ROUND (which
# sets $visible, $finished and $steady, see wait_events); prints each
# round, then medians beside replay's; leaves FN's median seconds to
# visible in $visible_median.
versus_replay() {
    local label=$1 fn=$2 round which t0 mr mv mf ms
    local replay_s=() visible_s=() finished_s=() steady_r=()
    for round in $(seq "$rounds"); do
        for which in replay run; do
            [ $((round % 2)) -eq 0 ] && which=$([ "$which" = replay ] && echo run || echo replay)
            if [ "$which" = replay ]; then
                t0=$(now)
                "$logloom" replay --format none "$corpus" 2>/dev/null
                replay_s+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')")
                echo "  round $round: replay ${replay_s[-1]} s"
            else
                "$fn" "$round"
                visible_s+=("$visible")
                finished_s+=("$finished")
                steady_r+=("$steady")
                echo "  round $round: $label $visible s to visible in /metrics (finished" \
                    "~$finished s, steady $steady events/s)"
            fi
        done
    done
    mr=$(printf '%s\n' "${replay_s[@]}" | median)
    mv=$(printf '%s\n' "${visible_s[@]}" | median)
    mf=$(printf '%s\n' "${finished_s[@]}" | median)
    ms=$(printf '%s\n' "${steady_r[@]}" | median)
    rate() { awk -v n="$events" -v s="$1" 'BEGIN {printf "%.0f", n / s}'; }
    ratio() { awk -v a="$mr" -v b="$1" 'BEGIN {printf "%.2fx", a / b}'; }
    printf '\n%-34s %10s %14s %s\n' "" seconds "events/s" "vs replay"
    printf '%-34s %10.3f %14s %s\n' "replay --format none" "$mr" "$(rate "$mr")" "1.00x"
    printf '%-34s %10.3f %14s %s\n' "$label, until /metrics shows all" "$mv" "$(rate "$mv")" \
        "$(ratio "$mv")"
    printf '%-34s %10.3f %14s %s\n' "$label, finished (estimate)" "$mf" "$(rate "$mf")" \
        "$(ratio "$mf")"
    printf '%-34s %10s %14.0f %.2fx\n' "$label, steady rate" "" "$ms" \
        "$(awk -v a="$mr" -v r="$ms" -v n="$events" 'BEGIN {print r * a / n}')"
    visible_median=$mv
    echo "(seconds: medians of $rounds; replay $(printf '%s\n' "${replay_s[@]}" | range)," \
        "$label $(printf '%s\n' "${visible_s[@]}" | range))"
}

# corpus_events: $corpus (made by $gen with $lines lines unless
# LL_BENCH_CORPUS names one), and into $events what `run` makes of it:
# replay's events plus the lines that are not JSON (run keeps them as raw
# events; replay rejects them). Reads it once, which warms the page cache.
corpus_events() {
    local stats not_json
    corpus=${LL_BENCH_CORPUS:-$work/corpus.log}
    if [ -z "${LL_BENCH_CORPUS:-}" ]; then
        "$gen" --lines "$lines" --seed 1 --out "$corpus" 2>/dev/null
    fi
    stats=$("$logloom" replay --format jsonl --no-rules -q "$corpus" | tail -n 1)
    events=$(sed -n 's/.*"type":"stats","events":\([0-9]*\).*/\1/p' <<<"$stats")
    not_json=$(sed -n 's/.*"not_json":\([0-9]*\).*/\1/p' <<<"$stats")
    [ -n "$events" ] || die "no stats record from replay"
    events=$((events + ${not_json:-0}))
}

# start_redis DIR [HINT]: redis-server in the background on the unix socket
# DIR/redis.sock (no TCP, and no persistence: --save '' --appendonly no, so
# the figures are logloom's and not the disk's; its log DIR/redis.log), its
# pid in $redis_pid; back once it answers PING, else dies (saying HINT).
# Then rcli ARGS is redis-cli on that socket.
start_redis() {
    redis_sock=$1/redis.sock
    redis-server --port 0 --unixsocket "$redis_sock" --unixsocketperm 700 --save '' \
        --appendonly no --dir "$1" --logfile "$1/redis.log" &
    redis_pid=$!
    for _ in $(seq 100); do rcli ping >/dev/null 2>&1 && break; sleep 0.05; done
    rcli ping >/dev/null || die "redis-server did not start${2:+ ($2)}"
}
rcli() { redis-cli -s "$redis_sock" "$@"; }

# kafka_setup: a work directory ($work) and a trap that stops `logloom run`
# ($daemon_pid) and the mock cluster ($mock_pid) and removes it.
kafka_setup() {
    work=$(mktemp -d "/tmp/ll-$prog-XXXXXX")
    mock_pid=
    daemon_pid=
    status=0
    trap 'stop_pid "$daemon_pid"; stop_pid "$mock_pid"; rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM
}

# start_mock ARGS...: `$mock serve ARGS` (librdkafka's mock cluster) in the
# background; sets $mock_pid and $bootstrap.
start_mock() {
    "$mock" serve "$@" </dev/null >"$work/mock.out" 2>"$work/mock.err" &
    mock_pid=$!
    for _ in $(seq 100); do
        [ -s "$work/mock.out" ] && break
        sleep 0.05
    done
    bootstrap=$(head -n 1 "$work/mock.out")
    [ -n "$bootstrap" ] || die "the mock cluster did not start"
}

# stop_pid PID: SIGTERM and wait (nothing if empty or gone).
stop_pid() {
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# scrape_metrics PORT: every sample of /metrics, summed over its labels by
# metric name, into the associative array $metric (integers; fractions cut);
# 1 if the server does not answer.
scrape_metrics() {
    local line name v fd
    declare -gA metric
    metric=()
    exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&"$fd"
    while IFS= read -r line <&"$fd"; do
        line=${line%$'\r'}
        case $line in logloom_*) ;; *) continue ;; esac
        name=${line%%[{ ]*}
        v=${line##* }
        metric[$name]=$((${metric[$name]:-0} + ${v%%.*}))
    done
    exec {fd}<&-
}
