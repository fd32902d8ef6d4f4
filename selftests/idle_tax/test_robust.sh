#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reclaim interrupted: while idle_tax pages a guest out, the VM is detached,
# its QEMU is killed, and the module is unloaded. Each must leave no VM
# object, no reference and no kernel warning behind (the runner fails the
# run on any BUG, WARNING or Call Trace), and a guest paged out and then
# detached mid-reclaim still verifies.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 14
kvmx_unload_all
thp_set never
check "zram swap on" zram_swap_on 2048
check "kvmx_core and idle_tax load" kvmx_load_idle_tax
kvm_ref0=$(cat /sys/module/kvm/refcnt)
# Large steps: one interval pages out a lot, so the interruptions land in it.
echo $((1 << 30)) >$ITAX/pageout_step_bytes

# start_reclaim NAME: a guest holding 300 MiB, then a 64 MiB pool.
start_reclaim() {
	guest start "$1" --mem 512 >/dev/null
	pid=$(guest_pid "$1")
	wait_for 10 has_vm_of_pid "$pid"
	vm=$(vm_of_pid "$pid")
	fill_start "$1" 300M unique 3 >/dev/null
	echo $((64 << 20)) >$ITAX/pool_bytes
}
pageout_calls() { awk '$1 == "pageout_calls" { print $2 }' "$KVMX_DBG/idle_tax"; }
reclaim_started() { [ "$(pageout_calls)" -gt "$c0" ]; }

c0=$(pageout_calls)
start_reclaim r1
check "page-out started on r1" wait_for 30 reclaim_started
echo "$vm" >"$KVMX_SYS/detach"
check "r1 detached mid-reclaim" no_vm_of_pid "$pid"
echo 0 >$ITAX/pool_bytes
out=$(fill_verify r1)
diag "$out"
check "r1's data verifies after the interrupted page-out" \
	test -n "$(echo "$out" | grep 'mismatches=0 ')"
guest stop r1

c0=$(pageout_calls)
start_reclaim r2
check "page-out started on r2" wait_for 30 reclaim_started
kill -9 "$pid"
check "r2's QEMU killed mid-reclaim is detached" wait_for 10 no_vm_of_pid "$pid"
guest stop r2 --kill >/dev/null 2>&1
echo 0 >$ITAX/pool_bytes

c0=$(pageout_calls)
start_reclaim r3
check "page-out started on r3" wait_for 30 reclaim_started
check "idle_tax unloads mid-reclaim" rmmod idle_tax
check "r3 stays attached to kvmx_core" has_vm_of_pid "$pid"
out=$(fill_verify r3)
check "r3's data verifies" test -n "$(echo "$out" | grep 'mismatches=0 ')"
guest stop r3
check "no VM objects left" wait_for 10 test "$(dbg_stat vm_objects)" = 0
check "kvm module references back to $kvm_ref0" \
	test "$(cat /sys/module/kvm/refcnt)" = "$kvm_ref0"
check "kvmx_core unloads" rmmod kvmx_core
zram_swap_off
thp_restore
tap_done
