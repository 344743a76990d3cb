#!/bin/sh
# make install into a staging folder (DESTDIR): the installed strata finds its
# ready patches and their methods without the source tree, the docs the man
# page names are there, strata.so loads in a stock lua5.4, and make uninstall
# removes it all. Runs the plain build's install only (the sanitizer build
# installs nothing of its own).
: "${STRATA:=./strata}"
case "$STRATA" in *build-san*)
    echo "skip install: checked with the plain build (make test)"
    exit 0 ;;
esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ok() { if [ "$2" = yes ]; then echo "ok $1"; else echo "FAIL $1: $3"; fi; }
yes_if() { if "$@"; then echo yes; else echo no; fi; }

# a make of its own, not the one running the tests (its MAKEFLAGS)
if ! env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s install DESTDIR="$dir" > "$dir/install.log" 2>&1; then
    echo "FAIL make install DESTDIR=...: $(tail -3 "$dir/install.log")"
    exit 0
fi
prefix=$dir/usr/local
bin=$prefix/bin/strata
# nothing of the source tree: no STRATA_PATCHES, run from elsewhere
out=$(cd "$dir" && env -u STRATA_PATCHES "$bin" compare --help 2>&1)
ok "the installed compare finds its methods" "$(yes_if test -n "$(echo "$out" | grep 'Methods: .*hpss')")" "$out"
out=$(cd "$dir" && env -u STRATA_PATCHES "$bin" patches 2>&1)
ok "the installed strata lists its ready patches" \
    "$(yes_if test -n "$(echo "$out" | grep "ready patches in $prefix/bin/../share/strata/patches")" -a -n "$(echo "$out" | grep '^  hpss ')")" "$out"
see_also=$(sed -n '/^.SH SEE ALSO/,$p' "$prefix/share/man/man1/strata.1")
ok "the man page's SEE ALSO names the installed docs, which are there" \
    "$(yes_if test -n "$(echo "$see_also" | grep '/usr/local/share/doc/strata')" -a -s "$prefix/share/doc/strata/manual.md" -a -s "$prefix/share/doc/strata/nodes.md")" "$see_also"
if command -v lua5.4 > /dev/null; then
    out=$(cd "$dir" && lua5.4 -e "package.cpath = '$prefix/lib/lua/5.4/?.so'
        local strata = require 'strata'
        print(strata.signal { seconds = 0.1 }:eval().frames)" 2>&1)
    ok "the installed strata.so loads in lua5.4" "$(yes_if test "$out" = 4410)" "$out"
    # with PREFIX=/usr it lands where Debian's lua5.4 looks by default
    ok "PREFIX=/usr puts strata.so on lua5.4's default cpath" \
        "$(yes_if test -n "$(lua5.4 -e 'print(package.cpath)' | tr ';' '\n' | grep -x '/usr/lib/lua/5.4/?.so')")" \
        "$(lua5.4 -e 'print(package.cpath)')"
fi
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s uninstall DESTDIR="$dir" > /dev/null 2>&1
left=$(find "$dir/usr" -type f 2> /dev/null)
ok "make uninstall removes every installed file" "$(yes_if test -z "$left")" "$left"
