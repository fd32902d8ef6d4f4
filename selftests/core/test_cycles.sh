#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 20 guests started and stopped one after another, each attached and
# detached: nothing may stay behind (entries, VM objects, references on KVM,
# references on kvmx_core, struct kvm held alive).
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

cycles=20
tap_plan 9
kvmx_unload_all
check "kvmx_core loads" kvmx_load_core
kvm_ref0=$(cat /sys/module/kvm/refcnt)
amd_ref0=$(cat /sys/module/kvm_amd/refcnt)
attached0=$(dbg_stat attached_total)

bad=0
for i in $(seq 1 $cycles); do
	guest start c$i --mem 128 >/dev/null || { bad=$((bad + 1)); continue; }
	pid=$(guest_pid c$i)
	if ! wait_for 5 has_vm_of_pid "$pid"; then
		diag "cycle $i: not attached"
		bad=$((bad + 1))
	fi
	# Alternate a clean quit and a kill.
	if [ $((i % 2)) -eq 0 ]; then
		guest stop c$i
	else
		guest stop c$i --kill
	fi
	t0=$(ms_now)
	if ! wait_for 3 no_vm_of_pid "$pid"; then
		diag "cycle $i: entry stayed"
		bad=$((bad + 1))
	else
		diag "cycle $i: pid $pid attached, detached $(($(ms_now) - t0)) ms after QEMU stopped"
	fi
	if ! wait_for 5 kvm_gone "$pid"; then
		diag "cycle $i: VM of pid $pid still alive"
		bad=$((bad + 1))
	fi
done
check "$cycles cycles attached and detached with no error ($bad)" test $bad = 0
check "no entries left" no_vms
check "attached_total grew by $cycles" \
	test $(($(dbg_stat attached_total) - attached0)) = $cycles
check "every attach was detached" \
	test "$(dbg_stat attached_total)" = "$(dbg_stat detached_total)"
check "no VM objects left" test "$(dbg_stat vm_objects)" = 0
check "kvm module references back to $kvm_ref0" \
	test "$(cat /sys/module/kvm/refcnt)" = "$kvm_ref0"
check "kvm_amd module references back to $amd_ref0" \
	test "$(cat /sys/module/kvm_amd/refcnt)" = "$amd_ref0"
check "kvmx_core has no users and unloads" \
	test "$(cat /sys/module/kvmx_core/refcnt)" = 0 -a "$(rmmod kvmx_core; echo $?)" = 0
tap_done
