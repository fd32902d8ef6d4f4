#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS package builds from the source tree: dkms add, then dkms build
# for the installed Debian 6.12 kernel. Runs on the build machine itself
# (it needs only the headers) under a version of its own, removed after.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
kver=$(cat "$build/kver")
ver=0.0.0.selftest
src=/usr/src/kvmx-$ver
log=$build/dkms.log
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@" >>"$log" 2>&1; then ok "$d"; else not_ok "$d"; fi; }

cleanup() {
	dkms remove -m kvmx -v $ver --all >/dev/null 2>&1
	rm -rf "$src"
}

: >"$log"
echo "TAP version 13"
echo "1..6"
cleanup
mkdir -p "$src"
# Exactly what is committed, plus uncommitted edits to tracked files.
(cd "$top" && git ls-files -z | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$src"
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$ver\"/" "$src/dkms.conf"
check "dkms add" dkms add -m kvmx -v $ver
check "dkms build -k $kver" dkms build -m kvmx -v $ver -k "$kver"
ko=$(find /var/lib/dkms/kvmx/$ver/"$kver" -name 'kvmx_core.ko*' 2>/dev/null | head -n 1)
check "kvmx_core.ko was built" test -n "$ko"
magic=$(modinfo -F vermagic "$ko" 2>/dev/null | awk '{ print $1 }')
check "its vermagic is $kver ($magic)" test "$magic" = "$kver"
check "dkms status shows it built" sh -c "dkms status -m kvmx -v $ver | grep -q built"
cleanup
check "dkms remove leaves nothing behind" test ! -e /var/lib/dkms/kvmx/$ver
[ $failed -ne 0 ] && tail -n 40 "$log" | sed 's/^/# /'
printf 'passed %d\nfailed %d\nskipped 0\n' $((n - failed)) $failed >"$build/results/dkms.txt"
echo "dkms: $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
