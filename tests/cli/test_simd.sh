#!/bin/sh
# The hand-written vector loops (AVX, AVX-512) against the plain loops that a
# CPU without them runs, through STRATA_SIMD (vm/simd.h): the commands whose
# vector paths claim the plain loops' numbers must write the same bytes with
# the vectors capped; and a capped run keys its results apart in the cache.
. "$(dirname "$0")/helpers.sh"

"$STRATA" --quiet run /dev/stdin <<EOF2
local strata = require "strata"
strata.testsong { bars = 8, tempo = 120, arrangement = "loops", seed = 5 }.mixture:save("$dir/song.wav")
EOF2

# every file a command wrote under a folder, with its md5, but layout.json (timings)
sums() { (cd "$1" && find . -type f ! -name layout.json | sort | xargs md5sum); }

for cap in "" avx plain; do
    STRATA_SIMD=$cap "$STRATA" --quiet --no-cache unmix "$dir/song.wav" -o "$dir/unmix$cap" \
        --loops 3 --iterations 40 > /dev/null 2>&1
    # the Tucker model's stems take loop_stems' ungrouped Wiener loop, the default's the grouped one
    STRATA_SIMD=$cap "$STRATA" --quiet --no-cache unmix "$dir/song.wav" -o "$dir/tucker$cap" \
        --loops 3 --iterations 40 --model tucker > /dev/null 2>&1
    STRATA_SIMD=$cap "$STRATA" --quiet --no-cache beats "$dir/song.wav" -o "$dir/beats$cap.txt" \
        > /dev/null 2>&1
    STRATA_SIMD=$cap "$STRATA" --quiet --no-cache repet "$dir/song.wav" -o "$dir/repet$cap" \
        > /dev/null 2>&1
done
n=$(sums "$dir/unmix" | wc -l)
for cap in avx plain; do
    ok "unmix writes the same $n files with STRATA_SIMD=$cap (loops, loop_stems, magnitudes)" \
        "$(yes_if test "$n" -ge 9 -a "$(sums "$dir/unmix")" = "$(sums "$dir/unmix$cap")")" \
        "they differ"
    ok "unmix --model tucker writes the same files with STRATA_SIMD=$cap (ungrouped Wiener masks)" \
        "$(yes_if test "$(sums "$dir/tucker" | wc -l)" -ge 9 -a "$(sums "$dir/tucker")" = "$(sums "$dir/tucker$cap")")" \
        "they differ"
    ok "beats are the same with STRATA_SIMD=$cap (the decoder's vector loops)" \
        "$(yes_if cmp -s "$dir/beats.txt" "$dir/beats$cap.txt")" "they differ"
    ok "repet writes the same files with STRATA_SIMD=$cap" \
        "$(yes_if test -n "$(sums "$dir/repet")" -a "$(sums "$dir/repet")" = "$(sums "$dir/repet$cap")")" \
        "they differ"
done

# the cache: a capped run does not take the uncapped run's results
"$STRATA" --quiet beats "$dir/song.wav" -o "$dir/c1.txt" > /dev/null 2>&1
before=$(find "$STRATA_CACHE_DIR" -type f | wc -l)
STRATA_SIMD=plain "$STRATA" --quiet beats "$dir/song.wav" -o "$dir/c2.txt" > /dev/null 2>&1
after=$(find "$STRATA_CACHE_DIR" -type f | wc -l)
ok "a capped run keys its cached results apart" "$(yes_if test "$before" -gt 0 -a "$after" -gt "$before")" \
    "$before files before, $after after"
STRATA_SIMD=plain "$STRATA" --quiet beats "$dir/song.wav" -o "$dir/c3.txt" > /dev/null 2>&1
ok "and finds them again" "$(yes_if test "$(find "$STRATA_CACHE_DIR" -type f | wc -l)" -eq "$after")" \
    "the cache grew again"

# a misspelt cap is said, in one line, and taken as plain
run env STRATA_SIMD=AVX512 "$STRATA" --quiet --no-cache beats "$dir/song.wav" -o "$dir/c4.txt"
ok "an unknown STRATA_SIMD is one warning and caps at plain" \
    "$(yes_if test "$status" -eq 0 -a "$(echo "$out" | grep -c "STRATA_SIMD = 'AVX512' is not plain, avx or avx512; taking plain")" -eq 1)" \
    "status $status: $out"
