#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A VM's pages merge with mergeable pages of processes that are no VM (and
# of the memory QEMU keeps outside the memslots), as under stock KSM, while
# the VM is in domain 0, under every classifier but address; in another
# domain they never do. A stand-in VM (a KVM VM whose memslot is its 8 MiB)
# and a plain process hold the same content.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

PAGES=2048
FILL="--size $((PAGES * 4))K --pattern unique --seed 61"
CONFIGS="stock none checksum write_count subpage address"
tap_plan $((3 + $(echo $CONFIGS | wc -w) + 2))
kvmx_unload_all
ksm_unmerge_all
check "kvmx_core loads" kvmx_load_core
K=$KVMX_SYS/ksm_cmd
echo 0 >"$KSM/use_zero_pages"
declare -A pids

shared() { shared_pages "${pids[vm]}" "${pids[proc]}"; }
merged() { [ "$(shared)" -ge $((PAGES * 9 / 10)) ]; }

bad=0
for cfg in $CONFIGS; do
	echo 0 >"$KSM/run"
	ksm_unmerge_all
	if [ "$cfg" = stock ]; then
		[ -d /sys/module/ksm_cmd ] && rmmod ksm_cmd
	else
		kvmx_load_ksm_cmd
		echo "$cfg" >"$K/classifier"
	fi
	standin_start vm 0 $FILL && standin_start proc - $FILL || bad=$((bad + 1))
	ksm_start 4000 10
	if [ "$cfg" = address ]; then
		# Classes by guest address: a page of no VM is class 0, and
		# meets only the VM pages of the first class.
		ksm_wait_scans 12 300
		s=$(shared)
		check "address: the VM's first class merges with the process ($s of $PAGES)" \
			test "$s" -ge $((PAGES / 16)) -a "$s" -le $((PAGES / 4))
	else
		check "$cfg: the VM and the process merge (>= 90% of $PAGES pages)" \
			wait_for 300 merged
		diag "$cfg: $(shared) pages shared, $(ksm_stat full_scans) passes," \
			"content keys $( [ "$cfg" = stock ] || hook_stat content_keys)"
	fi
	echo 0 >"$KSM/run"
	standin_stop vm || bad=$((bad + 1))
	standin_stop proc || bad=$((bad + 1))
done
check "every page verifies after every run ($bad bad)" test $bad = 0

# In a domain of its own the VM shares nothing with the process.
echo checksum >"$K/classifier"
ksm_unmerge_all
standin_start vm 0 $FILL && standin_start proc - $FILL
echo 5 >"$KVMX_SYS/vms/$(vm_of_pid "${pids[vm]}")/ksm_domain"
ksm_start 4000 10
ksm_wait_scans 6 300
expect "domain 5: nothing shared with the process" "$(shared)" 0
echo 0 >"$KSM/run"
standin_stop vm
check "both verify" standin_stop proc

ksm_unmerge_all
check "ksm_cmd unloads" rmmod ksm_cmd
rmmod kvmx_core
tap_done
