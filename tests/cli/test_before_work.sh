#!/bin/sh
# What a command checks before any work, and what it says of what it did.
# Several inputs, one of them bad: every input is checked before any work, so
# the command fails at once, says no "wrote", and leaves no file and no folder;
# a bad sample found only while reading a later input (after the first was
# computed) also leaves nothing: no file, no "wrote", no empty folder. An -o
# folder that cannot be written is said before any work. repet says a silent
# input has no period.
. "$(dirname "$0")/helpers.sh"

"$STRATA" --quiet run /dev/stdin <<EOF2
require("strata").testsong { bars = 8, tempo = 120, arrangement = "loops" }.mixture:save("$dir/a.wav")
-- 3 s at 8 kHz, a NaN at 2 s: past the first second, found only when the file is read
local rate, t = 8000, {}
for i = 1, 3 * rate do t[i] = string.pack("<f", i == 2 * rate + 1 and 0 / 0 or 0.1 * math.sin(i * 0.1)) end
local samples = table.concat(t)
local fmt = string.pack("<I2I2I4I4I2I2", 3, 1, rate, rate * 4, 4, 32)
local body = "WAVE" .. "fmt " .. string.pack("<I4", #fmt) .. fmt .. "data" .. string.pack("<I4", #samples) .. samples
local f = assert(io.open("$dir/late_nan.wav", "wb"))
f:write("RIFF" .. string.pack("<I4", #body) .. body)
f:close()
f = assert(io.open("$dir/text.wav", "wb"))
f:write(string.rep("not audio\n", 20))
f:close()
EOF2
: > "$dir/empty.wav"

# CMD NAME BAD [OPTIONS]: a.wav then BAD into a new folder
check() {
    name=$1 bad=$2
    shift 2
    run timeout 300 "$STRATA" --no-cache "$name" "$dir/a.wav" "$dir/$bad" -o "$dir/out-$name-$bad/x" "$@"
    ok "strata $name a.wav $bad: one line, exit 1, no wrote, no folder" \
        "$(yes_if test "$status" = 1 -a "$(echo "$out" | grep -c '')" = 1 -a ! -e "$dir/out-$name-$bad" \
            -a -z "$(echo "$out" | grep wrote)")" "exit $status: $out; $(find "$dir/out-$name-$bad" 2> /dev/null)"
}
for bad in missing.wav text.wav empty.wav; do check hpss "$bad"; done
check unmix missing.wav
check repet text.wav
check rpca empty.wav --iterations 5
check nmf missing.wav --iterations 5
# the first input is not computed: the bad last one is found in well under a second
# of work (unmix's first input alone takes seconds); no node ran, nothing was cached
run env STRATA_CACHE_DIR="$dir/cache-unmix" "$STRATA" unmix "$dir/a.wav" "$dir/missing.wav" -o "$dir/u"
ok "strata unmix with a missing last input computes nothing" \
    "$(yes_if test "$status" = 1 -a ! -e "$dir/cache-unmix" -a ! -e "$dir/u")" "exit $status: $out; $(ls "$dir/cache-unmix" 2> /dev/null)"

# a bad sample past the first second: found while reading the second input, after
# the first was computed; its files, its "wrote" and the folders made go with it
check hpss late_nan.wav
ok "the NaN is named" "$(yes_if test "$out" = "strata hpss: '$dir/late_nan.wav' has a NaN sample at index 16000 (channel 1)")" "$out"
# an -o folder that was there stays, with what it held
mkdir -p "$dir/kept"
printf 'old' > "$dir/kept/a-file"
run "$STRATA" hpss "$dir/a.wav" "$dir/late_nan.wav" -o "$dir/kept"
ok "a failed command keeps the folder that was there, and its files" \
    "$(yes_if test "$status" = 1 -a "$(ls "$dir/kept")" = a-file -a "$(cat "$dir/kept/a-file")" = old)" "$(ls -R "$dir/kept")"
# a good run still says what it wrote, after the work
run "$STRATA" hpss "$dir/a.wav" -o "$dir/good"
ok "a good run says wrote for each file, and the files are there" \
    "$(yes_if test "$status" = 0 -a "$out" = "wrote $dir/good/harmonic.wav
wrote $dir/good/percussive.wav" -a -s "$dir/good/harmonic.wav" -a -s "$dir/good/percussive.wav")" "exit $status: $out"

# -o DIR that cannot be written: said before any work (nothing computed: no cache
# folder), one line, nothing made
run env STRATA_CACHE_DIR="$dir/cache-file" "$STRATA" unmix "$dir/a.wav" -o "$dir/a.wav/out"
ok "strata unmix -o through a file: one line before any work" \
    "$(yes_if test "$status" = 1 -a "$out" = "strata unmix: cannot make the folder '$dir/a.wav/out': '$dir/a.wav' exists and is not a folder" \
        -a ! -e "$dir/cache-file")" "exit $status: $out; $(ls "$dir/cache-file" 2> /dev/null)"
# a folder that may not be written: as root every folder may, so the check runs as nobody
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if [ "$(id -u)" = 0 ] && ! { command -v setpriv > /dev/null && as_nobody test -x "$STRATA" 2> /dev/null; }; then
    echo "skip a read-only -o folder is said before any work: nobody cannot run $STRATA from here"
else
    mkdir "$dir/ro"
    chmod 755 "$dir"
    chmod 555 "$dir/ro"
    maybe_nobody() { if [ "$(id -u)" = 0 ]; then as_nobody "$@"; else "$@"; fi; }
    run maybe_nobody env STRATA_CACHE_DIR="$dir/ro/cache" "$STRATA" unmix "$dir/a.wav" -o "$dir/ro/out"
    ok "strata unmix -o in a read-only folder: one line before any work" \
        "$(yes_if test "$status" = 1 -a "$out" = "strata unmix: cannot make the folder '$dir/ro/out' in '$dir/ro': Permission denied")" \
        "exit $status: $out"
    run maybe_nobody env STRATA_CACHE_DIR="$dir/ro/cache" "$STRATA" hpss "$dir/a.wav" -o "$dir/ro"
    ok "strata hpss -o a read-only folder: one line" \
        "$(yes_if test "$status" = 1 -a "$out" = "strata hpss: cannot write into '$dir/ro': Permission denied")" "exit $status: $out"
    chmod 755 "$dir/ro"
    chmod 700 "$dir"
fi

# strata repet on silence: one warning line, silent parts written, no invented period; the
# other input of the batch keeps its period
"$STRATA" --quiet run /dev/stdin <<EOF2
require("strata").signal { seconds = 10, kind = "silence" }:save("$dir/silence.wav")
EOF2
"$STRATA" repet "$dir/a.wav" "$dir/silence.wav" -o "$dir/sil" > "$dir/sil.out" 2> "$dir/sil.err"
status=$?
ok "strata repet: a silent input is one warning, both parts written, no period for it" \
    "$(yes_if test "$status" = 0 -a "$(cat "$dir/sil.err")" = "strata repet: warning: '$dir/silence.wav' is silent: nothing to separate" \
        -a -s "$dir/sil/silence/background.wav" -a -s "$dir/sil/silence/foreground.wav" \
        -a "$(grep -c period "$dir/sil.out")" = 1 -a -n "$(grep "^$dir/a.wav: period " "$dir/sil.out")")" \
    "exit $status: $(cat "$dir/sil.err" "$dir/sil.out")"

# a file the user names (beats -o, compare --csv) in a folder that is not there: said before
# any work (no beats computed: no cache folder; no method run: no table), one line
run env STRATA_CACHE_DIR="$dir/cache-beats" "$STRATA" beats "$dir/a.wav" -o "$dir/nodir/beats.txt"
ok "strata beats -o into a missing folder: one line before any work" \
    "$(yes_if test "$status" = 1 -a "$out" = "strata beats: cannot write '$dir/nodir/beats.txt': the folder '$dir/nodir' does not exist" \
        -a ! -e "$dir/cache-beats")" "exit $status: $out"
run "$STRATA" compare "$dir/a.wav" --ref "$dir/a.wav" --methods mixture --json "$dir/a.wav/scores.json"
ok "strata compare --json through a file: one line before any method" \
    "$(yes_if test "$status" = 1 -a "$out" = "strata compare: cannot write '$dir/a.wav/scores.json': '$dir/a.wav' is not a folder")" \
    "exit $status: $out"
