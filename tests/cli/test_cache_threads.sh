#!/bin/sh
# The on-disk cache and the thread count: a node whose result's last bits
# depend on the thread count (rpca: OpenBLAS threads its SVD) is not served
# from a run on another count, and is served from one on the same count; a
# node whose bits do not (nmf: fixed parts) is served across counts.
: "${STRATA:=./strata}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ok() { if [ "$2" = "$3" ]; then echo "ok $1"; else echo "FAIL $1: disk hits $2, expected $3"; fi; }
export STRATA_CACHE_DIR="$dir/cache"
cat > "$dir/hits.lua" <<'EOF2'
local strata = require "strata"
local V = strata.testsong { bars = 2 }.mixture:stft { n_fft = 512, hop = 256 }
local node = arg[1] == "rpca" and V:rpca { iterations = 5 }.masks or V:magnitude():nmf { rank = 3, iterations = 5 }.W
node:eval()
print(strata.stats().disk_hits)
EOF2
hits() { timeout 120 "$STRATA" --quiet --threads "$1" run "$dir/hits.lua" "$2" 2>&1; }
first=$(hits 1 rpca)
ok "cache: rpca's first run computes" "$first" 0
ok "cache: rpca made on 1 thread is not served to 2" "$(hits 2 rpca)" 0
ok "cache: rpca made on 2 threads is served to 2" "$(hits 2 rpca)" 1
ok "cache: nmf's first run computes" "$(hits 1 nmf)" 0
ok "cache: nmf made on 1 thread is served to 2 (its bytes do not depend on threads: unit test_nmf)" "$(hits 2 nmf)" 1

# strata unmix: the same files on 1 thread (the ntd computed and cached) and on 2 (the ntd read
# from the cache, OpenBLAS left at its default): the loops node's refinement is cut in fixed
# chunks and its products run on one OpenBLAS thread whatever the nodes before it left
"$STRATA" --quiet run /dev/stdin <<EOF2
require("strata").testsong { bars = 8, seed = 2, arrangement = "loops" }.mixture:save("$dir/song.wav")
EOF2
digest() { cat "$1"/stems/*.wav "$1"/loops/*.wav | md5sum | cut -c1-32; }
timeout 120 "$STRATA" --quiet --threads 1 unmix "$dir/song.wav" --loops 3 -o "$dir/u1" > /dev/null 2>&1
timeout 120 "$STRATA" --quiet --threads 2 unmix "$dir/song.wav" --loops 3 -o "$dir/u2" > /dev/null 2>&1
one=$(digest "$dir/u1") two=$(digest "$dir/u2")
if [ -n "$one" ] && [ "$one" = "$two" ] && [ -s "$dir/u1/stems/loop_01.wav" ]; then
    echo "ok cache: unmix's stems and loops the same bytes on 1 thread and on 2 from the cache"
else
    echo "FAIL cache: unmix's stems and loops the same bytes on 1 thread and on 2 from the cache: $one $two"
fi

# strata nmf twice: the second run reads the factorisation from the cache; its
# grouping (nmf_group's products) must not inherit OpenBLAS's thread count from
# whether the nmf node ran (it leaves one thread) or was read (the default):
# the graph runner starts every node on one OpenBLAS thread
timeout 120 "$STRATA" --quiet nmf "$dir/song.wav" -o "$dir/n1" > /dev/null 2>&1
timeout 120 "$STRATA" --quiet nmf "$dir/song.wav" -o "$dir/n2" > /dev/null 2>&1
one=$(cat "$dir"/n1/*.wav | md5sum | cut -c1-32) two=$(cat "$dir"/n2/*.wav | md5sum | cut -c1-32)
if [ -s "$dir/n1/source_1.wav" ] && [ "$one" = "$two" ]; then
    echo "ok cache: nmf's sources the same bytes computed and with the factorisation from the cache"
else
    echo "FAIL cache: nmf's sources the same bytes computed and with the factorisation from the cache: $one $two"
fi
