#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A domain move breaks the sharing of pages that are swapped out. Two
# guests hold the same 24 MiB in domain 1 and merge; reclaim pushes their
# memory to a swap device whose writes complete asynchronously (a loop
# device), which leaves KSM pages unmapped in the swap cache; one guest then
# moves to domain 2. When both guests read their memory back, no page may be
# shared between them, and every page verifies.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 10
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads (with kvmx_core)" kvmx_load_ksm_cmd

swapfile=/tmp/kvmx-swap.img
loopdev=
cg=/sys/fs/cgroup
swap_off() {
	[ -n "$loopdev" ] && { swapoff "$loopdev"; losetup -d "$loopdev"; }
	rm -f "$swapfile"
	loopdev=
}
trap swap_off EXIT
[ -e $cg/memory.reclaim ] || mount -t cgroup2 none $cg 2>/dev/null

merged_pair s1 s2 41
echo 0 >"$KSM/run"

modprobe loop 2>/dev/null
truncate -s 512M "$swapfile"
loopdev=$(losetup -f --show "$swapfile")
check "swap on a loop device" sh -c "mkswap $loopdev >/dev/null && swapon $loopdev"
swapped() { awk '/^VmSwap:/ { print int($2 / 1024) }' "/proc/$1/status"; }
# Proactive reclaim from the root: it stops short of its target when little
# is reclaimable, which is fine.
# A bounded try: reclaim through a loop device is slow under TCG.
timeout -s INT 90 sh -c "echo 128M >$cg/memory.reclaim" 2>/dev/null
diag "after reclaim: s1 swapped $(swapped "$p1") MiB, s2 $(swapped "$p2") MiB," \
	"swap cache $(awk '/^SwapCached:/ { print int($2 / 1024) }' /proc/meminfo) MiB," \
	"shared $(shared_pages "$p1" "$p2") pages"
check "reclaim swapped out guest memory" test "$(swapped "$p1")" -gt 8

sin0=$(hook_stat swapin_passes)
sin0=${sin0:-0}
echo 2 >"$v1/ksm_domain"
expect "moved away: nothing shared right after the move" \
	"$(cross_pages "$p1" "$p2")" 0
sin=$(($(hook_stat swapin_passes) - sin0))
check "the unmerge read the swapped pages back in first (swapin_passes +$sin, s1 swapped $(swapped "$p1") MiB now)" \
	test "$sin" -ge 1

# Both guests read everything back in, s2 first: a KSM page left in the
# swap cache is then mapped by s2 when s1 faults on it.
out2=$(fill_verify s2)
check "s2 memory verifies after swap-in ($out2)" test $? = 0
out1=$(fill_verify s1)
check "s1 memory verifies after swap-in ($out1)" test $? = 0
expect "after both read their memory back, nothing shared across domains" \
	"$(cross_pages "$p1" "$p2")" 0

guest stop s1
guest stop s2
swap_off
rmmod ksm_cmd
rmmod kvmx_core
ksm_unmerge_all
tap_done
