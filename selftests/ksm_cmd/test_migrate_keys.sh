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
FILL="--size $((PAGES * 4))K --pattern unique --seed 71"
CONFIGS="checksum none write_count"
tap_plan $((3 + 3 * $(echo $CONFIGS | wc -w) + 1))
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads" kvmx_load_ksm_cmd
K=$KVMX_SYS/ksm_cmd
echo 0 >"$KSM/use_zero_pages"
declare -A pids

shares() { [ "$(shared_pages "${pids[$1]}" "${pids[$2]}")" -ge $((PAGES * 9 / 10)) ]; }
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

bad=0
moved=0
for cfg in $CONFIGS; do
	echo 0 >"$KSM/run"
	ksm_unmerge_all
	echo "$cfg" >$K/classifier
	standin_start a1 1 $FILL && standin_start a2 1 $FILL || bad=$((bad + 1))
	ksm_start 4000 10
	check "$cfg: two VMs of domain 1 merge" wait_for 300 shares a1 a2
	shared0=$(ksm_stat pages_shared)
	moved0=$(hook_stat kpages_moved)
	mig0=$(vmstat pgmigrate_success)
	for i in 1 2 3; do
		echo 1 >/proc/sys/vm/compact_memory
		ksm_wait_scans 1 120
	done
	diag "$cfg: $(($(vmstat pgmigrate_success) - mig0)) pages migrated"
	standin_start a3 1 $FILL && standin_start b1 2 $FILL || bad=$((bad + 1))
	check "$cfg: a third VM of domain 1 merges with them after compaction" \
		wait_for 300 shares a1 a3
	ksm_wait_scans 2 120
	# ksmd looks at a merged page again when a search passes it.
	m=$(($(hook_stat kpages_moved) - moved0))
	moved=$((moved + m))
	diag "$cfg: $m KSM page records followed their page to a new pfn"
	s=$(ksm_stat pages_shared)
	x=$(shared_pages "${pids[a1]}" "${pids[b1]}")
	check "$cfg: into the same KSM pages ($shared0 -> $s shared) and none with domain 2 ($x)" \
		test "$s" -le $((shared0 + PAGES / 10)) -a "$x" = 0
	echo 0 >"$KSM/run"
	for n in a1 a2 a3 b1; do standin_stop $n || bad=$((bad + 1)); done
done
check "compaction moved KSM pages, and their records followed ($moved)" \
	test "$moved" -gt 0
expect "every page of every stand-in verifies" $bad 0
ksm_unmerge_all
check "ksm_cmd unloads" rmmod ksm_cmd
rmmod kvmx_core
tap_done
