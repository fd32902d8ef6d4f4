#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KSM pages keep their keys when they migrate. Two stand-in VMs in domain 1
# hold the same 8 MiB and merge; memory is compacted, which moves KSM pages
# to other pfns. A third VM of domain 1 with the same content then merges
# into the existing KSM pages (no second stable node per content), and a VM
# of domain 2 with it shares nothing, under every classifier.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

PAGES=2048
CONFIGS="checksum none write_count"
tap_plan $((2 + 3 * $(echo $CONFIGS | wc -w) + 1))
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads" kvmx_load_ksm_cmd
K=$KVMX_SYS/ksm_cmd
echo 0 >"$KSM/use_zero_pages"
declare -A pids

start_fill() {
	local name=$1 dom=$2
	rm -f /tmp/mk-$name.ready /tmp/mk-$name.status
	"$KVMX_BIN/kvmx-fill" hold --size $((PAGES * 4))K --pattern unique \
		--seed 71 --mergeable --nothp --kvm --ready-file /tmp/mk-$name.ready \
		--status-file /tmp/mk-$name.status >/tmp/mk-$name.log 2>&1 &
	pids[$name]=$!
	wait_for 60 test -e /tmp/mk-$name.ready || return 1
	echo "${pids[$name]}" >"$KVMX_SYS/attach"
	echo "$dom" >"$KVMX_SYS/vms/$(vm_of_pid "${pids[$name]}")/ksm_domain"
}
stop_fill() {
	kill -TERM "${pids[$1]}"
	wait "${pids[$1]}"
	grep -q "mismatches=0 " /tmp/mk-$1.status
}
shares() { [ "$(shared_pages "${pids[$1]}" "${pids[$2]}")" -ge $((PAGES * 9 / 10)) ]; }
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

bad=0
for cfg in $CONFIGS; do
	echo 0 >"$KSM/run"
	ksm_unmerge_all
	echo "$cfg" >$K/classifier
	start_fill a1 1 && start_fill a2 1 || bad=$((bad + 1))
	ksm_start 4000 10
	check "$cfg: two VMs of domain 1 merge" wait_for 300 shares a1 a2
	shared0=$(ksm_stat pages_shared)
	moved0=$(hook_stat kpages_moved)
	mig0=$(vmstat pgmigrate_success)
	for i in 1 2 3; do
		echo 1 >/proc/sys/vm/compact_memory
		ksm_wait_scans 1 120
	done
	diag "$cfg: $(($(vmstat pgmigrate_success) - mig0)) pages migrated," \
		"$(($(hook_stat kpages_moved) - moved0)) KSM page records followed them," \
		"pages_shared $shared0 -> $(ksm_stat pages_shared)"
	start_fill a3 1 && start_fill b1 2 || bad=$((bad + 1))
	check "$cfg: a third VM of domain 1 merges with them after compaction" \
		wait_for 300 shares a1 a3
	ksm_wait_scans 2 120
	s=$(ksm_stat pages_shared)
	x=$(shared_pages "${pids[a1]}" "${pids[b1]}")
	check "$cfg: into the same KSM pages ($shared0 -> $s shared) and none with domain 2 ($x)" \
		test "$s" -le $((shared0 + PAGES / 10)) -a "$x" = 0
	echo 0 >"$KSM/run"
	for n in a1 a2 a3 b1; do stop_fill $n || bad=$((bad + 1)); done
done
expect "every page of every stand-in verifies" $bad 0
ksm_unmerge_all
check "ksm_cmd unloads" rmmod ksm_cmd
rmmod kvmx_core
tap_done
