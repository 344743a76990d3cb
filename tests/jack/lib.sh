# The JACK tests' common part (sourced by tests/jack/test_*.sh): the lock
# that serialises the JACK part of concurrent runs, a scratch folder removed
# on every path, and helpers that start, wait for and stop processes, each
# bounded in time.
: "${STRATA:=./strata}"
: "${JACK_CAPTURE:=build/jack-capture}"
if ! command -v jackd > /dev/null; then
    echo "skip jack: jackd is not installed (apt-get install jackd2)"
    exit 0
fi
# Two checkouts testing at once on one machine would fight over those fixed
# names: the JACK part of one run waits for the other's. The lock is taken
# on the jackd binary itself, opened read-only: nothing is created in a
# shared folder (no name to plant a symlink at), and every user sees it.
if command -v flock > /dev/null; then
    exec 9< "$(command -v jackd)"
    flock -w 900 9 || echo "note jack: another checkout held the JACK test lock for 15 minutes; going on"
fi
dir=$(mktemp -d)
jackd_pid= live_pid=
cleanup() { # every path: the processes this script started, by id
    for pid in $live_pid $jackd_pid ${other_pids:-}; do kill -9 "$pid" 2> /dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Servers run synchronously (-S): a cycle waits for every client, so each
# client processes each period exactly once, in graph order, even on a loaded
# machine; a late client delays the cycle (the dummy driver reports an xrun
# and catches up) instead of being skipped while its listeners read stale
# buffers, as jackd's default asynchronous mode does. The samples are then
# those of a render whatever the load. -t: a client descheduled for seconds
# on a busy machine is waited for, not thrown out.
start_server() { # NAME PERIOD: real-time scheduling when allowed (fewer xruns), else without
    for mode in -R --no-realtime; do
        jackd "$mode" -S -t 10000 -n "$1" -d dummy -r 48000 -p "$2" > "$dir/jackd-$1.log" 2>&1 &
        jackd_pid=$!
        for _ in $(seq 1 40); do
            timeout 5 jack_lsp -s "$1" > /dev/null 2>&1 && return 0
            kill -0 "$jackd_pid" 2> /dev/null || break
            sleep 0.25
        done
        kill -9 "$jackd_pid" 2> /dev/null
        wait "$jackd_pid" 2> /dev/null
    done
    jackd_pid=
    echo "FAIL jack server $1 did not start: $(grep -v -i 'copyright\|warranty\|free software\|COPYING' "$dir/jackd-$1.log" | tail -2)"
    return 1
}
# stop PID SIGNAL SECONDS: signal (0: none), then wait at most SECONDS; a
# process still there is killed and the status is 124 (as timeout says).
stop() {
    kill "-$2" "$1" 2> /dev/null
    n=$(($3 * 10))
    while [ "$n" -gt 0 ] && kill -0 "$1" 2> /dev/null && [ "$(ps -o stat= -p "$1" 2> /dev/null | cut -c1)" != Z ]; do
        sleep 0.1
        n=$((n - 1))
    done
    if kill -0 "$1" 2> /dev/null && [ "$(ps -o stat= -p "$1" 2> /dev/null | cut -c1)" != Z ]; then
        kill -9 "$1" 2> /dev/null
        wait "$1" 2> /dev/null
        return 124
    fi
    wait "$1"
}
stop_server() {
    [ -n "$jackd_pid" ] && stop "$jackd_pid" TERM 10
    jackd_pid=
}
wait_for() { # FILE PATTERN: up to 20 s
    for _ in $(seq 1 200); do
        grep -q "$2" "$1" 2> /dev/null && return 0
        sleep 0.1
    done
    return 1
}

