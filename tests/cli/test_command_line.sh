#!/bin/sh
# The newcomer's command line: help for every command, the patch list with
# docs, exit status 2 for a bad command line, errors that name the command,
# -o folders made, several inputs, --filename, --format, --subtype, --quiet.
. "$(dirname "$0")/helpers.sh"
# encoding FILE: "wav-pcm-16", "wav-float-32", "flac-24", ... read from the
# header with od (a minimal system has no `file`)
u8() { od -An -tu1 -j"$2" -N1 "$1" | tr -d ' '; }
encoding() {
    case "$(od -An -c -N4 "$1" | tr -d ' ')" in
        RIFF)
            tag=$(( $(u8 "$1" 20) + 256 * $(u8 "$1" 21) )) bits=$(u8 "$1" 34)
            if [ "$tag" = 65534 ]; then tag=$(u8 "$1" 44); fi # extensible: the sub-format's tag
            case "$tag" in 1) echo "wav-pcm-$bits" ;; 3) echo "wav-float-$bits" ;; *) echo "wav-$tag-$bits" ;; esac ;;
        fLaC) echo "flac-$(( ( ($(u8 "$1" 20) % 2) * 16 + $(u8 "$1" 21) / 16 ) + 1 ))" ;;
        *) echo "unknown" ;;
    esac
}

for c in run render live nodes patches help; do
    run "$STRATA" "$c" --help
    ok "strata $c --help" "$(yes_if test "$status" = 0 -a -n "$(echo "$out" | grep "^usage: strata $c")")" "exit $status: $out"
    run "$STRATA" help "$c"
    ok "strata help $c" "$(yes_if test "$status" = 0 -a -n "$(echo "$out" | grep "^usage: strata $c")")" "exit $status: $out"
done
run "$STRATA" help
ok "strata help lists the commands" "$(yes_if test "$status" = 0 -a -n "$(echo "$out" | grep '^  patches')")" "$out"
run "$STRATA" help hpss
ok "strata help PATCH" "$(yes_if test "$status" = 0 -a -n "$(echo "$out" | grep -- '--subtype')")" "exit $status: $out"
run "$STRATA" help nothing-of-that-name
ok "strata help NAME for no such name: exit 2" "$(yes_if test "$status" = 2)" "exit $status: $out"

run "$STRATA" patches
listed=$(echo "$out" | grep -c '^  [a-z]')
with_doc=$(echo "$out" | grep -cE '^  [a-z][a-z0-9-]* +[a-zA-Z].{10,}')
n_files=$(ls patches/*.lua | wc -l)
ok "strata patches lists every ready patch with its one-line doc" \
    "$(yes_if test "$listed" = "$n_files" -a "$with_doc" = "$n_files")" "$listed listed, $with_doc with docs, $n_files files: $out"
ok "strata patches: hpss's doc" "$(yes_if test -n "$(echo "$out" | grep -E '^  hpss +split audio into harmonic')")" "$out"

# exit status 2 for a bad command line, everywhere
for line in "hpss" "hpss --no-such-option x.wav -o d" "eval" "stft-roundtrip" "render" "live" \
    "run" "nodes --no-such-option" "patches x" "--no-such-option" "no-such-command"; do
    # shellcheck disable=SC2086 # the words of the line
    run "$STRATA" $line
    ok "bad command line 'strata $line': exit 2" "$(yes_if test "$status" = 2)" "exit $status: $out"
done

# errors of ready commands name the command, not the patch file and line
run "$STRATA" hpss "$dir/missing.wav" -o "$dir/out"
ok "a ready command's error names the command" \
    "$(yes_if test "$status" = 1 -a -n "$(echo "$out" | grep "^strata hpss: .*cannot open '$dir/missing.wav'")" -a -z "$(echo "$out" | grep 'hpss.lua:')")" "$out"
printf 'local strata = require "strata"\nlocal x = strata.load("%s")\nx:eval()\n' "$dir/missing.wav" > "$dir/mine.lua"
run "$STRATA" run "$dir/mine.lua"
ok "a user's patch error keeps file:line" "$(yes_if test -n "$(echo "$out" | grep "mine.lua:2:")")" "$out"

# a sound file is not a patch
"$STRATA" --quiet stft-roundtrip --demo "$dir/a.wav" > /dev/null
run "$STRATA" run "$dir/a.wav"
ok "strata run song.wav says it is not a patch" \
    "$(yes_if test "$status" = 1 -a -n "$(echo "$out" | grep "is not a patch")")" "$out"

# -o made, several inputs, one folder each, formats and subtypes
cp "$dir/a.wav" "$dir/b.wav"
run "$STRATA" --quiet hpss "$dir/a.wav" "$dir/b.wav" -o "$dir/new/out"
ok "hpss: -o is made; several inputs write one folder each; --quiet prints nothing" \
    "$(yes_if test "$status" = 0 -a -z "$out" -a -s "$dir/new/out/a/harmonic.wav" -a -s "$dir/new/out/b/percussive.wav")" \
    "exit $status: $out; $(find "$dir/new")"
run "$STRATA" hpss "$dir/a.wav" -o "$dir/f" --filename "{track}-{stem}.{ext}" --format flac --subtype PCM_16
ok "hpss --filename --format flac --subtype PCM_16" \
    "$(yes_if test "$status" = 0 -a "$(encoding "$dir/f/a-harmonic.flac" 2> /dev/null)" = flac-16)" \
    "exit $status: $out; $(ls "$dir/f")"
run "$STRATA" hpss "$dir/a.wav" -o "$dir/g" --subtype PCM_24
ok "hpss --subtype PCM_24 writes 24-bit WAV" \
    "$(yes_if test "$(encoding "$dir/g/harmonic.wav")" = wav-pcm-24)" "$out; $(encoding "$dir/g/harmonic.wav")"
run "$STRATA" hpss "$dir/a.wav" -o "$dir/h"
ok "hpss writes 32-bit float WAV by default" "$(yes_if test "$(encoding "$dir/h/harmonic.wav")" = wav-float-32)" \
    "$(encoding "$dir/h/harmonic.wav")"
mkdir -p "$dir/x" && cp "$dir/a.wav" "$dir/x/a.wav"
run "$STRATA" hpss "$dir/a.wav" "$dir/x/a.wav" -o "$dir/same"
ok "hpss: two inputs of one name are refused before anything is written" \
    "$(yes_if test "$status" = 2 -a ! -e "$dir/same")" "exit $status: $out"
run "$STRATA" hpss "$dir/a.wav" -o "$dir/i" --format flac --subtype FLOAT
ok "hpss: --subtype that the format cannot hold: exit 2, one line" \
    "$(yes_if test "$status" = 2 -a "$(echo "$out" | grep -c '')" = 1)" "exit $status: $out"

# strata demo DIR: any name, no shell; a file in the way is one line
run "$STRATA" --quiet demo "$dir/it's \$(x)" --bars 8
ok "demo DIR with a quote and \$( in its name" "$(yes_if test "$status" = 0 -a -s "$dir/it's \$(x)/mixture.wav")" "exit $status: $out"
: > "$dir/a-file"
run "$STRATA" demo "$dir/a-file" --bars 8
ok "demo DIR that is a file: one line, exit 1" \
    "$(yes_if test "$status" = 1 -a "$(echo "$out" | grep -c '')" = 1 -a -n "$(echo "$out" | grep 'is not a folder')")" "exit $status: $out"

# save takes its path in a table too
printf 'local strata = require "strata"\nstrata.signal { seconds = 0.1 }:save { "%s", subtype = "PCM_16" }\n' "$dir/t.wav" > "$dir/save.lua"
run "$STRATA" run "$dir/save.lua"
ok 'x:save{"o.wav", subtype = "PCM_16"}' "$(yes_if test "$(encoding "$dir/t.wav")" = wav-pcm-16)" "exit $status: $out; $(encoding "$dir/t.wav")"

# every option under a usage line is in the usage line
for p in patches/*.lua; do
    name=$(basename "$p" .lua)
    help=$("$STRATA" "$name" --help 2>&1)
    usage=$(echo "$help" | sed '/^$/q')
    missing=
    for o in $(echo "$help" | sed -n '/^options:/,$p' | sed -n 's/^  \(--*[a-z0-9-]*\).*/\1/p'); do
        [ "$o" = --help ] && continue
        echo "$usage" | grep -q -- "$o\b" || missing="$missing $o"
    done
    ok "strata $name: the usage line names every option" "$(yes_if test -z "$missing")" "missing:$missing"
done

# a silent input is worth a warning
printf 'local strata = require "strata"\nstrata.signal { kind = "silence", seconds = 1 }:save("%s")\n' "$dir/silent.wav" > "$dir/mk.lua"
"$STRATA" run "$dir/mk.lua"
run "$STRATA" --quiet hpss "$dir/silent.wav" -o "$dir/s"
ok "hpss warns, in one line, about a silent input" \
    "$(yes_if test "$status" = 0 -a "$(echo "$out" | grep -c '')" = 1 -a -n "$(echo "$out" | grep "warning: '$dir/silent.wav' is silent")")" "exit $status: $out"
# strata unmix on a song with no beat: one line naming the file and the way out, nothing written
run "$STRATA" --quiet unmix "$dir/silent.wav" -o "$dir/u"
ok "unmix on silence: one line naming the file, no steady beat, --downbeats; nothing written" \
    "$(yes_if test "$status" != 0 -a "$(echo "$out" | grep -c '')" = 1 -a ! -e "$dir/u" -a \
        -n "$(echo "$out" | grep -F "strata unmix: $dir/silent.wav: no steady beat found; give the bars with --downbeats FILE")")" \
    "exit $status: $out"
# a clip with a beat but shorter than two bars: too short, not beatless
printf 'local strata = require "strata"\nstrata.testsong { tempo = 120, bars = 1, seed = 5 }.mixture:save("%s")\n' "$dir/clip.wav" > "$dir/mk.lua"
"$STRATA" run "$dir/mk.lua"
run "$STRATA" --quiet unmix "$dir/clip.wav" -o "$dir/u"
ok "unmix on a one-bar clip: one line, too short, beats found, --downbeats; nothing written" \
    "$(yes_if test "$status" != 0 -a "$(echo "$out" | grep -c '')" = 1 -a ! -e "$dir/u" -a \
        -n "$(echo "$out" | grep -E "strata unmix: $dir/clip.wav: too short: [0-5] beats found, at least 6 \(two bars\) needed; give the bars with --downbeats FILE")")" \
    "exit $status: $out"
# strata beats: a tempo range out of bounds or upside down is a bad command line (exit 2, the
# option's name); a bad activations line is quoted on one line; a place in strata's own Lua
# (patches/methods/, lua/strata.lua) is not part of a ready command's message
run "$STRATA" beats "$dir/clip.wav" --min-bpm 0
ok "beats --min-bpm 0: exit 2 naming --min-bpm" \
    "$(yes_if test "$status" = 2 -a "$(echo "$out" | grep -c '')" = 1 -a -n "$(echo "$out" | grep -F 'strata beats: --min-bpm wants a number from 1 to 1000, not 0')")" "exit $status: $out"
run "$STRATA" beats "$dir/clip.wav" --min-bpm 200 --max-bpm 100
ok "beats --min-bpm above --max-bpm: exit 2 naming both" \
    "$(yes_if test "$status" = 2 -a -n "$(echo "$out" | grep -F 'strata beats: --min-bpm 200 is not below --max-bpm 100')")" "exit $status: $out"
printf '0.1 0.2\nabc\n' > "$dir/bad_acts.txt"
run "$STRATA" beats "$dir/clip.wav" --activations "$dir/bad_acts.txt"
ok "beats --activations with a bad line: one line quoting it" \
    "$(yes_if test "$status" = 1 -a "$(echo "$out" | grep -c '')" = 1 -a -n "$(echo "$out" | grep -F 'line 2: expected two activations in [0, 1], found "abc"')")" "exit $status: $out"
printf '100.0\t1\n' > "$dir/far.txt"
run "$STRATA" --quiet unmix "$dir/clip.wav" --downbeats "$dir/far.txt" -o "$dir/u"
ok "unmix: an error from strata's own Lua carries no .lua:LINE place" \
    "$(yes_if test "$status" = 1 -a -z "$(echo "$out" | grep -F '.lua:')" -a -n "$(echo "$out" | grep -F 'strata unmix: cube: downbeats: a downbeat at 100.000 s is beyond')")" "exit $status: $out"

# docs that are true: doc/evaluation.md names every method compare has
missing=
for m in patches/methods/*.lua; do
    name=$(basename "$m" .lua)
    grep -q -- "- \`$name\`:" doc/evaluation.md || missing="$missing $name"
done
ok "doc/evaluation.md lists every compare method" "$(yes_if test -z "$missing")" \
    "add a line '  - \`NAME\`: what it does' to the list under strata compare in doc/evaluation.md for:$missing"

# strata live's first run: os.exit ends the session with its status and no
# message of its own (a patch's --help or usage error), before any JACK work
printf 'print("usage: remix SONG")\nos.exit(3)\n' > "$dir/exit3.lua"
out=$(timeout 20 "$STRATA" live "$dir/exit3.lua" --server strata-test-none 2>&1)
status=$?
ok "strata live: os.exit(3) in the first run exits 3 with only the patch's words" \
    "$(yes_if test "$status:$out" = "3:usage: remix SONG")" "exit $status: '$out'"

# a number option that feeds a node parameter is checked against the node's range (its
# descriptor): out of range or not whole is a bad command line, one line naming the option,
# before any work; the option's "not given" values pass
for case in "unmix|--iterations -5|--iterations wants a whole number from 1 to 1000000 (or 0), not -5" \
            "unmix|--bars-per-loop 100|--bars-per-loop wants a whole number from 1 to 64, not 100" \
            "unmix|--seed -3|--seed wants a whole number from 0 to 2147483647, not -3" \
            "unmix|--bars-per-unit -7|--bars-per-unit wants a whole number from 1 to 64 (or -1, 0), not -7" \
            "unmix|--period 2.5|--period wants a whole number from 1 to 8 (or -1, 0), not 2.5" \
            "hpss|--kernel 5000|--kernel wants a whole number from 1 to 4095, not 5000" \
            "nmf|--sources 0|--sources wants a whole number from 1 to 256, not 0" \
            "nmf|--sources 200|--sources 200 makes 1600 components (8 per source), above nmf's 1024: give --rank" \
            "nmf|--sources 4 --rank 3|--sources 4 wants at least 4 components, not --rank 3" \
            "repet|--n-fft 3|--n-fft wants a whole number from 16 to 65536 (or 0), not 3" \
            "rpca|--power 0|--power wants a number from 0.01 to 100, not 0" \
            "beats|--max-bpm 2000|--max-bpm wants a number from 1 to 1000, not 2000" \
            "beats|--harmony 5000|--harmony wants a number from 0 to 1000 (or -1), not 5000"; do
    command=${case%%|*} rest=${case#*|}
    option=${rest%%|*} message=${rest#*|}
    rm -rf "$dir/range" "$dir/range-cache" # a case that failed is not every later one's failure
    # shellcheck disable=SC2086 # option and value are two words
    run env STRATA_CACHE_DIR="$dir/range-cache" timeout 60 "$STRATA" "$command" "$dir/clip.wav" -o "$dir/range" $option
    ok "strata $command $option: exit 2, one line naming the option, nothing done" \
        "$(yes_if test "$status" = 2 -a "$out" = "strata $command: $message (see strata $command --help)" -a ! -e "$dir/range" -a ! -e "$dir/range-cache")" \
        "exit $status: $out"
done
# nmf --hop 0 is stft's "a quarter of the frame", for the activation smoothing too (it divided by 0:
# "nmf_group: parameter smooth = inf is not a finite number")
run "$STRATA" --quiet nmf "$dir/clip.wav" -o "$dir/nmf-hop0" --hop 0 --iterations 5
ok "strata nmf --hop 0 runs" "$(yes_if test "$status" = 0 -a -s "$dir/nmf-hop0/source_1.wav")" "exit $status: $out"

# many arguments (a batch: strata hpss *.wav on a folder of songs) go on the Lua stack as the
# patch's `...`: 300 of them reach the patch (41 or more overflowed the stack: SIGSEGV), and a
# batch of 60 inputs whose last is missing is one line and exit 1
run timeout 60 "$STRATA" run /dev/stdin $(seq 1 300) <<'EOF2'
print(select("#", ...), arg[300])
EOF2
ok "strata run with 300 arguments: the patch sees them all" \
    "$(yes_if test "$status" = 0 -a "$out" = "300	300")" "exit $status: $out"
mkdir -p "$dir/many"
for i in $(seq 1 60); do ln -s ../clip.wav "$dir/many/s$i.wav"; done
run timeout 120 "$STRATA" hpss "$dir"/many/*.wav "$dir/missing.wav" -o "$dir/many-out"
ok "strata hpss with 61 inputs, the last missing: one line, exit 1, nothing made" \
    "$(yes_if test "$status" = 1 -a "$(printf '%s\n' "$out" | wc -l)" = 1 -a ! -e "$dir/many-out")" \
    "exit $status: $out"
# stft's "hop 0: a quarter of the frame" is the node's rule alone (st_stft_hop): the patches read
# the hop stft used from the spectrum's facts, they do not restate the rule
restated=$(grep -n "n_fft *// *4" patches/*.lua patches/methods/*.lua)
ok "no patch restates stft's hop rule (hop 0 = n_fft / 4)" "$(yes_if test -z "$restated")" "$restated"
printf 'require("strata").testsong { tempo = 120, bars = 4, seed = 5 }.mixture:save("%s")\n' "$dir/song4.wav" > "$dir/mk4.lua"
"$STRATA" --quiet run "$dir/mk4.lua"
run "$STRATA" --quiet repet "$dir/song4.wav" -o "$dir/repet-hop0" --hop 0 --n-fft 1024
ok "strata repet --hop 0 --n-fft 1024 says stft's hop, 256" \
    "$(yes_if test "$status" = 0 -a -n "$(echo "$out" | grep "frames of 256 samples)$")")" "exit $status: $out"
