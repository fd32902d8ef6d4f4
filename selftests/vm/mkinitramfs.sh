#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the busybox initramfs shared by the test host VM and its guests:
#   mkinitramfs.sh KVER OUTPUT
# It holds a static busybox, the (decompressed) modules needed to mount the
# 9p root and the overlay, and selftests/vm/init.
set -eu

kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mods="netfs 9pnet 9pnet_virtio 9p overlay virtio_balloon"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp"/{bin,dev,proc,sys,lib/modules,lower,newroot,rw,host,tmp,run}
cp /bin/busybox "$tmp/bin/busybox"
for app in $("$tmp/bin/busybox" --list); do
	[ "$app" = busybox ] || ln -s busybox "$tmp/bin/$app"
done
ln -s bin "$tmp/sbin"

# Modules in dependency order, decompressed: busybox insmod reads plain .ko.
n=0
for m in $mods; do
	for path in $(modprobe -S "$kver" --show-depends "$m" |
		      awk '$1 == "insmod" { print $2 }'); do
		name=$(basename "$path")
		name=${name%.xz}
		name=${name%.zst}
		name=${name%.ko}
		ls "$tmp"/lib/modules/*-"$name".ko >/dev/null 2>&1 && continue
		n=$((n + 1))
		dst=$(printf '%s/lib/modules/%02d-%s.ko' "$tmp" "$n" "$name")
		case "$path" in
		*.xz) xz -dc "$path" >"$dst" ;;
		*.zst) zstd -qdc "$path" >"$dst" ;;
		*) cp "$path" "$dst" ;;
		esac
	done
done

install -m 0755 "$here/init" "$tmp/init"
mkdir -p "$(dirname "$out")"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
