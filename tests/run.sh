#!/bin/sh
# Runs every test and ends with "N passed, N failed".
#   STRATA  the strata binary      UNIT  the C unit-test binary
# Each suite prints "ok NAME" or "FAIL NAME: why" per test; a suite that
# dies without saying why counts as one failure.
cd "$(dirname "$0")/.." || exit 1
STRATA=${STRATA:-$PWD/strata}
UNIT=${UNIT:-$PWD/build/unit-tests}
export STRATA JACK_CAPTURE
OUT=tests/out
rm -rf "$OUT" && mkdir -p "$OUT"
# tests never touch the user's cache
export STRATA_CACHE_DIR="$PWD/$OUT/cache"
# the patches of this tree, whichever build is tested
export STRATA_PATCHES="$PWD/patches"
log="$OUT/all.log"
: > "$log"

# A watchdog bounds every suite: one that runs longer is killed with all it
# started (timeout signals its whole process group) and counts as a failure.
SUITE_SECONDS=${SUITE_SECONDS:-600}
suite() { # NAME COMMAND...
    name=$1; shift
    before=$(grep -c '' "$log")
    timeout -k 10 "$SUITE_SECONDS" "$@" > "$OUT/$name.log" 2>&1 < /dev/null
    status=$?
    grep -E '^(ok|FAIL|skip) ' "$OUT/$name.log" >> "$log"
    grep -E '^(FAIL|skip) ' "$OUT/$name.log"
    after=$(grep -c '' "$log")
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "FAIL $name: still running after $SUITE_SECONDS s, killed; see $OUT/$name.log" | tee -a "$log"
    elif [ "$status" -ne 0 ] && ! grep -q '^FAIL ' "$OUT/$name.log"; then
        echo "FAIL $name: exited with status $status; see $OUT/$name.log" | tee -a "$log"
    elif [ "$after" -eq "$before" ]; then
        echo "FAIL $name: ran no test; see $OUT/$name.log" | tee -a "$log"
    fi
}

suite unit "$UNIT"
if [ -n "${RT:-}" ]; then
    suite rt "$RT"
else
    echo "skip rt: the allocation-counting test does not run under the sanitizers" | tee -a "$log"
fi
for t in tests/patch/test_*.lua; do
    suite "$(basename "$t" .lua)" "$STRATA" --quiet run "$t"
done
for t in tests/cli/test_*.sh tests/jack/test_*.sh; do
    suite "$(basename "$t" .sh)" sh "$t"
done

passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^skip ' "$log")
# the last line says what did not run and why (the reasons, counted)
why=$(sed -n 's/^skip [^:]*: //p' "$log" | sort | uniq -c | sort -rn |
    awk '{ n = $1; sub(/^ *[0-9]+ /, ""); printf "%s%s%s", sep, $0, (n > 1 ? " (" n " tests)" : ""); sep = "; " }')
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped: $why"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
