#!/bin/sh
# deps.sh [--check] DEB_PACKAGE...: make sure the Debian packages strata
# builds and tests with are installed.
#   Nothing missing: silent, exit 0.
#   Missing, as root (and not --check): apt-get install them, running
#     apt-get update first when the package lists are empty (a fresh image)
#     or when the lists are too old to know a package.
#   Missing otherwise: one line naming what is missing and how to install it,
#     exit 1.
# Without dpkg (not Debian) nothing can be checked by package name: it says
# so once and lets the build find out.
check_only=
if [ "${1:-}" = --check ]; then check_only=1; shift; fi

if ! command -v dpkg-query > /dev/null 2>&1; then
    echo "strata: not a Debian system; make sure these (or your system's equivalents) are installed: $*" >&2
    exit 0
fi

missing() { # the packages dpkg does not call "install ok installed"
    dpkg-query -W -f='${Package} ${Status}\n' "$@" 2> /dev/null |
        awk -v wanted="$*" '$NF == "installed" { have[$1] = 1 }
            END { n = split(wanted, p, " "); for (i = 1; i <= n; i++) if (!have[p[i]]) printf "%s ", p[i] }'
}

need=$(missing "$@")
need=${need% }
[ -z "$need" ] && exit 0

if [ -n "$check_only" ] || [ "$(id -u)" != 0 ]; then
    echo "strata: missing Debian packages: $need" >&2
    if [ "$(id -u)" = 0 ]; then
        echo "strata: install them with: make deps" >&2
    else
        echo "strata: install them as root: sudo apt-get install $need (or: sudo make deps)" >&2
    fi
    exit 1
fi

install() {
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
}
echo "strata: installing $need"
# a fresh image has no package lists: apt-get install would find no candidate
if ! ls /var/lib/apt/lists/*_Packages* > /dev/null 2>&1; then
    apt-get update || exit 1
    install || exit 1
elif ! install; then
    echo "strata: retrying after apt-get update"
    apt-get update && install || exit 1
fi
need=$(missing "$@")
need=${need% }
if [ -n "$need" ]; then
    echo "strata: still missing after apt-get install: $need" >&2
    exit 1
fi
