#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Work in flight while kvmx_core loads and unloads: attach, detach and
# readers hammer the registry from other processes, and a guest is killed
# right before rmmod so its release work is still queued. Every round must
# unload cleanly, leave the other guests running, and warn nothing (the
# runner checks the kernel log).
# kvmx-timeout: 300
. "$(dirname "$0")/../lib/tap.sh"

rounds=6
tap_plan 5
kvmx_unload_all
guest start w1 --mem 128 >/dev/null
guest start w2 --mem 128 >/dev/null
p1=$(guest_pid w1)
p2=$(guest_pid w2)

hammer() {
	while :; do
		echo "$p1" >"$KVMX_SYS/attach"
		echo "$p2" >"$KVMX_SYS/attach"
		for d in "$KVMX_SYS"/vms/*; do
			cat "$d/memory_bytes" "$d/memslots" "$d/pid"
			echo "${d##*/}" >"$KVMX_SYS/detach"
		done
		cat "$KVMX_DBG/vms" "$KVMX_DBG/stats"
	done >/dev/null 2>&1
}

bad=0
for r in $(seq 1 $rounds); do
	kvmx_load_core attach_existing=1 || bad=$((bad + 1))
	hammer &
	h1=$!
	hammer &
	h2=$!
	# A short-lived guest: its exit queues release work.
	guest start x$r --mem 64 --no-wait >/dev/null
	px=$(guest_pid x$r)
	wait_for 5 has_vm_of_pid "$px"
	sleep 0.$((RANDOM % 5))
	kill -9 "$px"
	# A reader holding a debugfs file open pins the module (EBUSY, "in
	# use"): that is the kernel's rule, so try again briefly.
	unloaded=0
	for t in 1 2 3 4 5 6 7 8 9 10; do
		rmmod kvmx_core 2>/dev/null && { unloaded=1; break; }
		sleep 0.2
	done
	[ $unloaded = 1 ] || { diag "round $r: rmmod failed"; bad=$((bad + 1)); }
	kill "$h1" "$h2" 2>/dev/null
	wait "$h1" "$h2" 2>/dev/null
	guest stop x$r --kill
	# If rmmod failed, try again now that the hammers are gone.
	[ -d /sys/module/kvmx_core ] && rmmod kvmx_core
done
check "$rounds load/unload rounds under attach/detach/read load ($bad errors)" \
	test $bad = 0
check "kvmx_core is unloaded" test ! -d /sys/module/kvmx_core
check "guest w1 still answers" test "$(guest run w1 -- echo up)" = up
check "guest w2 still answers" test "$(guest run w2 -- echo up)" = up
check "killed guests' VMs were all freed" \
	test "$(ls -d /sys/kernel/debug/kvm/*-* 2>/dev/null | wc -l)" = 2
guest stop w1
guest stop w2
tap_done
