#!/bin/sh
# Hostile inputs and shared folders (issue 9): each defect's reproduction.
: "${STRATA:=./strata}"
dir=$(mktemp -d)
trap 'chmod -R u+w "$dir" 2>/dev/null; rm -rf "$dir"' EXIT
export STRATA_CACHE_DIR="$dir/cache"
"$STRATA" run tests/cli/make_hostile_files.lua "$dir" || { echo "FAIL hostile fixtures"; exit 1; }

ok() { # NAME STATUS [DETAIL]
    if [ "$2" -eq 0 ]; then echo "ok $1"; else echo "FAIL $1: ${3:-}"; fi
}
# one line on stderr matching PATTERN, a non-zero exit, no crash
fails_with() { # NAME PATTERN COMMAND...
    name=$1 pattern=$2
    shift 2
    "$@" > "$dir/stdout" 2> "$dir/stderr"
    status=$?
    lines=$(grep -c '' "$dir/stderr")
    if [ "$status" -eq 0 ] || [ "$status" -gt 128 ]; then
        echo "FAIL $name: exit status $status"
    elif [ "$lines" -ne 1 ] || ! grep -qE -- "$pattern" "$dir/stderr"; then
        echo "FAIL $name: stderr '$(head -c 300 "$dir/stderr")' does not match '$pattern'"
    else
        echo "ok $name"
    fi
}
mode_of() { stat -c %a "$1"; }

# 1. more channels than any fixed array: 300 channels load, split and save
mkdir -p "$dir/c300"
"$STRATA" --quiet hpss "$dir/c300.wav" -o "$dir/c300" > /dev/null 2> "$dir/stderr"
status=$?
ch=$("$STRATA" run /dev/stdin "$dir/c300/harmonic.wav" 2>&1 <<'LUA'
local strata = require "strata"
print(strata.load(arg[1]):eval().channels)
LUA
)
ok "a 300-channel file splits into 300-channel files" $(test "$status" -eq 0 && test "$ch" = 300; echo $?) \
    "status $status, channels '$ch', $(head -c 200 "$dir/stderr")"
list=$(printf '1,%.0s' $(seq 1 200))1
ch=$("$STRATA" run /dev/stdin "$dir/short.wav" "$list" 2>&1 <<'LUA'
local strata = require "strata"
print(strata.load { path = arg[1], channels = arg[2] }:eval().channels)
LUA
)
ok "a list of 201 channels" $(test "$ch" = 201; echo $?) "$ch"

# 2. temporary files never follow a planted symlink (the old names were
# NAME.tmp-PID and fftw-wisdom.PID.tmp; exec keeps the shell's PID)
mkdir -p "$dir/out" "$dir/cache"
chmod 700 "$dir/cache"
printf 'victim' > "$dir/victim"
chmod 600 "$dir/victim"
sh -c 'ln -s "$1/victim" "$1/out/harmonic.wav.tmp-$$"; ln -s "$1/victim" "$1/cache/fftw-wisdom.$$.tmp";
       exec "$2" --quiet hpss "$1/short.wav" -o "$1/out"' sh "$dir" "$STRATA" > /dev/null 2>&1
ok "a symlink at a temporary name is not followed" \
    $(test "$(cat "$dir/victim")" = victim && test -s "$dir/out/harmonic.wav"; echo $?) \
    "the victim holds '$(head -c 20 "$dir/victim" | od -c | head -1)'"
rm -f "$dir"/out/*.tmp-* "$dir"/cache/fftw-wisdom.*

# 3 (the cache folder's owner and mode) is in tests/unit/test_cache.c

# 4. special files: a FIFO as wisdom or as a beat file never hangs
mkdir -m 700 "$dir/fifocache"
mkfifo "$dir/fifocache/fftw-wisdom" "$dir/fifo.txt"
STRATA_CACHE_DIR="$dir/fifocache" timeout 30 "$STRATA" --quiet hpss "$dir/short.wav" -o "$dir/out" > /dev/null 2>&1
ok "a FIFO named fftw-wisdom does not hang" $?
fails_with "a FIFO as a beat file is refused" "^strata beat-eval: cannot read '.*fifo.txt': it is not a regular file" \
    timeout 60 "$STRATA" beat-eval "$dir/fifo.txt" "$dir/beats.txt"
ln -s /dev/zero "$dir/zero.txt"
fails_with "/dev/zero as a beat file is refused" "^strata beat-eval: cannot read '.*zero.txt': it is not a regular file" \
    timeout 60 "$STRATA" beat-eval "$dir/zero.txt" "$dir/beats.txt"

# 5. replacing keeps the mode; a read-only file needs --force
mkdir -p "$dir/modes"
"$STRATA" --quiet hpss "$dir/short.wav" -o "$dir/modes" > /dev/null 2>&1
chmod 640 "$dir/modes/harmonic.wav"
chmod 444 "$dir/modes/percussive.wav"
cp "$dir/modes/percussive.wav" "$dir/percussive.before"
fails_with "a read-only output is not replaced" "refusing to replace '.*percussive.wav': it is read-only.*--force" \
    "$STRATA" --quiet hpss "$dir/short.wav" -o "$dir/modes" --kernel 17
ok "the read-only file is intact" $(cmp -s "$dir/modes/percussive.wav" "$dir/percussive.before"; echo $?)
"$STRATA" --quiet --force hpss "$dir/short.wav" -o "$dir/modes" --kernel 17 > /dev/null 2>&1
ok "--force replaces it and keeps both modes" \
    $(test "$(mode_of "$dir/modes/percussive.wav")" = 444 && test "$(mode_of "$dir/modes/harmonic.wav")" = 640 &&
      ! cmp -s "$dir/modes/percussive.wav" "$dir/percussive.before"; echo $?) \
    "modes $(mode_of "$dir/modes/percussive.wav") $(mode_of "$dir/modes/harmonic.wav")"

# 6. the outputs of a ready patch's command are one set: the second file
# fails (a file-size limit stands in for a full disk) and both old files stay
mkdir -p "$dir/set"
printf 'old a' > "$dir/set/a.wav"
printf 'old b' > "$dir/set/b.wav"
(ulimit -f 200; trap '' XFSZ; STRATA_PATCHES="$dir/patches" exec "$STRATA" --quiet two "$dir/set") > /dev/null 2> "$dir/stderr"
status=$?
ok "a set that fails halfway keeps every old file" \
    $(test "$status" -ne 0 && test "$(cat "$dir/set/a.wav")" = "old a" && test "$(cat "$dir/set/b.wav")" = "old b" &&
      ! ls "$dir/set" | grep -q tmp; echo $?) \
    "status $status, a.wav '$(head -c 8 "$dir/set/a.wav")', files: $(ls "$dir/set" | tr '\n' ' ')"
STRATA_PATCHES="$dir/patches" "$STRATA" --quiet two "$dir/set" > /dev/null 2>&1
ok "the same set without the limit replaces both" \
    $(test "$(head -c 4 "$dir/set/a.wav")" = RIFF && test "$(head -c 4 "$dir/set/b.wav")" = RIFF; echo $?)
STRATA_PATCHES="$dir/patches" "$STRATA" --quiet exits "$dir/set" > /dev/null 2>&1
ok "a ready patch ending in os.exit(0) keeps its outputs" $(test -s "$dir/set/exited.wav"; echo $?)
out=$(STRATA_PATCHES="$dir/patches" "$STRATA" --quiet readback "$dir/set" 2>&1)
ok "a patch reads back what it wrote before the set is committed" $(test "$out" = "frames 22050"; echo $?) "$out"

# 7. beat files: empty is no beats; repeated, huge, negative or garbled times are one clear error
"$STRATA" beat-eval "$dir/empty.txt" "$dir/beats.txt" > "$dir/stdout" 2>&1
ok "an empty beat file scores zero" $(grep -q "F-measure *0.0000" "$dir/stdout"; echo $?) "$(head -c 300 "$dir/stdout")"
"$STRATA" beat-eval "$dir/beats.txt" "$dir/comments.txt" > "$dir/stdout" 2>&1
ok "a comment-only beat file scores zero" $(grep -q "F-measure *0.0000" "$dir/stdout"; echo $?) "$(head -c 300 "$dir/stdout")"
fails_with "a repeated beat time" "repeated.txt' line 3: 1 s repeats the previous beat" \
    "$STRATA" beat-eval "$dir/repeated.txt" "$dir/beats.txt"
fails_with "a beat at 9e16 s" "huge.txt' line 3: 9e\+16 is not a time from 0 to 30000 s" \
    "$STRATA" beat-eval "$dir/beats.txt" "$dir/huge.txt"
fails_with "a negative beat time" "negative.txt' line 1: -0.5 is not a time" \
    "$STRATA" beat-eval "$dir/negative.txt" "$dir/beats.txt"
fails_with "a line that is not a time" "nonnumber.txt' line 2: expected a time in seconds" \
    "$STRATA" beat-eval "$dir/nonnumber.txt" "$dir/beats.txt"

# 8. messages that say what happened
fails_with "error({}) names its line" "errtable.lua:3: the patch raised an error that is not a string" \
    "$STRATA" run "$dir/errtable.lua"
# As root, a file root cannot read does not exist: the check runs as nobody,
# which needs to reach the binary (not so in a clone under a 0700 /root).
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if [ "$(id -u)" = 0 ] && ! { command -v setpriv > /dev/null && as_nobody test -x "$STRATA" 2> /dev/null; }; then
    echo "skip an unreadable input says so: nobody cannot run $STRATA from here, and root reads every file"
elif [ "$(id -u)" = 0 ]; then
    cp "$dir/short.wav" "$dir/secret.wav"
    chmod 600 "$dir/secret.wav"
    chmod 755 "$dir"
    fails_with "an unreadable input says so" "^strata stft-roundtrip: cannot open '.*secret.wav': Permission denied" \
        as_nobody env STRATA_CACHE_DIR=/nonexistent \
        "$STRATA" --quiet stft-roundtrip "$dir/secret.wav" /tmp/strata-never.wav
    chmod 700 "$dir"
else
    cp "$dir/short.wav" "$dir/secret.wav"
    chmod 000 "$dir/secret.wav"
    fails_with "an unreadable input says so" "^strata stft-roundtrip: cannot open '.*secret.wav': Permission denied" \
        "$STRATA" --quiet stft-roundtrip "$dir/secret.wav" "$dir/never.wav"
fi

out=$("$STRATA" --quiet run /dev/stdin 2>&1 <<'LUA'
local strata = require "strata"
local x = strata.signal { seconds = 0.05 }
local n = 0
for n_fft = 16, 16 + 69 do
  local y = x:stft { n_fft = n_fft, hop = 8 }:istft():eval()
  if y.frames == x:eval().frames then n = n + 1 end
end
print(n)
LUA
)
ok "70 FFT sizes in one process" $(test "$out" = 70; echo $?) "$out"

# 11. what a parameter may cost: bounded, and said
"$STRATA" run /dev/stdin "$dir/seven.wav" <<'LUA'
local strata = require "strata"
strata.signal { seconds = 6.8 }:save(arg[1])
LUA
fails_with "a window of 0.0001 s on a 6.8 s file" "bsseval: parameter window = 4 samples .* makes 74970 windows \(at most 10000\): give a window of at least" \
    timeout 120 "$STRATA" --quiet eval --ref "$dir/seven.wav" --est "$dir/seven.wav" --window 0.0001
fails_with "a hop of one sample for n_fft 4096" "stft: the spectrum \(hop = 1 with n_fft = 4096: [0-9]+ frames\) needs [0-9.]+ GB, more than the 2.0 GB a node may take \(STRATA_MAX_MEMORY_MB\): raise hop" \
    env STRATA_MAX_MEMORY_MB=2000 timeout 120 "$STRATA" --quiet run /dev/stdin <<'LUA'
local strata = require "strata"
strata.signal { seconds = 7, channels = 2 }:stft { n_fft = 4096, hop = 1 }:eval()
LUA

# 9. --no-cache touches no cache folder (nor FFTW wisdom)
STRATA_CACHE_DIR="$dir/nocache" "$STRATA" --quiet --no-cache hpss "$dir/short.wav" -o "$dir/out" > /dev/null 2>&1
ok "--no-cache makes no cache folder" $(test ! -e "$dir/nocache"; echo $?)

# 10. same input, same bytes: three runs with fresh caches
for i in 1 2 3; do
    mkdir -p "$dir/same$i"
    STRATA_CACHE_DIR="$dir/fresh$i" "$STRATA" --quiet hpss "$dir/c300.wav" -o "$dir/same$i" > /dev/null 2>&1
done
ok "three fresh-cache runs give the same bytes" \
    $(cmp -s "$dir/same1/harmonic.wav" "$dir/same2/harmonic.wav" && cmp -s "$dir/same1/harmonic.wav" "$dir/same3/harmonic.wav" &&
      cmp -s "$dir/same1/percussive.wav" "$dir/same3/percussive.wav" && test -s "$dir/same1/harmonic.wav"; echo $?)
