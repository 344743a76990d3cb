#!/bin/sh
# Long work shows progress, and absurd sizes fail up front.
# - On a terminal (script(1) makes one), nodes that know their fraction draw a bar with a note
#   (nmf: the divergence, rpca: the residual); a node that does not (repet_sim) still shows
#   its name and the seconds it has run. Never under --quiet, never when stderr is not a terminal.
# - A node that would take more than the memory budget (STRATA_MAX_MEMORY_MB) fails before it
#   allocates, in one line naming the parameter to change.
. "$(dirname "$0")/helpers.sh"

cat > "$dir/long.lua" <<'EOF2'
local strata = require "strata"
local spec = strata.signal { kind = "noise", seconds = 20, channels = 1 }:stft { n_fft = 2048, hop = 512 }
spec:magnitude():nmf { rank = 8, iterations = 40, tol = 0 }:eval()
spec:rpca { iterations = 3 }.masks:eval()
-- the watcher looks every 250 ms: repet_sim must run well over half a
-- second on a quiet machine (20 s of noise took 0.2 s, 60 s about 1 s)
strata.signal { kind = "noise", seconds = 60, channels = 1 }:stft { n_fft = 2048, hop = 512 }:repet_sim {}:eval()
EOF2
if ! command -v script > /dev/null; then
    echo "skip progress on a terminal: no script(1) (bsdutils)"
elif ! script -qec true /dev/null > /dev/null 2>&1; then
    echo "skip progress on a terminal: script(1) cannot make a pseudo-terminal here (no /dev/pts)"
else
    STRATA_PROGRESS_AFTER_S=0 timeout 120 script -qec "'$STRATA' --no-cache run '$dir/long.lua'" /dev/null > "$dir/tty.out" 2>&1
    bars=$(tr '\r' '\n' < "$dir/tty.out")
    ok "on a terminal: nmf's bar with its divergence" \
        "$(yes_if test -n "$(echo "$bars" | grep -E '^nmf +\[#+\.*\] +[0-9]+% divergence [0-9]')")" "$(echo "$bars" | head -c 600)"
    ok "on a terminal: rpca's bar with its residual" \
        "$(yes_if test -n "$(echo "$bars" | grep -E '^rpca +\[#+\.*\] +[0-9]+% residual [0-9]')")" "$(echo "$bars" | head -c 600)"
    ok "on a terminal: a node without a fraction (repet_sim) shows the seconds it has run" \
        "$(yes_if test -n "$(echo "$bars" | grep -E '^repet_sim +\[ *=== *\] +[0-9]+ s')")" "$(echo "$bars" | head -c 600)"
    STRATA_PROGRESS_AFTER_S=0 timeout 120 script -qec "'$STRATA' --quiet --no-cache run '$dir/long.lua'" /dev/null > "$dir/quiet.out" 2>&1
    ok "--quiet draws nothing on a terminal" "$(yes_if test ! -s "$dir/quiet.out")" "$(head -c 300 "$dir/quiet.out")"
fi
STRATA_PROGRESS_AFTER_S=0 "$STRATA" --no-cache run "$dir/long.lua" > "$dir/pipe.out" 2>&1
ok "no bar when stderr is not a terminal" "$(yes_if test ! -s "$dir/pipe.out")" "$(head -c 300 "$dir/pipe.out")"

# memory budget: each node names what is too large and what to change
budget() { # NAME MB PATTERN LUA
    printf 'local strata = require "strata"\n%s\n' "$4" > "$dir/budget.lua"
    run env STRATA_MAX_MEMORY_MB="$2" timeout 60 "$STRATA" --quiet run "$dir/budget.lua"
    ok "$1" "$(yes_if test "$status" = 1 -a "$(echo "$out" | grep -c '')" = 1 -a -n "$(echo "$out" | grep -E -- "$3")")" \
        "exit $status: $out"
}
budget "stft over the budget: raise hop" 2 \
    "budget.lua:2: stft: the spectrum \(hop = 16 with n_fft = 2048: [0-9]+ frames\) needs [0-9]+ MB, more than the 2 MB a node may take \(STRATA_MAX_MEMORY_MB\): raise hop" \
    'strata.signal { seconds = 2 }:stft { n_fft = 2048, hop = 16 }:eval()'
budget "nmf over the budget: lower rank" 5 \
    "nmf: NMF of rank 1024 on 1025 bins x 173 frames needs [0-9]+ MB, more than the 5 MB .*: lower rank" \
    'strata.signal { seconds = 2 }:stft {}:magnitude():nmf { rank = 1024 }:eval()'
budget "rpca over the budget: raise the stft's hop" 5 \
    "rpca: robust PCA of 1025 bins x 173 frames needs [0-9]+ MB, more than the 5 MB .*: raise the stft's hop, or split the input" \
    'strata.signal { seconds = 2 }:stft {}:rpca {}.masks:eval()'
printf '0\t1\n0.5\t1\n1\t1\n1.5\t1\n2\t1\n2.5\t1\n3\t1\n3.5\t1\n4\t1\n12\t1\n' > "$dir/grid.txt"
budget "cube over the budget: check the downbeats" 20 \
    "cube: the cube \(1025 bins x [0-9]+ frames x 11 bars\) needs [0-9]+ MB, more than the 20 MB .*: its longest bar is 8\.[0-9] s \(median 0\.500 s\): check the downbeats, or lower bars_per_unit" \
    "strata.signal { seconds = 13 }:stft {}:cube(strata.load_beats('$dir/grid.txt')).cube:eval()"
