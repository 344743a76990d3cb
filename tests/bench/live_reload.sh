#!/bin/sh
# Reload latency of strata live (issue 15's target: under 50 ms from the
# save to the new program playing, quantize = "now", offline values cached).
# A JACK dummy server at 48 kHz / 128 frames; a patch whose offline part is
# an NMF of 10 s of audio (cached after the first run, and taken over from
# the playing graph at every reload); 40 saves, one every 150 ms. For each
# save, two figures: strata live's own (from the inotify event to the session
# seeing the swap made: running the patch in a fresh Lua state, compiling,
# the hand-over; with quantize "now" the audio thread swaps in the period
# that takes the program), and the wall clock from just before the rename to
# that moment (it includes starting mv on a loaded machine).
# Prints a table and writes OUT/live_reload.json. SAVES=N changes the count.
#   sh tests/bench/live_reload.sh [OUT]
cd "$(dirname "$0")/../.." || exit 1
out=${1:-build/bench-out}
mkdir -p "$out"
STRATA=${STRATA:-./strata}
dir=$(mktemp -d)
jackd_pid= live_pid=
cleanup() {
    for pid in $live_pid $jackd_pid; do kill -9 "$pid" 2> /dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
export XDG_RUNTIME_DIR="$dir" STRATA_CACHE_DIR="$dir/cache"
server=strata-bench-live
jackd -S -t 10000 -n "$server" -d dummy -r 48000 -p 128 > "$dir/jackd.log" 2>&1 &
jackd_pid=$!
for _ in $(seq 1 40); do timeout 5 jack_lsp -s "$server" > /dev/null 2>&1 && break; sleep 0.25; done
"$STRATA" run /dev/stdin << EOF
local strata = require "strata"
strata.signal { kind = "noise", seconds = 10, rate = 48000, amplitude = 0.3 }:save("$dir/in.wav")
EOF
version() {
    cat > "$dir/p.new" << EOF
local strata = require "strata"
strata.transport { quantize = "now", fade_ms = 5 }
local song = strata.load("$dir/in.wav")
local w = song:stft { n_fft = 1024, hop = 256 }:magnitude():nmf { rank = 8, iterations = 50 }
song:play { loop = true }:stft { n_fft = 1024, hop = 256 }:nmf_filter({ w }, { iterations = 5 }).s1:istft():gain { db = -$1 }:jack_out()
EOF
}
version 0 && mv "$dir/p.new" "$dir/p.lua"
STRATA_LIVE_TIMING=1 "$STRATA" live "$dir/p.lua" --server "$server" --no-connect 2> "$dir/live.log" &
live_pid=$!
for _ in $(seq 1 600); do grep -q "started at JACK frame" "$dir/live.log" && break; sleep 0.1; done
: > "$dir/saved.txt"
i=1
while [ "$i" -le "${SAVES:-40}" ]; do
    version "$i"
    n=$(grep -c '^timing: scheduled' "$dir/live.log")
    date +%s%N >> "$dir/saved.txt" # just before the save: the figure includes the mv's start
    mv "$dir/p.new" "$dir/p.lua"
    for _ in $(seq 1 500); do [ "$(grep -c '^timing: scheduled' "$dir/live.log")" -gt "$n" ] && break; sleep 0.01; done
    sleep 0.15
    i=$((i + 1))
done
kill -INT "$live_pid"; wait "$live_pid"; live_pid=
kill "$jackd_pid"; wait "$jackd_pid" 2> /dev/null; jackd_pid=
# strata's own figure: from the inotify event to the swap scheduled (the program plays from that period)
sed -n 's/^reloaded p.lua in \([0-9]*\) ms.*/\1/p' "$dir/live.log" > "$dir/own.txt"
# the wall figure: from the save (the shell's clock just before mv) to strata's report
sed -n 's/^timing: scheduled at \([0-9]*\) ns/\1/p' "$dir/live.log" | paste "$dir/saved.txt" - |
    awk 'NF == 2 { print ($2 - $1) / 1e6 }' > "$dir/wall.txt"
sed -n 's/^timing: patch \([0-9.]*\) ms, compile \([0-9.]*\) ms.*/\1 \2/p' "$dir/live.log" > "$dir/parts.txt"
xruns=$(grep -c xruns "$dir/live.log")
load=$(cut -d' ' -f1-3 /proc/loadavg)
stats() { sort -n "$1" | awk -v scale="$2" '{ v[NR] = $1 / scale } END {
    printf "%.1f %.1f %.1f %d", v[1], v[int((NR + 1) / 2)], v[NR], NR }'; }
set -- $(stats "$dir/own.txt" 1)
own_min=$1 own_med=$2 own_max=$3 own_n=$4
set -- $(stats "$dir/wall.txt" 1)
wall_min=$1 wall_med=$2 wall_max=$3 wall_n=$4
printf '%-44s %8s %8s %8s %5s\n' "live reload (48 kHz, period 128)" "min ms" "median" "max" "n"
printf '%-44s %8s %8s %8s %5s\n' "event -> swap made (strata's)" "$own_min" "$own_med" "$own_max" "$own_n"
printf '%-44s %8s %8s %8s %5s\n' "save -> swap scheduled (wall clock)" "$wall_min" "$wall_med" "$wall_max" "$wall_n"
awk '{ p += $1; c += $2 } END { printf "mean: running the patch %.1f ms, compiling %.1f ms\n", p / NR, c / NR }' "$dir/parts.txt"
echo "xrun reports during the run: $xruns; load average: $load"
cat > "$out/live_reload.json" << EOF
{"bench": "live_reload", "period_frames": 128, "rate_hz": 48000, "saves": 40,
 "own_ms": {"min": $own_min, "median": $own_med, "max": $own_max, "n": $own_n},
 "wall_ms": {"min": $wall_min, "median": $wall_med, "max": $wall_max, "n": $wall_n},
 "xrun_reports": $xruns, "loadavg": "$load"}
EOF
