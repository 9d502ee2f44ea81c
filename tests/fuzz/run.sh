#!/bin/sh
# Fuzzes every target (or those named) for SECONDS each with libFuzzer.
#
#   tests/fuzz/run.sh [-m] SECONDS [TARGET...]
#
# Builds build-fuzz/ with clang (-fsanitize=fuzzer,address,undefined) if
# needed. Each target starts from its corpus (tests/fuzz/corpus/TARGET)
# and dictionary (TARGET.dict); what it finds goes to a scratch directory,
# and with -m the inputs that add coverage are merged into the corpus, to
# be committed. A crash, leak or timeout stops the script with the input
# that caused it, to be fixed and added to the corpus as a regression.
# Prints runs and executions per second per target.
set -eu
cd "$(dirname "$0")/../.."
merge=0
if [ "${1:-}" = "-m" ]; then
    merge=1
    shift
fi
seconds=${1:?usage: tests/fuzz/run.sh [-m] SECONDS [TARGET...]}
shift
targets=${*:-decode json frame time config rules checkpoint}
build=${LL_FUZZ_BUILD_DIR:-build-fuzz}

command -v clang >/dev/null || { echo "fuzz: clang is not installed" >&2; exit 2; }
if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLL_FUZZ=ON \
        -DLL_SANITIZE=address,undefined -DLL_BUILD_BENCHMARKS=OFF \
        -DLL_WERROR="${LL_WERROR:-OFF}" >/dev/null
fi
for t in $targets; do
    cmake --build "$build" -j "$(nproc)" --target "fuzz-$t" >/dev/null
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ll-fuzz-run-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
status=0
for t in $targets; do
    mkdir -p "$scratch/$t"
    log=$scratch/$t.log
    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -close_fd_mask=3 -print_final_stats=1 \
        -dict="tests/fuzz/$t.dict" -artifact_prefix="$scratch/$t-" \
        "$scratch/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
        echo "fuzz: $t: $runs runs in ${seconds}s ($rate/s), $cov, $(ls "$scratch/$t" | wc -l) new inputs"
        if [ "$merge" -eq 1 ]; then
            "$build/tests/fuzz/fuzz-$t" -merge=1 -close_fd_mask=3 "tests/fuzz/corpus/$t" \
                "$scratch/$t" >/dev/null 2>&1
        fi
    else
        status=1
        echo "fuzz: $t FAILED; the end of its log:" >&2
        tail -n 60 "$log" >&2
        for a in "$scratch/$t"-*; do
            [ -e "$a" ] || continue
            mkdir -p fuzz-crashes
            cp "$a" fuzz-crashes/
            echo "fuzz: input kept in fuzz-crashes/$(basename "$a")" >&2
        done
    fi
done
exit "$status"
