#!/bin/sh
# strata render: block-size independence, equality with the offline graph,
# latency compensation, and its errors.
: "${STRATA:=./strata}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ok() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1: $3"; fi; }

"$STRATA" run /dev/stdin <<EOF2
local strata = require "strata"
strata.signal { kind = "noise", seconds = 3, channels = 2, amplitude = 0.3 }:save("$dir/src.wav")
EOF2

for block in 64 100 1024; do
    "$STRATA" --quiet render examples/play-file.lua "$dir/src.wav" -o "$dir/b$block.wav" --seconds 3.5 --block "$block"
done
cmp -s "$dir/b64.wav" "$dir/b100.wav" && cmp -s "$dir/b64.wav" "$dir/b1024.wav"
ok "render blocks 64, 100 and 1024 give identical files" $? "files differ: $(cmp "$dir/b64.wav" "$dir/b100.wav"; cmp "$dir/b64.wav" "$dir/b1024.wav")"

cat > "$dir/check.lua" <<EOF2
local strata = require "strata"
local src = strata.load("$dir/src.wav")
local offline = src:stft { n_fft = 2048, hop = 512 }:istft()
local streamed = strata.load("$dir/b100.wav"):slice { start = 2047 / 44100, duration = 2.9 }
local d = (streamed - offline:slice { duration = 2.9 }):eval().peak
print(d == 0 and "ok streamed stft/istft equals the offline graph" or ("FAIL streamed equals offline: max difference " .. d))
EOF2
"$STRATA" run "$dir/check.lua" || echo "FAIL check.lua did not run"

# a + istft(stft(a)) stays aligned: the sum is 2a, late by n_fft - 1
cat > "$dir/align.lua" <<'EOF2'
local strata = require "strata"
local a = strata.load(arg[1]):play()
local sum = a + a:stft { n_fft = 1024, hop = 256 }:istft()
sum:jack_out()
EOF2
"$STRATA" --quiet render "$dir/align.lua" "$dir/src.wav" -o "$dir/align.wav" --seconds 2 --block 100
cat > "$dir/check2.lua" <<EOF2
local strata = require "strata"
local twice = strata.load("$dir/src.wav"):slice { duration = 1.5 } * 2
local got = strata.load("$dir/align.wav"):slice { start = 1023 / 44100, duration = 1.5 }
local d = (got - twice):eval().peak
print(d < 1e-5 and "ok latency compensation keeps a + istft(stft(a)) aligned" or ("FAIL alignment: max difference " .. d))
EOF2
"$STRATA" run "$dir/check2.lua" || echo "FAIL check2.lua did not run"

# a - b streams too (mix with subtract): a - a / 2 is a / 2 to the bit
printf 'local strata = require "strata"\nlocal a = strata.load(arg[1]):play()\nlocal d = a - a * 0.5\nd:jack_out()\n' > "$dir/sub.lua"
"$STRATA" --quiet render "$dir/sub.lua" "$dir/src.wav" -o "$dir/sub.wav" --seconds 2 --block 100
cat > "$dir/check3.lua" <<EOF2
local strata = require "strata"
local half = strata.load("$dir/src.wav"):slice { duration = 2 } * 0.5
local d = (strata.load("$dir/sub.wav") - half):eval().peak
print(d == 0 and "ok streamed a - b equals the offline difference" or ("FAIL streamed a - b: max difference " .. d))
EOF2
"$STRATA" run "$dir/check3.lua" || echo "FAIL check3.lua did not run"

# looping play and a live input that hears silence in a render
cat > "$dir/loop.lua" <<'EOF2'
local strata = require "strata"
local a = strata.signal { kind = "sine", seconds = 0.5, freq = 441 }:play { loop = true }
local both = a + strata.jack_in { channels = 1 }
both:jack_out()
EOF2
"$STRATA" --quiet render "$dir/loop.lua" -o "$dir/loop.wav" --seconds 2
cat > "$dir/check3.lua" <<EOF2
local strata = require "strata"
local f = strata.load("$dir/loop.wav")
local info = f:eval()
local late = f:slice { start = 1.5, duration = 0.4 }:eval().peak
print((info.rate == 44100 and info.frames == 88200 and late > 0.49) and "ok play loops; jack_in renders as silence"
  or ("FAIL loop: " .. info.description .. " late peak " .. late))
EOF2
"$STRATA" run "$dir/check3.lua" || echo "FAIL check3.lua did not run"

# errors: a node with no streaming form, no output, bad options
printf 'local strata = require "strata"\nlocal a = strata.signal{}:play()\n\nlocal s = a:slice{ start = 0.1 }\ns:jack_out()\n' > "$dir/slice.lua"
out=$("$STRATA" render "$dir/slice.lua" -o "$dir/x.wav" --seconds 1 2>&1)
case "$out" in *"slice.lua:4: slice: cannot run in a stream: it has no streaming form"*) ok "a node without a streaming form names its line" 0 ;;
    *) ok "a node without a streaming form names its line" 1 "$out" ;; esac
printf 'local strata = require "strata"\nstrata.signal{}:play()\n' > "$dir/noout.lua"
out=$("$STRATA" render "$dir/noout.lua" -o "$dir/x.wav" --seconds 1 2>&1)
case "$out" in *"the patch has no output"*) ok "render of a patch with no output" 0 ;; *) ok "render of a patch with no output" 1 "$out" ;; esac
# without --seconds: the whole input, then the latency's worth (the last
# input sample comes out whole), and equal to a render told that length
"$STRATA" --quiet render examples/play-file.lua "$dir/src.wav" -o "$dir/whole.wav"
"$STRATA" --quiet render examples/play-file.lua "$dir/src.wav" -o "$dir/told.wav" --seconds "$(awk "BEGIN { printf \"%.9f\", 3 + 2047 / 44100 }")"
frames=$("$STRATA" run /dev/stdin "$dir/whole.wav" <<'EOF2'
print(require("strata").load(arg[1]):eval().frames)
EOF2
)
[ "$frames" = $((3 * 44100 + 2047)) ] && cmp -s "$dir/whole.wav" "$dir/told.wav"
ok "render without --seconds renders the whole input and the latency" $? "$frames frames; $(cmp "$dir/whole.wav" "$dir/told.wav" 2>&1)"
printf 'local strata = require "strata"\nstrata.load(arg[1]):play { loop = true }:jack_out()\n' > "$dir/loop.lua"
out=$("$STRATA" render "$dir/loop.lua" "$dir/src.wav" -o "$dir/x.wav" 2>&1)
status=$?
case "$status $out" in "2 "*"plays without end"*"--seconds"*) ok "render of a loop without --seconds asks for it" 0 ;;
    *) ok "render of a loop without --seconds asks for it" 1 "exit $status: $out" ;; esac
printf 'local strata = require "strata"\nstrata.signal{}:jack_out()\n' > "$dir/offline.lua"
out=$("$STRATA" render "$dir/offline.lua" -o "$dir/x.wav" --seconds 1 2>&1)
case "$out" in *"jack_out: its input is an offline value; stream it with play()"*) ok "an offline value into jack_out" 0 ;; *) ok "an offline value into jack_out" 1 "$out" ;; esac
printf 'local strata = require "strata"\nlocal x = strata.signal{}:jack_out()\nx:eval()\n' > "$dir/eval.lua"
out=$("$STRATA" run "$dir/eval.lua" 2>&1)
case "$out" in *"eval.lua:2: jack_out: works only in a stream"*) ok "evaluating a stream node offline" 0 ;; *) ok "evaluating a stream node offline" 1 "$out" ;; esac
[ ! -e "$dir/x.wav" ]
ok "failed renders write nothing" $? "x.wav exists"

# streaming HPSS with the offline window (lookahead = half the kernel) equals offline HPSS
# once the first n_fft samples are past (the streamed ISTFT sees the lookahead's empty frames
# before the first one and normalises the very start differently)
"$STRATA" run /dev/stdin <<EOF2
local strata = require "strata"
strata.testsong { bars = 3 }.mixture:save("$dir/song.wav")
EOF2
"$STRATA" --quiet render examples/play-hpss.lua "$dir/song.wav" -o "$dir/hpss.wav" --seconds 6 --block 128
cat > "$dir/check4.lua" <<EOF2
local strata = require "strata"
local off = strata.load("$dir/song.wav"):stft { n_fft = 2048, hop = 512 }:hpss()
local latency = (2047 + 15 * 512) / 44100
local worst = 0
for c, part in ipairs { off.harmonic, off.percussive } do
  local streamed = strata.load { path = "$dir/hpss.wav", channels = tostring(c) }:slice { start = latency + 0.1, duration = 5 }
  worst = math.max(worst, (streamed - part:istft():slice { start = 0.1, duration = 5 }):eval().peak)
end
print(worst < 1e-6 and "ok streaming hpss equals offline hpss" or ("FAIL streaming hpss equals offline: " .. worst))
EOF2
"$STRATA" run "$dir/check4.lua" || echo "FAIL check4.lua did not run"

# several jack_out: -o FILE holds every channel in the patch's order; -o DIR/ one file per
# output named after it (its channels, the same samples), made with the folder; two outputs
# with one name are refused before anything is written
cat > "$dir/two.lua" <<'EOF'
local strata = require "strata"
local a = strata.load(arg[1]):play()
a:jack_out { name = "dry" }
local half = (a * 0.5):mono()
half:jack_out { name = "half" }
EOF
"$STRATA" --quiet render "$dir/two.lua" "$dir/src.wav" -o "$dir/all.wav"
"$STRATA" --quiet render "$dir/two.lua" "$dir/src.wav" -o "$dir/split/new/" --format flac --subtype PCM_24
status=$?
cat > "$dir/check5.lua" <<EOF
local strata = require "strata"
local all = strata.load("$dir/all.wav")
local dry, half = strata.load("$dir/split/new/dry.flac"), strata.load("$dir/split/new/half.flac")
local d1 = (dry - strata.load { path = "$dir/all.wav", channels = "1,2" }):eval().peak
local d2 = (half - strata.load { path = "$dir/all.wav", channels = "3" }):eval().peak
local ok = all:eval().channels == 3 and dry:eval().channels == 2 and half:eval().channels == 1
  and d1 < 1e-6 and d2 < 1e-6 and half:eval().peak > 0.1
print(ok and "ok render -o DIR/ writes one file per jack_out, named after it, equal to -o FILE's channels"
  or string.format("FAIL render -o DIR/: channels %d/%d/%d, differences %g %g", all:eval().channels,
    dry:eval().channels, half:eval().channels, d1, d2))
EOF
[ "$status" = 0 ] && "$STRATA" run "$dir/check5.lua" || ok "render -o DIR/ exits 0" 1 "exit $status"
sed 's/"half"/"dry"/' "$dir/two.lua" > "$dir/same.lua"
out=$("$STRATA" render "$dir/same.lua" "$dir/src.wav" -o "$dir/same/" 2>&1)
status=$?
case "$status $out" in "1 "*"outputs 1 and 2 are both named 'dry'"*) [ ! -e "$dir/same/dry.wav" ]
    ok "render -o DIR/ refuses two outputs with one name" $? "dry.wav written" ;;
    *) ok "render -o DIR/ refuses two outputs with one name" 1 "exit $status: $out" ;; esac
sed 's|"half"|"../outside"|' "$dir/two.lua" > "$dir/escape.lua"
out=$("$STRATA" render "$dir/escape.lua" "$dir/src.wav" -o "$dir/esc/" 2>&1)
status=$?
case "$status $out" in "1 "*"output 2 is named '../outside', which cannot be a file name"*) [ ! -e "$dir/outside.wav" ]
    ok "render -o DIR/ refuses an output name with '/'" $? "outside.wav written beside DIR" ;;
    *) ok "render -o DIR/ refuses an output name with '/'" 1 "exit $status: $out" ;; esac
out=$("$STRATA" render "$dir/two.lua" "$dir/src.wav" -o "$dir/x.wav" --format flac 2>&1)
case "$?:$out" in "2:"*"--format goes with -o DIR"*) ok "render --format with -o FILE is a bad command line" 0 ;;
    *) ok "render --format with -o FILE is a bad command line" 1 "$out" ;; esac
out=$("$STRATA" render "$dir/two.lua" "$dir/src.wav" -o "$dir/split/" --format flac --subtype FLOAT 2>&1)
case "$?:$out" in "2:"*"--subtype FLOAT does not go with --format flac"*) ok "render --subtype the format cannot hold" 0 ;;
    *) ok "render --subtype the format cannot hold" 1 "$out" ;; esac

# -o DIR/: "wrote" is said once every file is in place; when the second cannot be written
# (a read-only file of that name), the first is not said, not kept, and the old file stays
mkdir -p "$dir/ro-split"
printf 'old' > "$dir/ro-split/half.wav"
chmod 444 "$dir/ro-split/half.wav"
out=$("$STRATA" render "$dir/two.lua" "$dir/src.wav" -o "$dir/ro-split/" 2>&1)
status=$?
[ "$status" = 1 ] && [ "$out" = "strata render: refusing to replace '$dir/ro-split/half.wav': it is read-only (mode 0444); --force replaces it" ] &&
    [ ! -e "$dir/ro-split/dry.wav" ] && [ "$(cat "$dir/ro-split/half.wav")" = old ]
ok "render -o DIR/ with an output that cannot be written: no wrote line, nothing kept" $? "exit $status: $out; $(ls "$dir/ro-split")"
out=$("$STRATA" render "$dir/two.lua" "$dir/src.wav" -o "$dir/said/" 2>&1)
[ "$out" = "strata: wrote $dir/said/dry.wav (2 channels)
strata: wrote $dir/said/half.wav (1 channel)" ] && [ -s "$dir/said/dry.wav" ] && [ -s "$dir/said/half.wav" ]
ok "render -o DIR/ says wrote for each file once they are in place" $? "$out"
