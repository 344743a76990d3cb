#!/bin/sh
# The command line: help, version, nodes, docs in step, option placement,
# and the module loaded from a stock lua5.4.
: "${STRATA:=./strata}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

ok() { if [ "$2" = yes ]; then echo "ok $1"; else echo "FAIL $1: $3"; fi; }
yes_if() { if "$@"; then echo yes; else echo no; fi; }

out=$("$STRATA" --version)
ok "--version" "$(yes_if test "$out" = "strata 0.1.0")" "$out"
out=$("$STRATA" --help)
ok "--help lists the commands" "$(yes_if grep -q 'nodes \[NAME\]' <<EOF2
$out
EOF2
)" "no nodes line"
"$STRATA" nodes > "$dir/nodes"
ok "nodes lists every node" "$(yes_if test "$(grep -cE '^  (load|save|stft|istft|magnitude|power|phase|mix|gain|mono|slice|info) ' "$dir/nodes")" -eq 12)" "$(cat "$dir/nodes")"
"$STRATA" nodes stft > "$dir/stft"
ok "nodes NAME shows parameters, defaults and ranges" "$(yes_if grep -qE 'n_fft +integer +default 2048 +16 .. 65536' "$dir/stft")" "$(cat "$dir/stft")"
"$STRATA" nodes --markdown > "$dir/nodes.md"
ok "doc/nodes.md is up to date (make docs)" "$(yes_if cmp -s "$dir/nodes.md" doc/nodes.md)" "doc/nodes.md differs from strata nodes --markdown"
ok "doc/streaming.md's node table is up to date (make docs)" "$(yes_if test "$(sed -n '/<!-- begin streaming table/,/<!-- end streaming table/p' doc/streaming.md | sed '1d;$d')" = "$("$STRATA" nodes --streaming-table)")" "run make docs"
ok "nodes says where each node runs, whole first sentences, several names" "$(yes_if test "$(grep -cE '^  (stft +both|slice +offline|jack_in +stream|bsseval +offline .*Le Roux et al\. [^ ]+\)) ' "$dir/nodes")" -eq 4 -a "$("$STRATA" nodes stft hpss | grep -c '^  runs: ')" -eq 2)" "$(cat "$dir/nodes")"

cat > "$dir/args.lua" <<'EOF2'
print(table.concat(arg, "|"))
EOF2
out=$("$STRATA" run "$dir/args.lua" a --quiet b --threads 1 c -- --quiet d)
ok "global options anywhere, -- passes the rest" "$(yes_if test "$out" = "a|b|c|--|--quiet|d")" "$out"

out=$("$STRATA" stft-roundtrip --help)
ok "a patch answers --help" "$(yes_if test -n "$(echo "$out" | grep -- '--n-fft N')")" "$out"
out=$("$STRATA" --quiet stft-roundtrip --demo "$dir/demo.wav")
ok "demo round trip is exact" "$(yes_if test -n "$(echo "$out" | grep '(exact)')")" "$out"
"$STRATA" --quiet stft-roundtrip "$dir/demo.wav" "$dir/back.wav" --n-fft 4096 --hop 2048 > "$dir/rt" 2>&1
ok "round trip of a file" "$(yes_if grep -q '(exact)' "$dir/rt")" "$(cat "$dir/rt")"

out=$("$STRATA" --quiet demo "$dir/demo" --bars 16)
sdr=$(echo "$out" | sed -n 's/^ *drums *loop_[0-9]* *\([-0-9.]*\).*/\1/p')
ok "demo: strata unmix finds the drum loop (SDR above 8 dB)" "$(yes_if awk -v a="$sdr" 'BEGIN { exit !(a > 8) }')" "$out"
ok "demo writes its files" "$(yes_if test -s "$dir/demo/stems/loop_01.wav" -a -s "$dir/demo/layout.json")" "$(ls "$dir/demo")"

cat > "$dir/info.lua" <<'EOF2'
local strata = require "strata"
strata.signal{ seconds = 2, channels = 2 }:info("sig")
EOF2
out=$("$STRATA" run "$dir/info.lua")
ok "info prints a description" "$(yes_if test "$out" = "sig: audio: 2 channels, 88200 frames, 44100 Hz, 2.000 s")" "$out"
out=$("$STRATA" --quiet run "$dir/info.lua")
ok "--quiet silences info" "$(yes_if test -z "$out")" "$out"

if command -v lua5.4 > /dev/null && [ -f strata.so ]; then
    out=$(lua5.4 -e 'package.cpath = "./?.so;" .. package.cpath
        local strata = require "strata"
        local x = strata.signal { seconds = 1 }
        print(string.format("%.4f", (x:stft():istft() - x):eval().peak))')
    ok "strata.so loads in a stock lua5.4" "$(yes_if test "$out" = "0.0000")" "$out"
else
    echo "skip strata.so: no lua5.4 interpreter or no strata.so"
fi
