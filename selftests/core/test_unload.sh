#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rmmod kvmx_core while three attached guests run a memory workload: the
# unload is clean, the guests keep running with intact memory, and loading
# again with attach_existing=1 finds them all.
# kvmx-timeout: 400
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 12
kvmx_unload_all
check "kvmx_core loads" kvmx_load_core
check "test client loads" kvmx_load_test_client

pids=
for i in 1 2 3; do
	guest start u$i --mem 256 >/dev/null
	pids="$pids $(guest_pid u$i)"
	fill_start u$i 96M mixed:20,40,40 $i --rewrite-rate 400 >/dev/null
done
all_attached() {
	local p
	for p in $pids; do has_vm_of_pid "$p" || return 1; done
}
check "three guests attached" wait_for 5 all_attached
check "test client sees three VMs" \
	test "$(awk '$1 == "live" { print $2 }' "$KVMX_DBG/test_client")" = 3

# Unload with everything in flight.
check "test client unloads while guests run" rmmod kvmx_test_client
check "kvmx_core unloads while guests run" rmmod kvmx_core
check "sysfs root is gone" test ! -e "$KVMX_SYS"
alive=0
for i in 1 2 3; do
	[ "$(guest run u$i -- echo up)" = up ] && alive=$((alive + 1))
done
check "all three guests still answer ($alive)" test $alive = 3
good=0
for i in 1 2 3; do
	out=$(fill_verify u$i) && good=$((good + 1))
	diag "u$i: $out"
done
check "all three guests' memory verifies after unload ($good)" test $good = 3

check "reload with attach_existing=1" kvmx_load_core attach_existing=1
check "it attaches the three running guests" wait_for 2 all_attached
for i in 1 2 3; do guest stop u$i; done
check "stopping them empties the registry" wait_for 5 no_vms
kvmx_unload_all
tap_done
