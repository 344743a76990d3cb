#!/bin/sh
# nmf's progress bar carries the divergence (the bar is drawn only on a
# terminal: the run happens under script(1), which gives it one).
: "${STRATA:=./strata}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ok() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1: $3"; fi; }

if ! command -v script > /dev/null; then
    echo "skip nmf progress bar: script(1) (util-linux) is not installed"
    exit 0
fi
cat > "$dir/fit.lua" <<EOF2
local strata = require "strata"
local V = strata.testsong { bars = 1 }.mixture:stft { n_fft = 512, hop = 256 }:magnitude()
print(V:nmf { rank = 4, iterations = 30, tol = 0 }.divergence:samples()[1])
EOF2
# a fresh cache, so the fit runs (and draws) instead of being read back
STRATA_CACHE_DIR="$dir/cache" timeout 60 script -qec "'$STRATA' run '$dir/fit.lua'" /dev/null \
    > "$dir/out" 2>&1
status=$?
grep -a 'nmf .*divergence [0-9]' "$dir/out" > /dev/null
ok "nmf's progress bar shows the divergence" $? "status $status, output: $(tr '\r' '\n' < "$dir/out" | head -5)"
