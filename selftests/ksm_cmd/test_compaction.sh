#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Compaction and migration under merging never carry a KSM page across
# domains. Two pairs of stand-in VMs, in domains 1 and 2, hold the same
# content and rewrite the same pages at the same rate (volatile twins: KSM
# merges them, writes break them, merges fail and are undone) while memory
# is compacted in a loop, which migrates KSM pages to new frames. Under
# every classifier, no physical page may ever be mapped by VMs of both
# domains; within a domain the pairs merge; every page verifies.
# kvmx-timeout: 900
. "$(dirname "$0")/../lib/tap.sh"

CONFIGS="none address write_count subpage checksum"
PAGES=4096	# 16 MiB per stand-in
SECONDS_EACH=25
tap_plan 8
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads" kvmx_load_ksm_cmd
K=$KVMX_SYS/ksm_cmd
echo 0 >"$KSM/use_zero_pages"
declare -A pids

cross() {
	local a b n t=0
	for a in a1 b1; do
		for b in a2 b2; do
			n=$("$KVMX_PAGEMAP" cross "${pids[$a]}" "${pids[$b]}")
			t=$((t + n))
		done
	done
	echo $t
}

bad=0
for cfg in $CONFIGS; do
	echo 0 >"$KSM/run"
	ksm_unmerge_all
	echo "$cfg" >$K/classifier
	for n in a1:1 b1:1 a2:2 b2:2; do
		standin_start "${n%:*}" "${n#*:}" --size $((PAGES * 4))K \
			--pattern unique --seed 31 --rewrite-rate 100 \
			--rewrite-frac 25 --subpage 8
	done
	ksm_start 4000 10
	worst=0
	within=0
	migrated0=$(awk '$1 == "pgmigrate_success" { print $2 }' /proc/vmstat)
	end=$(($(date +%s) + SECONDS_EACH))
	while [ "$(date +%s)" -lt "$end" ]; do
		echo 1 >/proc/sys/vm/compact_memory
		c=$(cross)
		[ "$c" -gt "$worst" ] && worst=$c
		w=$(shared_pages "${pids[a1]}" "${pids[b1]}")
		[ "$w" -gt "$within" ] && within=$w
		sleep 0.5
	done
	migrated=$(($(awk '$1 == "pgmigrate_success" { print $2 }' /proc/vmstat) - migrated0))
	for n in a1 b1 a2 b2; do
		standin_stop "$n" || bad=$((bad + 1))
	done
	check "$cfg: no page shared across domains under compaction (at most $worst; $within within domain 1, $migrated pages migrated, $(hook_stat kpages_dropped) merges undone)" \
		test "$worst" -eq 0 -a "$within" -ge $((PAGES / 4))
done
echo 0 >"$KSM/run"
expect "KSM pages were migrated during the runs" "$([ "$migrated" -gt 0 ] && echo yes)" yes
expect "every page of every stand-in verifies" $bad 0
kvmx_unload_all
ksm_unmerge_all
tap_done
