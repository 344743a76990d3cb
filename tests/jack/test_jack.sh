#!/bin/sh
# JACK tests: each starts its own `jackd -d dummy` under a name of its own
# and stops it. Skipped with one line when jackd is not installed.
# The names are fixed per test, not per run: JACK keeps a server's name in a
# registry of 8 slots, and only a later server of the same name reclaims the
# slot of one that was killed (the server-loss test kills one).
. tests/jack/lib.sh

"$STRATA" run /dev/stdin <<EOF2
local strata = require "strata"
strata.signal { kind = "chirp", seconds = 8, channels = 2, rate = 48000, freq = 100, freq_end = 10000 }:save("$dir/src.wav")
strata.signal { kind = "chirp", seconds = 1, channels = 2, rate = 48000, freq = 100, freq_end = 10000 }:save("$dir/short.wav")
EOF2

# null test: live on the dummy driver, captured by a second client, equals the
# render, sample for sample, on the first try (see start_server and
# tests/jack/capture.c for what made it fail on a loaded machine before).
null_test() { # PERIOD PATCH PORT... -> sets result, live_status, xruns
    period=$1 patch=$2
    shift 2
    server="strata-test-null-$period"
    result= live_status= xruns=0
    start_server "$server" "$period" || { result="no server"; return 1; }
    : > "$dir/live.log"
    "$STRATA" live "$patch" "$dir/src.wav" --server "$server" --name st --no-connect 2> "$dir/live.log" &
    live_pid=$!
    if ! wait_for "$dir/live.log" "started at JACK frame"; then
        result="strata live did not start: $(cat "$dir/live.log")"
        stop "$live_pid" KILL 5; live_pid=; stop_server; return 1
    fi
    f0=$(sed -n 's/.*started at JACK frame \([0-9]*\).*/\1/p' "$dir/live.log")
    fc=$(timeout -k 5 60 "$JACK_CAPTURE" "$server" 48000 "$dir/cap.wav" "$@" 2> "$dir/cap.log" | sed -n 's/first_frame //p')
    stop "$live_pid" INT 10
    live_status=$?
    live_pid=
    stop_server
    xruns=$(grep -c "xruns" "$dir/live.log")
    if [ -z "$fc" ]; then result="the capture failed: $(cat "$dir/cap.log")"; return 1; fi
    timeout -k 5 120 "$STRATA" --quiet render "$patch" "$dir/src.wav" -o "$dir/render.wav" --seconds 10 --rate 48000 --block "$period"
    result=$(timeout -k 5 60 "$STRATA" run tests/jack/compare.lua "$dir/cap.wav" "$dir/render.wav" $((fc - f0)) 2>&1)
}

for period in 64 256 1024; do
    null_test "$period" examples/play-file.lua st:out_1 st:out_2
    case "$result" in
        *"max difference 0") echo "ok null test: live equals render at period $period ($result; $xruns xrun reports)" ;;
        *) echo "FAIL null test period $period: $result (xrun reports: $xruns)" ;;
    esac
    if [ "$live_status" = 0 ]; then echo "ok SIGINT stops strata live cleanly (period $period)"
    else echo "FAIL SIGINT stops strata live cleanly: exit $live_status (124: still running 10 s later)"; fi
    grep -q "latency 2047 samples" "$dir/live.log" && echo "ok live reports its latency (period $period)" \
        || echo "FAIL live reports its latency: $(head -1 "$dir/live.log")"
done

# the same for streaming HPSS (two stereo pairs)
null_test 256 examples/play-hpss.lua st:harmonic_1 st:harmonic_2 st:percussive_1 st:percussive_2
case "$result" in
    *"max difference 0") echo "ok null test: live HPSS equals its render ($result; $xruns xrun reports)" ;;
    *) echo "FAIL null test of live HPSS: $result (xrun reports: $xruns)" ;;
esac

# a played file ends: strata live stops by itself once the last sample (and
# the latency's worth) is out, exit 0
server="strata-test-end"
if start_server "$server" 256; then
    "$STRATA" live examples/play-file.lua "$dir/short.wav" --server "$server" --no-connect 2> "$dir/end.log" &
    live_pid=$!
    stop "$live_pid" 0 20 # no signal: it must end by itself
    status=$?
    live_pid=
    stop_server
    if [ "$status" -eq 0 ] && grep -q "the end of the input (1.0 s); stopping" "$dir/end.log"; then
        echo "ok live stops at the end of the file"
    else
        echo "FAIL live stops at the end of the file: exit $status (124: still running after 20 s): $(tail -2 "$dir/end.log")"
    fi
fi

# no server: a clear line, non-zero, no hang
timeout 10 "$STRATA" live examples/play-file.lua "$dir/src.wav" --server "strata-test-absent" > /dev/null 2> "$dir/none.log"
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && [ "$(grep -c '' "$dir/none.log")" -eq 1 ] && grep -q "cannot connect to the JACK server" "$dir/none.log"; then
    echo "ok no server: one line, exit $status"
else
    echo "FAIL no server: exit $status, stderr: $(cat "$dir/none.log")"
fi

# the server killed while strata live runs: exit 3 by itself, promptly (within
# a second on an idle machine; the bound is 5 s because a loaded or niced run
# can take seconds to be scheduled, and the point is that it never hangs)
server="strata-test-kill"
if start_server "$server" 256; then
    "$STRATA" live examples/play-file.lua "$dir/src.wav" --server "$server" --no-connect 2> "$dir/kill.log" &
    live_pid=$!
    wait_for "$dir/kill.log" "started at JACK frame"
    kill -9 "$jackd_pid"
    jackd_pid=
    t0=$(date +%s%N)
    stop "$live_pid" 0 10 # no signal: it must end by itself
    status=$?
    live_pid=
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ "$status" -eq 3 ] && [ "$ms" -lt 5000 ] && grep -q "JACK server shut down" "$dir/kill.log"; then
        echo "ok server killed: exit 3 after $ms ms"
    else
        echo "FAIL server killed: exit $status after $ms ms: $(tail -1 "$dir/kill.log")"
    fi
fi

# SIGHUP (a closed terminal) and SIGTERM stop strata live like SIGINT: exit 0,
# its JACK client closed (issue 9.12)
for sig in HUP TERM; do
    server="strata-test-$sig"
    start_server "$server" 256 || continue
    "$STRATA" live examples/play-file.lua "$dir/src.wav" --server "$server" --name sig --no-connect 2> "$dir/sig.log" &
    live_pid=$!
    wait_for "$dir/sig.log" "started at JACK frame"
    kill -$sig "$live_pid"
    wait "$live_pid"
    status=$?
    ports=$(jack_lsp -s "$server" 2> /dev/null | grep -c '^sig:')
    stop_server
    if [ "$status" -eq 0 ] && [ "$ports" -eq 0 ]; then echo "ok SIG$sig stops strata live cleanly"
    else echo "FAIL SIG$sig stops strata live cleanly: exit $status, $ports ports left"; fi
done

# a patch with no output
server="strata-test-noout"
if start_server "$server" 256; then
    printf 'local strata = require "strata"\nlocal x = strata.signal{}:play()\n' > "$dir/noout.lua"
    timeout 10 "$STRATA" live "$dir/noout.lua" --server "$server" --no-connect 2> "$dir/noout.log"
    status=$?
    if [ "$status" -eq 1 ] && grep -q "the patch has no output" "$dir/noout.log"; then
        echo "ok live patch with no output"
    else
        echo "FAIL live patch with no output: exit $status: $(cat "$dir/noout.log")"
    fi
    stop_server
fi
