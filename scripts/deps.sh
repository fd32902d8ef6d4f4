#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what kvmx's tests, demo and benchmarks need from Debian's archive,
# and only what is missing: a second run installs nothing.
#
# The test kernel is Debian's 6.12 (linux-image-6.12.*+deb12-amd64-unsigned)
# with its matching headers. If one is installed already it is used; otherwise
# the newest one in the archive is installed. The chosen version is written to
# build/kver, which the Makefile reads.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/build"

say() { printf 'deps: %s\n' "$*"; }

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# Newest installed 6.12 image that also has its headers.
installed_kver() {
	dpkg-query -W -f='${Package} ${Status}\n' 'linux-image-6.12.*+deb12-amd64-unsigned' 2>/dev/null |
		awk '/install ok installed$/ { sub(/^linux-image-/, "", $1); sub(/-unsigned$/, "", $1); print $1 }' |
		sort -V | while read -r v; do
			installed "linux-headers-$v" && echo "$v"
		done | tail -n 1
}

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return 0
	say "refreshing the package lists"
	apt-get update -qq
	apt_updated=1
}

pkgs="qemu-system-x86 busybox-static cpio kmod dkms sparse xz-utils
      python3 make gcc libc6-dev"

kver=$(installed_kver)
want=
if [ -z "$kver" ]; then
	apt_update
	kver=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
		awk '{ sub(/^linux-image-/, "", $1); sub(/-unsigned$/, "", $1); print $1 }' |
		sort -V | tail -n 1)
	if [ -z "$kver" ]; then
		echo "deps: no linux-image-6.12.*+deb12-amd64-unsigned in the archive" >&2
		exit 1
	fi
	want="linux-image-$kver-unsigned linux-headers-$kver"
fi

for p in $pkgs; do
	installed "$p" || want="$want $p"
done

if [ -n "$(echo $want)" ]; then
	apt_update
	say "installing:$(echo " $want")"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $want >"$top/build/apt.log" 2>&1 || {
		tail -n 30 "$top/build/apt.log" >&2
		exit 1
	}
else
	say "everything is installed"
fi

# The test host boots this kernel; it needs the image and module tree.
if [ ! -r "/boot/vmlinuz-$kver" ] || [ ! -d "/lib/modules/$kver/kernel" ] ||
   [ ! -d "/lib/modules/$kver/build" ]; then
	echo "deps: kernel $kver is incomplete (/boot or /lib/modules)" >&2
	exit 1
fi

echo "$kver" >"$top/build/kver.new"
if cmp -s "$top/build/kver.new" "$top/build/kver"; then
	rm -f "$top/build/kver.new"
else
	mv "$top/build/kver.new" "$top/build/kver"
fi
say "test kernel $kver"
