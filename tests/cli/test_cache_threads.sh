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
ok "cache: nmf made on 1 thread is served to 2 (the same bytes)" "$(hits 2 nmf)" 1
