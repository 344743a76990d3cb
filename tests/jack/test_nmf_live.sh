#!/bin/sh
# Streaming NMF live: examples/play-nmf.lua (nmf_filter with templates
# learned offline from two stems) on JACK's dummy driver, its two outputs
# captured by a second client, equals its `strata render` sample for sample.
. tests/jack/lib.sh

"$STRATA" --quiet run /dev/stdin <<EOF2
local strata = require "strata"
local song = strata.testsong { bars = 4, rate = 48000 }
song.mixture:save("$dir/mix.wav")
song.drums:save("$dir/drums.wav")
song.bass:save("$dir/bass.wav")
EOF2
set -- "$dir/mix.wav" "$dir/drums.wav" "$dir/bass.wav"
# the templates (slow, cached) are learned before the server starts
"$STRATA" --quiet render examples/play-nmf.lua "$@" -o "$dir/render.wav" --seconds 10 --rate 48000 --block 256

server=strata-test-nmf
start_server "$server" 256 || exit 0
"$STRATA" live examples/play-nmf.lua "$@" --server "$server" --name st --no-connect 2> "$dir/live.log" &
live_pid=$!
if ! wait_for "$dir/live.log" "started at JACK frame"; then
    echo "FAIL streaming NMF live: strata live did not start: $(cat "$dir/live.log")"
    exit 0
fi
f0=$(sed -n 's/.*started at JACK frame \([0-9]*\).*/\1/p' "$dir/live.log")
fc=$(timeout -k 5 60 "$JACK_CAPTURE" "$server" 48000 "$dir/cap.wav" st:source1_1 st:source2_1 \
    2> "$dir/cap.log" | sed -n 's/first_frame //p')
stop "$live_pid" INT 10
live_pid=
stop_server
if [ -z "$fc" ]; then
    echo "FAIL streaming NMF live: the capture failed: $(cat "$dir/cap.log")"
    exit 0
fi
result=$(timeout -k 5 60 "$STRATA" run tests/jack/compare.lua "$dir/cap.wav" "$dir/render.wav" $((fc - f0)) 2>&1)
case "$result" in
    *"max difference 0") echo "ok streaming NMF live (play-nmf.lua) equals its render ($result)" ;;
    *) echo "FAIL streaming NMF live equals its render: $result" ;;
esac
