#!/bin/sh
# Every ready command that writes audio takes the same output options, from one
# mechanism (strata.args writes = "audio", strata.output_paths,
# strata.write_audio): several inputs (a folder each), --filename, --format,
# --subtype; names that two inputs would share are refused before any work.
# Ready commands' errors name the command, not the file node.
. "$(dirname "$0")/helpers.sh"
u8() { od -An -tu1 -j"$2" -N1 "$1" | tr -d ' '; }
# flac-BITS from a FLAC header, else "not flac"
flac_bits() {
    if [ "$(od -An -c -N4 "$1" 2> /dev/null | tr -d ' ')" = fLaC ]; then
        echo "flac-$(( ( ($(u8 "$1" 20) % 2) * 16 + $(u8 "$1" 21) / 16 ) + 1 ))"
    else echo "not flac"; fi
}

"$STRATA" --quiet run /dev/stdin <<EOF2
local strata = require "strata"
strata.testsong { bars = 8, tempo = 120, arrangement = "loops" }.mixture:save("$dir/a.wav")
strata.testsong { bars = 8, tempo = 120, arrangement = "loops", seed = 3 }.mixture:save("$dir/b.wav")
EOF2

# command, its fast options, the files of one input
check() {
    name=$1 options=$2 files=$3
    # shellcheck disable=SC2086 # options are words
    run "$STRATA" --quiet "$name" "$dir/a.wav" "$dir/b.wav" -o "$dir/$name" --filename "{stem}-{track}.{ext}" \
        --format flac --subtype PCM_16 $options
    missing=
    for track in a b; do
        for f in $files; do
            case "$f" in *.*) path="$dir/$name/${f%.*}-$track.${f##*.}" ;; *) path="$dir/$name/$f-$track.flac" ;; esac
            case "$f" in *.*) [ -s "$path" ] ;; *) [ "$(flac_bits "$path")" = flac-16 ] ;; esac || missing="$missing $path"
        done
    done
    ok "strata $name: two inputs, --filename, --format flac --subtype PCM_16; --quiet says no wrote" \
        "$(yes_if test "$status" = 0 -a -z "$missing" -a -z "$(echo "$out" | grep '^wrote')")" "exit $status: $out; missing:$missing; $(find "$dir/$name")"
    # the default names: a folder per input
    # shellcheck disable=SC2086
    run "$STRATA" --quiet "$name" "$dir/a.wav" "$dir/b.wav" -o "$dir/$name-default" $options
    first=${files%% *}
    case "$first" in *.*) ;; *) first="$first.wav" ;; esac
    ok "strata $name: several inputs write DIR/NAME/" \
        "$(yes_if test "$status" = 0 -a -s "$dir/$name-default/a/$first" -a -s "$dir/$name-default/b/$first")" \
        "exit $status: $out; $(find "$dir/$name-default")"
    # a template that would write one file twice: exit 2 before any work, nothing made
    # shellcheck disable=SC2086
    run "$STRATA" "$name" "$dir/a.wav" "$dir/b.wav" -o "$dir/$name-same" --filename "{stem}.{ext}" $options
    ok "strata $name: two inputs into one name refused, nothing written" \
        "$(yes_if test "$status" = 2 -a ! -e "$dir/$name-same" -a "$(echo "$out" | grep -c '')" = 1)" "exit $status: $out"
    run "$STRATA" "$name" "$dir/a.wav" -o "$dir/$name-bad" --format ogg --subtype PCM_16 $options
    ok "strata $name: --subtype the format cannot hold is a bad command line" \
        "$(yes_if test "$status" = 2 -a ! -e "$dir/$name-bad")" "exit $status: $out"
    run "$STRATA" "$name" "$dir/missing.wav" -o "$dir/$name-missing" $options
    ok "strata $name: a missing input is 'strata $name: cannot open', no node name" \
        "$(yes_if test "$status" = 1 -a "$out" = "strata $name: cannot open '$dir/missing.wav': No such file or directory")" \
        "exit $status: $out"
}
check hpss "" "harmonic percussive"
check repet "--min-period 1" "background foreground"
check rpca "--iterations 5" "background foreground"
check nmf "--sources 2 --rank 4 --iterations 20 --components" \
    "source_1 source_2 components/component_1 components/component_4"
check unmix "--loops 2 --iterations 20" "stems/loop_01 loops/loop_02 layout.json beats.txt layout.png loops.png"

# a second run into the folder of a first with more stems removes the first's extra stems (a
# folder holds one run: the board sums every loop it finds), says so, and touches nothing else
run "$STRATA" --quiet nmf "$dir/a.wav" -o "$dir/again" --sources 3 --rank 6 --iterations 10
printf 'mine' > "$dir/again/source_3.txt"
run "$STRATA" nmf "$dir/a.wav" -o "$dir/again" --sources 2 --rank 4 --iterations 10
ok "strata nmf: a run with fewer sources removes an earlier run's source_3.wav, saying so" \
    "$(yes_if test "$status" = 0 -a -s "$dir/again/source_2.wav" -a ! -e "$dir/again/source_3.wav" \
        -a -s "$dir/again/source_3.txt" -a -n "$(echo "$out" | grep "^removed $dir/again/source_3.wav")")" \
    "exit $status: $out; $(ls "$dir/again")"
# ... but never the command's own input, though it sits at a stale name (an earlier run's source,
# split again into the same folder)
mkdir -p "$dir/own" && cp "$dir/a.wav" "$dir/own/source_3.wav"
run "$STRATA" nmf "$dir/own/source_3.wav" -o "$dir/own" --sources 2 --rank 4 --iterations 10
ok "strata nmf: an input at a stale name is kept, and said so" \
    "$(yes_if test "$status" = 0 -a -s "$dir/own/source_2.wav" -a -n "$(echo "$out" | grep "^kept $dir/own/source_3.wav: an input of this run")" && cmp -s "$dir/a.wav" "$dir/own/source_3.wav")" \
    "exit $status: $out; $(ls "$dir/own")"
run "$STRATA" --quiet unmix "$dir/a.wav" -o "$dir/unmix-again" --loops 3 --iterations 20
run "$STRATA" --quiet unmix "$dir/a.wav" -o "$dir/unmix-again" --loops 2 --iterations 20
ok "strata unmix: a run with fewer loops leaves two loops and two stems, not the earlier three" \
    "$(yes_if test "$status" = 0 -a "$(ls "$dir/unmix-again/loops" | wc -l)" = 2 -a "$(ls "$dir/unmix-again/stems" | wc -l)" = 2)" \
    "exit $status: $out; $(find "$dir/unmix-again")"

# a node other than the file nodes keeps its name: it says which stage refused
run "$STRATA" hpss "$dir/a.wav" -o "$dir/nfft" --hop 4096 --n-fft 2048
ok "strata hpss --hop 4096 --n-fft 2048 names the stft stage" \
    "$(yes_if test "$status" = 1 -a "$out" = "strata hpss: stft: parameter hop = 4096 is larger than n_fft = 2048")" \
    "exit $status: $out"

# strata run: the patch's files are one set; a failure removes what it wrote since it last
# looked outside (io, os.execute, strata.files), and keeps every old file
printf 'old' > "$dir/kept.wav"
cat > "$dir/fails.lua" <<EOF2
local strata = require "strata"
strata.signal { seconds = 0.1 }:save("$dir/kept.wav")
strata.signal { seconds = 0.1 }:save("$dir/new.wav")
error("stop here")
EOF2
run "$STRATA" run "$dir/fails.lua"
ok "strata run: a failing patch leaves its old files and no new ones" \
    "$(yes_if test "$status" = 1 -a "$(cat "$dir/kept.wav")" = old -a ! -e "$dir/new.wav" -a -z "$(ls "$dir" | grep tmp)")" \
    "exit $status: $out; $(ls "$dir")"
cat > "$dir/hands.lua" <<EOF2
local strata = require "strata"
strata.signal { seconds = 0.1 }:save("$dir/first.wav")
local f = assert(io.open("$dir/first.wav", "rb")) -- the patch looks: first.wav is in place
local head = f:read(4)
f:close()
print(head, strata.load("$dir/first.wav"):eval().frames)
strata.signal { seconds = 0.1 }:save("$dir/second.wav")
assert(os.execute("test -s '$dir/second.wav'"), "second.wav was not in place for a program")
strata.signal { seconds = 0.1 }:save("$dir/third.wav")
error("stop here")
EOF2
run "$STRATA" run "$dir/hands.lua"
ok "strata run: files are in place when the patch reads them or runs a program; the rest goes on failure" \
    "$(yes_if test "$status" = 1 -a -s "$dir/first.wav" -a -s "$dir/second.wav" -a ! -e "$dir/third.wav" \
        -a -n "$(echo "$out" | grep "^RIFF	4410$")")" "exit $status: $out; $(ls "$dir")"

# outputs written from Lua (strata.write_file: compare's CSV and JSON, beats files,
# unmix's layout.json and beats.txt) take the output path: symlinks planted at the final
# name and at the old temporary name are never followed; the old mode is kept
printf 'secret' > "$dir/victim"
chmod 600 "$dir/victim"
ln -s "$dir/victim" "$dir/scores.csv"
ln -s "$dir/victim" "$dir/scores.json.tmp"
run "$STRATA" --quiet compare "$dir/a.wav" --ref "$dir/a.wav" "$dir/b.wav" --methods mixture \
    --csv "$dir/scores.csv" --json "$dir/scores.json" --trim
ok "compare --csv/--json: never through a symlink at the name or the old temporary name" \
    "$(yes_if test "$status" = 0 -a "$(cat "$dir/victim")" = secret -a ! -L "$dir/scores.csv" \
        -a -n "$(grep '^method,source' "$dir/scores.csv")" -a -n "$(grep '"method"' "$dir/scores.json")")" \
    "exit $status: $out; victim: $(cat "$dir/victim"); $(ls -l "$dir" | grep scores)"
cat > "$dir/text.lua" <<EOF2
local strata = require "strata"
assert(strata.write_file("$dir/mode.txt", "one"))
os.execute("chmod 640 '$dir/mode.txt'")
assert(strata.write_file("$dir/mode.txt", "two"))
local ok, why = strata.write_file("$dir/no/such/x.txt", "x")
print(ok, why)
EOF2
run "$STRATA" run "$dir/text.lua"
ok "strata.write_file replaces keeping the mode; a missing folder is nil and the reason" \
    "$(yes_if test "$status" = 0 -a "$(cat "$dir/mode.txt")" = two -a "$(stat -c %a "$dir/mode.txt")" = 640 \
        -a -n "$(echo "$out" | grep "^nil	cannot write '$dir/no/such/x.txt'")")" "exit $status: $out"
# a command that fails before its first output leaves no folder behind
for name in hpss repet rpca nmf vocals; do
    extra=
    [ "$name" = nmf ] && extra="--sources 2"
    # shellcheck disable=SC2086
    run "$STRATA" "$name" "$dir/no-such-song.wav" -o "$dir/failed-$name" $extra
    ok "strata $name: a missing input is one line, exit 1, and makes no folder" \
        "$(yes_if test "$status" = 1 -a ! -e "$dir/failed-$name" -a "$(echo "$out" | grep -c '')" = 1)" \
        "exit $status: $out; $(ls -d "$dir/failed-$name" 2>&1)"
done

# a command ended by a signal (SIGTERM: what timeout and kill send; Ctrl-C's SIGINT goes the
# same way) leaves none of its temporary files: the patch saves (the file is held under its
# temporary name until the set commits) and then spins until it is killed
mkdir -p "$dir/signal"
cat > "$dir/spin.lua" <<EOF2
local strata = require "strata"
strata.signal { seconds = 2 }:save("$dir/signal/held.wav")
while true do end
EOF2
"$STRATA" --quiet run "$dir/spin.lua" &
pid=$!
i=0
while [ $i -lt 300 ] && [ -z "$(ls "$dir/signal")" ]; do sleep 0.1; i=$((i + 1)); done
seen=$(ls "$dir/signal")
kill -TERM "$pid" 2> /dev/null
{ wait "$pid"; } 2> /dev/null
status=$?
ok "a command killed by SIGTERM removes its held temporary file and makes no final one" \
    "$(yes_if test "$status" = 143 -a -n "$seen" -a -z "$(ls "$dir/signal")")" \
    "exit $status; seen '$seen'; left '$(ls "$dir/signal")'"
