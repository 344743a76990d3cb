#!/bin/sh
# Runs each libFuzzer harness of build-fuzz/fuzz/ for SECONDS (default 60),
# from its committed seeds (tests/fuzz/seeds/NAME; models/ for safetensors) and the corpus it grew
# before (build-fuzz/corpus/NAME, never committed). Prints one line per
# harness (executions, corpus size, findings); a finding is kept in
# build-fuzz/artifacts/ and makes the exit status 1.
cd "$(dirname "$0")/../.." || exit 1
seconds=${1:-60}
status=0
mkdir -p build-fuzz/artifacts
for bin in build-fuzz/fuzz/fuzz_*; do
    name=$(basename "$bin")
    corpus=build-fuzz/corpus/$name
    mkdir -p "$corpus"
    max_len=4096 seeds=tests/fuzz/seeds/$name
    [ "$name" = fuzz_load ] && max_len=65536
    [ "$name" = fuzz_safetensors ] && max_len=65536 seeds=models # the weights are its seeds
    log=build-fuzz/$name.log
    "$bin" "$corpus" "$seeds" -max_total_time="$seconds" -max_len="$max_len" \
        -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/artifacts/$name-" > "$log" 2>&1
    result=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    units=$(ls "$corpus" | wc -l)
    if [ "$result" -eq 0 ]; then
        echo "ok fuzz $name: ${runs:-?} executions in $seconds s, corpus $units, no finding"
    else
        status=1
        echo "FAIL fuzz $name: exit $result after ${runs:-?} executions; see $log and build-fuzz/artifacts/"
        grep -m 3 -E "ERROR|runtime error|SUMMARY" "$log"
    fi
done
exit $status
