# Shared by the tests/cli suites (sourced, not run): a temporary folder
# removed on exit, its own cache, and the three helpers every check uses.
: "${STRATA:=./strata}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export STRATA_CACHE_DIR="${STRATA_CACHE_DIR:-$dir/cache}"

# ok NAME yes|no DETAIL: one result line
ok() { if [ "$2" = yes ]; then echo "ok $1"; else echo "FAIL $1: $3"; fi; }
yes_if() { if "$@"; then echo yes; else echo no; fi; }
# run CMD...: sets out (stdout and stderr) and status
run() { out=$("$@" 2>&1); status=$?; }
