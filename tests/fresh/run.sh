#!/bin/sh
# tests/fresh/run.sh: the README's two commands on a fresh machine, the way a
# newcomer meets them (run by `make check-fresh`, never by `make test`).
#
# Builds a minimal Debian 12 root (mmdebstrap --variant=minbase, plus `make`,
# which the README assumes; empty package lists, as in a fresh image), clones
# this repository's committed HEAD into it with ../shared beside the clone
# when the host has it, and then:
#   1. as a normal user, before anything is installed: `make demo` must stop
#      with one line naming the missing packages (and compile nothing);
#   2. as root: `make demo`, then `make test`, must pass the first time;
#   3. as the normal user, in a clone of their own, everything now installed:
#      `make demo`, then `make test`, must pass and not ask for root.
# Needs root (chroot, mounts) and mmdebstrap or debootstrap on the host.
# Each step is bounded in time; the root is unmounted and removed on every
# path (FRESH_KEEP=1 keeps it for a look). Logs go to $FRESH_OUT
# (default tests/out/fresh). Takes 10 to 30 minutes: packages are
# downloaded and everything is built twice.
set -u
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD
out=${FRESH_OUT:-$repo/tests/out/fresh}
suite=${FRESH_SUITE:-bookworm}
step_limit=${FRESH_STEP_SECONDS:-3600}
mkdir -p "$out"

if [ "$(id -u)" != 0 ]; then
    echo "FAIL fresh: needs root (it builds a Debian root and chroots into it)"
    exit 1
fi
if command -v mmdebstrap > /dev/null; then
    maker=mmdebstrap
elif command -v debootstrap > /dev/null; then
    maker=debootstrap
else
    echo "FAIL fresh: needs mmdebstrap or debootstrap (apt-get install mmdebstrap)"
    exit 1
fi

root=$(mktemp -d /var/tmp/strata-fresh.XXXXXX)
mounted=
cleanup() {
    for m in $mounted; do umount -l "$m" 2> /dev/null; done
    if [ "${FRESH_KEEP:-0}" = 1 ]; then
        echo "kept the root in $root"
    else
        rm -rf --one-file-system "$root"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mount_in() { # TYPE-OR-BIND SOURCE TARGET [OPTIONS]
    mkdir -p "$root$3"
    if [ "$1" = bind ]; then
        mount --bind "$2" "$root$3" || return 1
        [ -n "${4:-}" ] && mount -o remount,bind,"$4" "$root$3"
    else
        mount -t "$1" ${4:+-o "$4"} "$2" "$root$3" || return 1
    fi
    mounted="$root$3 $mounted" # unmounted in reverse order
}

failed=0
report() { # STATUS NAME LOG: ok or FAIL with the end of the log
    if [ "$1" = 0 ]; then
        echo "ok $2"
    else
        echo "FAIL $2 (status $1; $3):"
        tail -5 "$3" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}

in_root() { # USER LOG COMMAND: a login-like shell in the root, bounded in time
    user=$1 log=$2
    shift 2
    if [ "$user" = root ]; then home=/root; else home=/home/$user; fi
    timeout -k 10 "$step_limit" chroot --userspec="$user:$user" "$root" \
        env -i HOME="$home" USER="$user" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
        LANG=C.UTF-8 sh -c "cd $home && $*" > "$log" 2>&1
}

echo "building a minimal $suite root with $maker in $root"
if [ "$maker" = mmdebstrap ]; then
    nice mmdebstrap --variant=minbase --include=make "$suite" "$root" > "$out/root.log" 2>&1
else
    nice debootstrap --variant=minbase --include=make "$suite" "$root" > "$out/root.log" 2>&1
fi
status=$?
report "$status" "a minimal $suite root with make" "$out/root.log"
[ "$status" = 0 ] || exit 1
# a fresh image has no package lists: `make demo` must fetch them itself
rm -rf "$root"/var/lib/apt/lists/*
mkdir -p "$root/var/lib/apt/lists/partial"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2> /dev/null
# the root's own /dev/shm: its JACK servers never meet the host's (and the
# host's /dev is not bound in, so nothing mounted here reaches the host)
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    name=${d%%:*} nums=${d#*:}
    [ -e "$root/dev/$name" ] || mknod -m 666 "$root/dev/$name" c "${nums%:*}" "${nums#*:}"
done
mount_in proc proc /proc && mount_in tmpfs tmpfs /dev/shm && mount_in sysfs sysfs /sys ||
    { echo "FAIL fresh: cannot mount /proc, /dev/shm, /sys in the root"; exit 1; }
# pseudo-terminals, as on any machine (the progress tests draw on one): a
# devpts of the root's own (a new instance since Linux 4.7), not the host's
mount_in devpts devpts /dev/pts ptmxmode=0666,mode=0620 && { [ -e "$root/dev/ptmx" ] || ln -s pts/ptmx "$root/dev/ptmx"; }
chroot "$root" useradd --create-home --shell /bin/sh newcomer || exit 1

# the host's shared folder (the corpus is its corpus/): $FRESH_SHARED, else
# the folder holding $STRATA_CORPUS, else ../shared beside the repository
shared=${FRESH_SHARED:-}
[ -z "$shared" ] && [ -n "${STRATA_CORPUS:-}" ] && shared=$(dirname "$STRATA_CORPUS")
[ -z "$shared" ] && shared=$repo/../shared
clone() { # HOME-IN-ROOT OWNER: the committed HEAD, with ../shared beside it
    git clone -q --no-hardlinks "$repo" "$root$1/strata" || return 1
    if [ -d "$shared" ]; then
        mount_in bind "$(cd "$shared" && pwd)" "$1/shared" ro || return 1
    fi
    chroot "$root" chown -R "$2:$2" "$1/strata"
}
clone /root root && clone /home/newcomer newcomer || { echo "FAIL fresh: cannot clone $repo"; exit 1; }
echo "cloned $(git -C "$repo" log -1 --format='%h %s' | cut -c1-70)"

# 1. a user on the untouched root: one clear line, nothing compiled
in_root newcomer "$out/user-before.log" "cd strata && nice make demo"
status=$?
if [ "$status" != 0 ] && grep -q "missing Debian packages:.*libsndfile1-dev" "$out/user-before.log" &&
    ! grep -q "CC\|undefined reference" "$out/user-before.log"; then
    echo "ok user before install: make demo names the missing packages and stops"
else
    report 1 "user before install: make demo should name the missing packages and stop" "$out/user-before.log"
fi

# 2. root: the README's two commands
in_root root "$out/root-demo.log" "cd strata && nice make demo"
report $? "root: make demo (first time)" "$out/root-demo.log"
in_root root "$out/root-test.log" "cd strata && nice make test"
report $? "root: make test: $(tail -1 "$out/root-test.log")" "$out/root-test.log"

# 3. the user again, everything installed
in_root newcomer "$out/user-demo.log" "cd strata && nice make demo"
report $? "user: make demo" "$out/user-demo.log"
if grep -q "missing\|as root\|sudo" "$out/user-demo.log"; then
    report 1 "user: make demo asks for nothing when all is installed" "$out/user-demo.log"
fi
in_root newcomer "$out/user-test.log" "cd strata && nice make test"
report $? "user: make test: $(tail -1 "$out/user-test.log")" "$out/user-test.log"

echo "fresh: $failed failed (logs in $out)"
[ "$failed" = 0 ]
