#!/bin/sh
# doc/live.md's tutorial, as written: its remix.lua (the block after
# "<!-- tested: remix.lua -->") plays a stand-in for `strata unmix`'s folder
# (two one-bar loops and a layout.json) in strata live on JACK's dummy
# driver; a save reloads it; every command of the block after
# "<!-- tested: commands -->" runs against it and succeeds.
. tests/jack/lib.sh
export XDG_RUNTIME_DIR="$dir/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
doc=doc/live.md
# block NAME: the fenced block after the marker <!-- tested: NAME -->
block() {
    awk -v want="<!-- tested: $1 -->" '
        $0 == want { armed = 1; next }
        armed && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$doc"
}
block remix.lua > "$dir/remix.lua"
block commands > "$dir/commands.sh"
if [ ! -s "$dir/remix.lua" ] || [ ! -s "$dir/commands.sh" ]; then
    echo "FAIL doc/live.md: the tested blocks are missing"
    exit 0
fi
mkdir -p "$dir/song/loops"
"$STRATA" run /dev/stdin << EOF
local strata = require "strata"
-- two loops of one bar at 120 bpm (2 s), stereo, as strata unmix writes them
strata.signal { kind = "sine", seconds = 2, rate = 48000, channels = 2, freq = 220 }:save("$dir/song/loops/loop_01.wav")
strata.signal { kind = "noise", seconds = 2, rate = 48000, channels = 2, amplitude = 0.2 }:save("$dir/song/loops/loop_02.wav")
EOF
printf '{"bars": [{"start": 0, "end": 2}, {"start": 2, "end": 4}], "bars_per_unit": 1}\n' > "$dir/song/layout.json"

server="strata-test-live-doc"
start_server "$server" 256 || exit 0
log="$dir/live.log"
(cd "$dir" && exec "$STRATA" live remix.lua song --server "$server" --name doc --no-connect) 2> "$log" &
live_pid=$!
if wait_for "$log" "started at JACK frame"; then
    echo "ok doc/live.md: remix.lua plays the loops of a strata unmix folder"
else
    echo "FAIL doc/live.md: remix.lua did not start: $(cat "$log")"
    exit 0
fi
sed 's/db = -6/db = -3/' "$dir/remix.lua" > "$dir/remix.new" && mv "$dir/remix.new" "$dir/remix.lua"
if wait_for "$log" "^reloaded remix.lua in [0-9]* ms, swap at bar [0-9]*$"; then
    echo "ok doc/live.md: a save reloads it ($(grep '^reloaded' "$log" | head -1))"
else
    echo "FAIL doc/live.md: the save did not reload: $(tail -2 "$log")"
fi
# every command, as the page shows it, against this session (--name doc)
grep '^strata ' "$dir/commands.sh" | sed 's/ *# .*$//' | while IFS= read -r line; do
    out=$(cd "$dir" && eval "timeout 10 \"$STRATA\" ${line#strata } --name doc" 2>&1)
    status=$?
    if [ "$status" = 0 ]; then
        echo "ok doc/live.md: $line${out:+ -> $out}"
    else
        echo "FAIL doc/live.md: $line: exit $status: $out"
    fi
done
# the printed value the page promises
out=$(timeout 10 "$STRATA" send --name doc '#loops, out' 2>&1)
[ "$out" = "2	strata.handle(gain: audio)" ] && echo "ok doc/live.md: the printed values are as shown" || echo "FAIL doc/live.md: '#loops, out' printed '$out'"
stop "$live_pid" INT 10
status=$?
live_pid=
[ "$status" = 0 ] && echo "ok doc/live.md: the session ends on SIGINT" || echo "FAIL doc/live.md: exit $status at SIGINT"
stop_server
