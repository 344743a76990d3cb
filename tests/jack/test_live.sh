#!/bin/sh
# Live coding through JACK's dummy driver (48 kHz, 128-frame periods): one
# strata live session, edited while it plays.
#   - a save swaps the new program in exactly on the bar boundary, with the
#     equal-power crossfade's law sample for sample and the play position
#     carried on (tests/jack/check_swap.lua)
#   - a save takes over the offline results of the playing graph
#   - failing saves (syntax, runtime, a node that cannot stream, new ports)
#     print file:line: message and leave the output sample-identical
#   - strata send and strata set; the control socket survives garbage,
#     oversized and half-sent requests, is 0600 and refuses another user
#   - 100 saves in a row: every one taken, the last one playing, and no
#     allocation, lock or I/O in the JACK callback (tests/rt's counters,
#     preloaded)
. tests/jack/lib.sh
: "${LIVE_BUILD:=build}"
CLIENT="$LIVE_BUILD/control-client"
PRELOAD="$LIVE_BUILD/rt-preload.so"
export XDG_RUNTIME_DIR="$dir/run" XDG_STATE_HOME="$dir/state"
mkdir -m 700 "$XDG_RUNTIME_DIR"
socket="$XDG_RUNTIME_DIR/strata-st.sock"
patch="$dir/p.lua"
log="$dir/live.log"
server="strata-test-live"
bar=4800 # frames: 600 bpm, one beat a bar, 48 kHz

"$STRATA" run /dev/stdin << EOF
local strata = require "strata"
strata.signal { kind = "sine", seconds = 1, rate = 48000, freq = 440, amplitude = 0.5 }:save("$dir/tone.wav")
EOF

# version NAME BODY: the patch, written as an editor saves (a new file renamed over)
version() {
    cat > "$dir/p.new" << EOF
local strata = require "strata"
strata.transport { bpm = 600, beats_per_bar = 1, quantize = "${quantize:-bar}", fade_ms = 10 }
tone = strata.load(arg[1])
x = tone:play { loop = true }
$1
EOF
    mv "$dir/p.new" "$patch"
}
# capture FRAMES OUT: records our output in the background (pid in cap_pid)
capture() {
    "$JACK_CAPTURE" "$server" "$1" "$2" st:out_1 > "$2.out" 2> "$2.err" &
    cap_pid=$!
    other_pids=$cap_pid
}
# captured OUT: waits (bounded) for the capture; its first JACK frame, or empty
captured() {
    stop "$cap_pid" 0 20 > /dev/null
    other_pids=
    sed -n 's/first_frame //p' "$1.out"
}
reloads() { grep -c "^reloaded p.lua in" "$log"; }
wait_reloads() { # N: up to 20 s for the Nth reload line
    for _ in $(seq 1 200); do
        [ "$(reloads)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

start_server "$server" 128 || exit 0
version "x:jack_out()"
preload=
[ -f "$PRELOAD" ] && preload=$PRELOAD
STRATA_RT_REPORT="$dir/rt.txt" LD_PRELOAD=$preload "$STRATA" live "$patch" "$dir/tone.wav" --server "$server" --name st --no-connect > "$dir/live.out" 2> "$log" &
live_pid=$!
if ! wait_for "$log" "started at JACK frame"; then
    echo "FAIL strata live did not start: $(cat "$log")"
    exit 0
fi
f0=$(sed -n 's/.*started at JACK frame \([0-9]*\).*/\1/p' "$log")

# 1. a save: the swap on the bar, the crossfade's law, the position carried
capture 72000 "$dir/cap1.wav"
sleep 0.6
version "y = x * 0.5
y:jack_out()"
fc=$(captured "$dir/cap1.wav")
if ! wait_reloads 1 || [ -z "$fc" ]; then
    echo "FAIL reload while playing: no reload line or no capture: $(tail -3 "$log") $(cat "$dir/cap1.wav.err")"
else
    line=$(grep "^reloaded p.lua in" "$log" | head -1)
    b=$(echo "$line" | sed -n 's/.*swap at bar \([0-9]*\)$/\1/p')
    if [ -z "$b" ]; then
        echo "FAIL reload line: '$line' (want: reloaded p.lua in N ms, swap at bar B)"
    else
        echo "ok one line per reload: $line"
        result=$("$STRATA" run tests/jack/check_swap.lua "$dir/cap1.wav" "$dir/tone.wav" $((fc - f0)) $(((b - 1) * bar)) 480 1 0.5 2>&1)
        err=$(echo "$result" | sed -n 's/.*max error \([^ ]*\) .*/\1/p')
        step=$(echo "$result" | sed -n 's/.*max step in the fade \([^ ]*\) (bound \([^)]*\)).*/\1 <= \2/p')
        # float rounding only, and no jump in the fade
        if [ -n "$err" ] && [ -n "$step" ] && awk "BEGIN { exit !($err < 1e-6 && $step) }"; then
            echo "ok swap exactly on the bar boundary (frame $(((b - 1) * bar))), equal-power crossfade, play position carried: $result"
        else
            echo "FAIL swap on the bar boundary with the crossfade's law: $result"
        fi
    fi
fi

# the save recomputed nothing offline: the loaded tone was taken over
taken=$(timeout 10 "$STRATA" send --name st "strata.stats().reused" 2>&1)
case "$taken" in
    [1-9]*) echo "ok a save takes over the playing graph's offline results (strata.stats().reused = $taken)" ;;
    *) echo "FAIL a save takes over offline results: strata.stats().reused = '$taken'" ;;
esac

# 2. failing saves: one line each naming file and line; the output untouched
n=$(reloads)
capture 48000 "$dir/cap2.wav"
sleep 0.1
version "y = x * 0.5 +" # a syntax error
sleep 0.25
version "y = x * 0.5
error('on purpose')"
sleep 0.25
version "y = x * 0.5
x:stft():jack_out()"
sleep 0.25
version "y = x * 0.5
y:jack_out()
x:jack_out { name = 'other' }"
sleep 0.25
fc=$(captured "$dir/cap2.wav")
for want in "p.lua:6: unexpected symbol near <eof>" "p.lua:6: on purpose" "p.lua:6: jack_out" "JACK ports would change"; do
    if grep "$want" "$log" | grep -q "still playing the last good version"; then
        echo "ok a failing save says so in one line: $(grep "$want" "$log" | head -1)"
    else
        echo "FAIL a failing save says '$want; still playing the last good version': $(tail -4 "$log")"
    fi
done
if [ -n "$fc" ] && [ "$(reloads)" -eq "$n" ]; then
    # the capture is the tone at half level throughout: the same law with a
    # cut from half to half (fade 0) in the middle
    result=$("$STRATA" run tests/jack/check_swap.lua "$dir/cap2.wav" "$dir/tone.wav" $((fc - f0)) $((fc - f0 + 24000)) 0 0.5 0.5 2>&1)
    case "$result" in
        *"max error 0 "*) echo "ok failing saves leave the output sample-identical ($result)" ;;
        *) echo "FAIL failing saves leave the output sample-identical: $result" ;;
    esac
else
    echo "FAIL failing saves: capture '$fc', reload lines $(reloads) (were $n)"
fi

# 3. strata send and strata set, through the socket
mode=$(stat -c %a "$socket" 2> /dev/null)
[ "$mode" = 600 ] && echo "ok the control socket is mode 0600" || echo "FAIL the control socket's mode: '$mode'"
out=$(timeout 10 "$STRATA" send --name st "1 + 1, tone:eval().frames" 2>&1)
[ "$out" = "2	48000" ] && echo "ok strata send runs a snippet in the patch's state" || echo "FAIL strata send: '$out'"
out=$(timeout 10 "$STRATA" send --name st "nosuch()" 2>&1)
status=$?
case "$status:$out" in
    "1:strata send: snippet:1: attempt to call a nil value (global 'nosuch')") echo "ok a failing snippet: one line, exit 1" ;;
    *) echo "FAIL a failing snippet: exit $status: '$out'" ;;
esac
# a snippet refused at compile (new ports) is all or nothing: its output is
# withdrawn, and the next snippet that makes an output is taken
out=$(timeout 10 "$STRATA" send --name st "x:jack_out { name = 'other' }" 2>&1)
status=$?
after=$(timeout 10 "$STRATA" send --name st "y:jack_out()" 2>&1)
case "$status:$out:$?:$after" in
    1:"strata send: snippet: the JACK ports would change"*:0:*) echo "ok a refused snippet leaves nothing behind: the next output snippet is taken" ;;
    *) echo "FAIL a refused snippet: exit $status: '$out', then '$after'" ;;
esac
# Lua errors outside the snippet's own call: a result whose __tostring
# raises, and a snippet that takes away package (read for the transport
# after every snippet). Both used to abort the session (Lua panic).
out=$(timeout 10 "$STRATA" send --name st "setmetatable({}, { __tostring = function() error('no text') end })" 2>&1)
status=$?
alive=$(timeout 10 "$STRATA" send --name st "1 + 4" 2>&1)
case "$status:$out:$alive" in
    1:*"no text"*:5) echo "ok a result that cannot be shown is an error, and the session plays on" ;;
    *) echo "FAIL a result whose __tostring raises: exit $status: '$out', then '$alive'" ;;
esac
out=$(timeout 10 "$STRATA" send --name st "kept_package = package; package = nil" 2>&1)
status=$?
alive=$(timeout 10 "$STRATA" send --name st "1 + 5" 2>&1)
timeout 10 "$STRATA" send --name st "package = kept_package" > /dev/null 2>&1
case "$status:$alive" in
    0:6) echo "ok a snippet that removes package leaves the session playing" ;;
    *) echo "FAIL package = nil in a snippet: exit $status: '$out', then '$alive'" ;;
esac
out=$(timeout 10 "$STRATA" set --name st y.factor 0.25 2>&1)
status=$?
[ "$status" = 0 ] && echo "ok strata set y.factor 0.25" || echo "FAIL strata set: exit $status: $out"
out=$(timeout 10 "$STRATA" set --name st y.nothing 1 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "has no parameter 'nothing'" && echo "ok strata set names a wrong parameter" || echo "FAIL strata set with a wrong parameter: $out"
out=$(timeout 10 "$STRATA" set --name st x.db 1 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "cannot change" && echo "ok strata set refuses a node that cannot change" || echo "FAIL strata set on an offline node: $out"

# 4. the socket survives what strata send never sends
out=$(timeout 10 "$CLIENT" "$socket" raw "garbage")
[ "$out" = 'error: not a request ("lua" or "set" and a newline first)' ] && echo "ok socket: garbage refused" || echo "FAIL socket garbage: '$out'"
out=$(timeout 20 "$CLIENT" "$socket" big 3000000)
[ "$out" = "error: the request is longer than 1048576 bytes" ] && echo "ok socket: oversized request refused" || echo "FAIL socket oversized: '$out'"
out=$(timeout 10 "$CLIENT" "$socket" half "lua
1 +")
case "$out" in "error: the request did not end within 1000 ms"*) echo "ok socket: half-sent request dropped after 1 s" ;; *) echo "FAIL socket half-sent: '$out'" ;; esac
out=$(timeout 10 "$STRATA" send --name st "1 + 2" 2>&1)
[ "$out" = 3 ] && echo "ok the socket answers after the abuse" || echo "FAIL the socket after the abuse: '$out'"
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
    nobody() { timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    out=$(nobody "$CLIENT" "$socket" raw "lua
1" 2>&1)
    case "$out" in *"Permission denied"*) echo "ok socket: another user cannot connect (mode 0600)" ;; *) echo "FAIL socket open to another user: '$out'" ;; esac
    # and were the modes loosened by mistake, the peer's uid still refuses it
    chmod 711 "$dir" "$XDG_RUNTIME_DIR"
    chmod 666 "$socket"
    out=$(nobody "$CLIENT" "$socket" raw "lua
1" 2>&1)
    chmod 600 "$socket"
    chmod 700 "$dir" "$XDG_RUNTIME_DIR"
    [ "$out" = "error: this session belongs to another user" ] && echo "ok socket: another user's connection refused (SO_PEERCRED)" || echo "FAIL socket peer check: '$out'"
else
    echo "skip socket uid refusal: needs root to change uid"
fi

# 5. a snippet replaces the output of its name: swapped in at a bar
n=$(grep -c "^snippet ran in" "$log")
out=$(timeout 10 "$STRATA" send --name st "(x * 0.25):jack_out()" 2>&1)
wait_for "$log" "^snippet ran in .* swap at bar [0-9]*$" && echo "ok a snippet's new output swaps in at a bar: $(grep "^snippet ran" "$log" | tail -1)" || echo "FAIL a snippet's output: '$out' $(tail -2 "$log")"

# 6. a loop from a snippet, stopped from another: silent from a bar line on
timeout 10 "$STRATA" send --name st "lp = tone:loop { bars = 2 }
lp:jack_out()" > /dev/null 2>&1
for _ in $(seq 1 100); do [ "$(grep -c "^snippet ran in" "$log")" -ge 2 ] && break; sleep 0.1; done
sleep 0.3
capture 24000 "$dir/cap3.wav"
sleep 0.15
out=$(timeout 10 "$STRATA" send --name st "lp:stop()" 2>&1)
fc=$(captured "$dir/cap3.wav")
result=$("$STRATA" run /dev/stdin "$dir/cap3.wav" $((fc - f0)) $bar << 'EOF' 2>&1
local strata = require "strata"
local y, offset, bar = strata.load(arg[1]):samples(), tonumber(arg[2]), tonumber(arg[3])
local last = 0 -- the last sounding sample
for i = 1, #y do if y[i] ~= 0 then last = i end end
local first_silent = offset + last -- the clock's frame of the first silent sample
print(string.format("sound until frame %d, %s a bar line", first_silent,
  (last > 1 and last < #y and first_silent % bar == 0) and "on" or "NOT on"))
EOF
)
case "$result" in
    *" on a bar line") echo "ok loop:stop() from a snippet silences it from the next bar line ($result)" ;;
    *) echo "FAIL loop:stop() at a bar line: '$out' $result" ;;
esac

# 7. 100 saves in a row, swapped at once: every one reported, the last one
# playing, nothing allocated, locked or written in the callback
n=$(reloads)
xruns_before=$(grep -c "xruns" "$log")
quantize=now
i=1
while [ "$i" -le 100 ]; do
    version "version = $i
(x * $i / 100):jack_out()"
    sleep 0.03
    i=$((i + 1))
done
wait_reloads $((n + 1))
for _ in $(seq 1 100); do
    [ "$(timeout 10 "$STRATA" send --name st version 2> /dev/null)" = 100 ] && break
    sleep 0.1
done
last=$(timeout 10 "$STRATA" send --name st version 2>&1)
got=$(($(reloads) - n))
# what plays, not only what the session compiled last: the tone at full
# level (version 100 is x * 100 / 100; version 99 would be 1 % off). The
# tone's phase is searched: xruns move JACK's clock, not the play position.
sleep 0.2
capture 4800 "$dir/cap7.wav"
fc=$(captured "$dir/cap7.wav")
playing=$([ -n "$fc" ] && "$STRATA" run /dev/stdin "$dir/cap7.wav" "$dir/tone.wav" 2>&1 << 'EOF'
local strata = require "strata"
local cap, tone = strata.load(arg[1]):samples(), strata.load(arg[2]):samples()
local best, at = math.huge, 0
for lag = 0, #tone - 1 do -- the phase whose first 256 samples fit best
  local e = 0
  for i = 1, 256 do
    e = math.max(e, math.abs(cap[i] - tone[(lag + i - 1) % #tone + 1]))
    if e >= best then break end
  end
  if e < best then best, at = e, lag end
end
local worst = 0
for i = 1, #cap do worst = math.max(worst, math.abs(cap[i] - tone[(at + i - 1) % #tone + 1])) end
print(string.format("%d samples at full level to %.3g (tone phase %d)", #cap, worst, at))
EOF
)
case "$playing" in
    *"at full level to "[0-9].*"e-0"[789]* | *"at full level to 0 "*) echo "ok after 100 saves the last version plays: $playing" ;;
    *) echo "FAIL after 100 saves the last version plays: capture '$fc': $playing" ;;
esac
xruns=$(($(grep -c "xruns" "$log") - xruns_before))
if [ "$last" = 100 ] && [ "$got" -ge 1 ]; then
    echo "ok 100 saves while playing: $got reload lines (saves closer than a reload coalesce), the last version plays; $xruns xrun reports meanwhile (load $(cut -d' ' -f1 /proc/loadavg))"
else
    echo "FAIL 100 saves while playing: version '$last', $got reload lines"
fi
if ! grep -q "reloaded p.lua in [0-9]* ms, swap at bar [0-9]* beat" "$log"; then
    echo "FAIL quantize now: no swap off the bar: $(tail -2 "$log")"
else
    echo "ok quantize = \"now\" swaps off the bar"
fi

# the server's period changes under the session: a program for the new
# period comes in before the first longer period (none silenced)
if command -v jack_bufsize > /dev/null; then
    JACK_DEFAULT_SERVER=$server timeout 10 jack_bufsize 512 > /dev/null 2>&1
    sleep 0.5
    JACK_DEFAULT_SERVER=$server timeout 10 jack_bufsize 128 > /dev/null 2>&1
    sleep 0.3
    out=$(timeout 10 "$STRATA" send --name st "version" 2>&1)
    if [ "$out" = 100 ] && ! grep -q "longer than the program's block" "$log"; then
        echo "ok the period changed to 512 and back: recompiled, nothing silenced, the session goes on"
    else
        echo "FAIL a period change: '$out' $(grep "longer than\|recompile" "$log" | tail -2)"
    fi
fi
stop "$live_pid" INT 10
status=$?
live_pid=
# the REPL: a line read, its value printed, the end of input ends the session
printf 'x\n1 + 1\n' | timeout 20 "$STRATA" live "$patch" "$dir/tone.wav" --server "$server" --name repl --no-connect --repl > "$dir/repl.out" 2> "$dir/repl.log"
repl_status=$?
if [ "$repl_status" = 0 ] && grep -q "^2$" "$dir/repl.out" && grep -q "strata.handle(play" "$dir/repl.out" &&
    grep -q "^1 + 1$" "$dir/state/strata/history" 2> /dev/null; then
    echo "ok strata live --repl runs each line in the patch's state, keeps its history; the end of input ends it"
else
    echo "FAIL strata live --repl: exit $repl_status: $(cat "$dir/repl.out" "$dir/repl.log" | tail -3)"
fi
[ "$status" = 0 ] && echo "ok SIGINT ends the session, exit 0" || echo "FAIL SIGINT ends the session: exit $status"
[ ! -e "$socket" ] && echo "ok the socket is removed at the end" || echo "FAIL the socket is left behind"
if [ -z "$preload" ]; then
    echo "skip live callback counters: no $PRELOAD (not built under the sanitizers)"
elif grep -q "^callbacks [1-9][0-9]* allocations 0 locks 0 io 0$" "$dir/rt.txt" 2> /dev/null; then
    echo "ok no allocation, lock or I/O in the JACK callback across every reload ($(cat "$dir/rt.txt"))"
else
    echo "FAIL the JACK callback allocated, locked or did I/O: $(cat "$dir/rt.txt" 2> /dev/null)"
fi
stop_server
