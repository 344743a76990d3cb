#!/bin/sh
# OpenBLAS's kernels (vm/blas_kernels.h): on a CPU its build does not know it
# falls back to SSE3 kernels, and strata restarts once with the AVX-512 or AVX2
# ones. The restart keeps the arguments, standard input and exit status; a
# user's OPENBLAS_CORETYPE is kept as it is.
: "${STRATA:=./strata}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/k.lua" <<'EOF2'
print(os.getenv("OPENBLAS_CORETYPE") or "unset", select("#", ...), io.read("l"))
os.exit(3)
EOF2
out=$(echo "from stdin" | env -u OPENBLAS_CORETYPE timeout 30 "$STRATA" run "$dir/k.lua" a "b c" 2>&1)
status=$?
kernels=${out%%	*}
case "$kernels" in unset | SkylakeX | Haswell) known=yes ;; *) known=no ;; esac
if [ "$status" = 3 ] && [ "$known" = yes ] && [ "${out#*	}" = "2	from stdin" ]; then
    echo "ok blas kernels: with OPENBLAS_CORETYPE unset the patch runs once, its arguments, input and exit status kept ($kernels)"
else
    echo "FAIL blas kernels: with OPENBLAS_CORETYPE unset: exit $status, '$out'"
fi
out=$(echo "x" | OPENBLAS_CORETYPE=Haswell timeout 30 "$STRATA" run "$dir/k.lua" 2>&1)
if [ "${out%%	*}" = Haswell ]; then
    echo "ok blas kernels: a user's OPENBLAS_CORETYPE is kept"
else
    echo "FAIL blas kernels: a user's OPENBLAS_CORETYPE is kept: '$out'"
fi
