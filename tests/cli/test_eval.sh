#!/bin/sh
# strata eval, beat-eval and compare: output shape, scale-invariant scores,
# and the bad inputs of issue 4.
: "${STRATA:=./strata}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ok() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1: $3"; fi; }
has() { case "$1" in *"$2"*) return 0 ;; esac; return 1; }

"$STRATA" run /dev/stdin <<EOF2
local strata = require "strata"
local song = strata.testsong { bars = 4, tempo = 120 }
song.drums:save("$dir/drums.wav")
song.bass:save("$dir/bass.wav")
song.mixture:save("$dir/mix.wav")
local twice, leaky = song.drums * 2, song.bass + song.drums * 0.1
twice:save("$dir/drums2.wav")
leaky:save("$dir/bass_leaky.wav")
song.drums:slice { duration = 2 }:save("$dir/short.wav")
song.drums:gain { factor = 0 }:save("$dir/silent.wav")
local f = io.open("$dir/ref.txt", "w")
for i, t in ipairs(song.beats:samples()) do f:write(string.format("%.6f %d\n", t, (i - 1) % 4 + 1)) end
f:close()
EOF2

out=$("$STRATA" eval --ref "$dir/drums.wav" "$dir/bass.wav" --est "$dir/bass_leaky.wav" "$dir/drums2.wav" --json)
has "$out" '"permutation": [1, 0]'
ok "eval finds the permutation" $? "$out"
cat > "$dir/check.lua" <<EOF2
package.path = "tests/patch/?.lua;" .. package.path
local json = require "json"
local r = json.decode(arg[1])
local d = r.sources[1]
-- an estimate that is the reference times 2 has no residual: SI-SDR and SIR are infinite,
-- which JSON writes as null
local function huge(x) return x == strata.json_null or x > 60 end
local ok = math.abs(d.sd_sdr - 6.0206) < 1e-3 and huge(d.si_sdr) and huge(d.sir) and r.sources[2].sdr > 15
  and r.sources[2].sdr < 25 and r.framewise ~= nil
print(ok and "ok eval JSON: SD-SDR of 2s is 6.02 dB, SI-SDR is huge, leakage costs SDR" or ("FAIL eval JSON: " .. arg[1]))
EOF2
"$STRATA" run "$dir/check.lua" "$out" || echo "FAIL eval JSON: the check did not run"

out=$("$STRATA" eval --ref "$dir/drums.wav" --est "$dir/drums2.wav")
has "$out" "mean SDR"
ok "eval with a single source" $? "$out"
out=$("$STRATA" eval --ref "$dir/drums.wav" "$dir/bass.wav" --est "$dir/drums.wav" "$dir/bass.wav" --window 1 --hop 0.5 --json)
has "$out" '"window": 1'
ok "eval framewise JSON" $? "$out"

out=$("$STRATA" eval --ref "$dir/drums.wav" --est "$dir/short.wav" 2>&1); status=$?
[ "$status" -ne 0 ] && has "$out" "--trim cuts to the shortest"
ok "eval refuses different lengths" $? "$out"
out=$("$STRATA" eval --ref "$dir/drums.wav" --est "$dir/short.wav" --trim 2>&1)
has "$out" "mean SDR"
ok "eval --trim cuts to the shortest" $? "$out"
out=$("$STRATA" eval --ref "$dir/silent.wav" "$dir/bass.wav" --est "$dir/drums.wav" "$dir/bass.wav" 2>&1); status=$?
[ "$status" -ne 0 ] && has "$out" "reference source 1 is silent" && [ "$(echo "$out" | grep -c '')" -eq 1 ]
ok "eval refuses a silent reference in one line" $? "$out"
out=$("$STRATA" eval --ref "$dir/bass.wav" "$dir/bass.wav" --est "$dir/drums.wav" "$dir/bass.wav" 2>&1); status=$?
[ "$status" -ne 0 ] && has "$out" "reference source 2 repeats source 1" && [ "$(echo "$out" | grep -c '')" -eq 1 ]
ok "eval refuses a reference given twice in one line (no LAPACK noise)" $? "$out"
out=$("$STRATA" eval --ref "$dir/drums.wav" --est "$dir/drums.wav" "$dir/bass.wav" 2>&1); status=$?
[ "$status" -ne 0 ] && has "$out" "1 references but 2 estimates"
ok "eval refuses unequal counts" $? "$out"

out=$("$STRATA" beat-eval "$dir/ref.txt" "$dir/ref.txt" --json)
has "$out" '"f_measure": 1' && has "$out" '"downbeat_f_measure": 1'
ok "beat-eval of a file against itself" $? "$out"

out=$("$STRATA" compare "$dir/mix.wav" --ref "$dir/drums.wav" "$dir/bass.wav" --methods mixture,oracle-sum --json "$dir/c.json" --csv "$dir/c.csv")
has "$out" "oracle-sum" && [ -s "$dir/c.json" ] && [ "$(grep -c '' "$dir/c.csv")" -eq 5 ]
ok "compare runs methods and writes CSV and JSON" $? "$out"
out=$("$STRATA" compare "$dir/mix.wav" --ref "$dir/drums.wav" --methods nosuch 2>&1); status=$?
[ "$status" -ne 0 ] && has "$out" "no method called 'nosuch'"
ok "compare names an unknown method" $? "$out"

# a method that fails does not stop the others: its row says why (one line), the other
# methods are scored, the CSV and JSON are written with every row, and the exit is 1 with
# one line on stderr naming the failed methods. The methods of a copy of compare: two good,
# one whose node fails when it runs, one that raises.
mkdir -p "$dir/patches/methods"
cp "${STRATA_PATCHES:-patches}/compare.lua" "$dir/patches/"
cp "${STRATA_PATCHES:-patches}/methods/mixture.lua" "${STRATA_PATCHES:-patches}/methods/oracle-sum.lua" "$dir/patches/methods/"
printf 'return { separate = function(strata, mixture, refs)\n  return { strata.load { path = "%s/none.wav", channels = "mono" }, mixture }\nend }\n' "$dir" > "$dir/patches/methods/broken.lua"
printf 'return { separate = function() error("no model file for this method") end }\n' > "$dir/patches/methods/raises.lua"
STRATA_PATCHES="$dir/patches" "$STRATA" compare "$dir/mix.wav" --ref "$dir/drums.wav" "$dir/bass.wav" \
    --methods mixture,broken,raises,oracle-sum --csv "$dir/f.csv" --json "$dir/f.json" > "$dir/f.out" 2> "$dir/f.err"
status=$?
[ "$status" = 1 ] &&
    [ "$(cat "$dir/f.err")" = "strata compare: 2 of 4 methods failed (broken, raises); their rows say why" ] &&
    grep -q "^broken  *failed: load: cannot open '$dir/none.wav': No such file or directory$" "$dir/f.out" &&
    grep -q "^raises  *failed: no model file for this method$" "$dir/f.out" &&
    grep -q "^oracle-sum  *drums.wav " "$dir/f.out" && grep -q "^mixture  *drums.wav " "$dir/f.out" &&
    [ "$(grep -c '' "$dir/f.csv")" -eq 7 ] && grep -q '^raises,,,,,[0-9.]*,"no model file for this method"$' "$dir/f.csv" &&
    grep -q '"error": "no model file for this method"' "$dir/f.json" && grep -q '"method": "oracle-sum"' "$dir/f.json"
ok "compare: a failed method is its row, the others are scored, the files are kept, exit 1" $? \
    "exit $status; stderr: $(cat "$dir/f.err"); stdout: $(cat "$dir/f.out"); csv: $(cat "$dir/f.csv" 2> /dev/null)"
# references of another length than the mixture fail every method alike: said once, before any
"$STRATA" compare "$dir/mix.wav" --ref "$dir/drums.wav" "$dir/short.wav" --methods mixture,oracle-sum > "$dir/f.out" 2> "$dir/f.err"
status=$?
[ "$status" = 1 ] && [ ! -s "$dir/f.out" ] && has "$(cat "$dir/f.err")" "strata compare: reference 2 ('$dir/short.wav') has 88200 samples, the mixture 352800 (--trim cuts to the shortest)"
ok "compare: a reference of another length is one line before any method" $? "exit $status: $(cat "$dir/f.err" "$dir/f.out")"
# so do the references' own faults (bsseval's checks, run once on the references): one line
# naming the file, nothing on stdout (no method ran, no table)
"$STRATA" compare "$dir/mix.wav" --ref "$dir/drums.wav" "$dir/silent.wav" --methods mixture,oracle-sum > "$dir/f.out" 2> "$dir/f.err"
status=$?
[ "$status" = 1 ] && [ ! -s "$dir/f.out" ] && [ "$(cat "$dir/f.err")" = "strata compare: the references: bsseval: reference 2 ('$dir/silent.wav') is silent (all zeros), which makes the evaluation ambiguous" ]
ok "compare: a silent reference is one line before any method" $? "exit $status: $(cat "$dir/f.err" "$dir/f.out")"
"$STRATA" compare "$dir/mix.wav" --ref "$dir/bass.wav" "$dir/drums.wav" "$dir/bass.wav" --methods mixture,oracle-sum > "$dir/f.out" 2> "$dir/f.err"
status=$?
[ "$status" = 1 ] && [ ! -s "$dir/f.out" ] && [ "$(cat "$dir/f.err")" = "strata compare: the references: bsseval: reference 3 ('$dir/bass.wav') repeats reference 1 ('$dir/bass.wav'), which makes the evaluation ambiguous" ]
ok "compare: a repeated reference is one line before any method" $? "exit $status: $(cat "$dir/f.err" "$dir/f.out")"
# --csv/--json naming a file the command reads, or one file for both, are one line before any
# method; the input is unchanged and nothing is written
cp "$dir/mix.wav" "$dir/mix2.wav"
before=$(cksum < "$dir/mix2.wav")
"$STRATA" compare "$dir/mix2.wav" --ref "$dir/drums.wav" "$dir/bass.wav" --methods mixture,oracle-sum --csv "$dir/mix2.wav" > "$dir/f.out" 2> "$dir/f.err"
status=$?
[ "$status" = 1 ] && [ ! -s "$dir/f.out" ] && [ "$(cksum < "$dir/mix2.wav")" = "$before" ] &&
    [ "$(cat "$dir/f.err")" = "strata compare: refusing to overwrite '$dir/mix2.wav', an input of this patch (--csv)" ]
ok "compare --csv naming an input is one line before any method" $? "exit $status: $(cat "$dir/f.err" "$dir/f.out")"
"$STRATA" compare "$dir/mix.wav" --ref "$dir/drums.wav" "$dir/bass.wav" --methods mixture --json "$dir/drums.wav" > "$dir/f.out" 2> "$dir/f.err"
status=$?
[ "$status" = 1 ] && [ ! -s "$dir/f.out" ] && has "$(cat "$dir/f.err")" "an input of this patch (--json)"
ok "compare --json naming a reference is one line before any method" $? "exit $status: $(cat "$dir/f.err" "$dir/f.out")"
mkdir "$dir/sub"
"$STRATA" compare "$dir/mix.wav" --ref "$dir/drums.wav" "$dir/bass.wav" --methods mixture --csv "$dir/sub/r.txt" --json "$dir/sub/../sub//r.txt" > "$dir/f.out" 2> "$dir/f.err"
status=$?
[ "$status" = 1 ] && [ ! -s "$dir/f.out" ] && [ ! -e "$dir/sub/r.txt" ] &&
    [ "$(cat "$dir/f.err")" = "strata compare: --csv '$dir/sub/r.txt' and --json '$dir/sub/../sub//r.txt' are one file" ]
ok "compare: --csv and --json naming one file is one line before any method" $? "exit $status: $(cat "$dir/f.err" "$dir/f.out")"
