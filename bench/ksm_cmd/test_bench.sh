#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ksm_cmd benchmark, inside the test host. For workload A (synthetic
# processes standing in for VMs) and workload B (four guests), run stock
# KSM (ksm_cmd unloaded) and each classifier, one after the other in this
# boot, from fully unmerged memory each time, for a fixed number of KSM
# passes. Raw records go to /kvmx-out/ksm_cmd/; report.py makes the JSON
# and the plots.
# kvmx-timeout: 5400
. "$(dirname "$0")/../../selftests/lib/tap.sh"

# Stock runs first and last: guest memory drifts a little over the series,
# and the report compares each configuration with the mean of the two.
# CONFIG+uniq is CONFIG with ksm_cmd's unique-page filter on; the others
# run with it off.
CONFIGS=${KSM_BENCH_CONFIGS:-"stock none address write_count subpage checksum none+uniq checksum+uniq stock_end"}
PASSES=${KSM_BENCH_PASSES:-12}
# Workload A rewrites "OS" pages at fixed rates, so its sharing falls with
# wall-clock time whatever ksmd does: every configuration reads it at the
# same time, well after PASSES passes. CPU time, scans and comparisons are
# those of the first PASSES passes.
A_SECONDS=${KSM_BENCH_A_SECONDS:-25}
out=/kvmx-out/ksm_cmd
mkdir -p "$out"
: >"$out/runs.jsonl"
: >"$out/samples.csv"
echo "workload,config,t,pages_sharing,pages_shared,full_scans" >>"$out/samples.csv"

ksmd=$(pgrep -x ksmd)
ksmd_ms() { awk '{ print ($14 + $15) * 10 }' "/proc/$ksmd/stat"; }
now_s() { awk '{ print $1 }' /proc/uptime; }
ncfg=$(echo $CONFIGS | wc -w)
tap_plan $((2 * ncfg + 4))

kvmx_unload_all
ksm_unmerge_all
check "kvmx_core loads" kvmx_load_core
echo 0 >"$KSM/use_zero_pages"
echo "# KSM: smart_scan=$(ksm_stat smart_scan) max_page_sharing=$(ksm_stat max_page_sharing)"

# Runs without ksm_cmd: stock first and last, and B's warm-up.
is_stock() { case $1 in stock | stock_end | warmup) return 0 ;; esac; return 1; }
all_unmerged() { [ "$(ksm_stat pages_shared)" = 0 ] && [ "$(ksm_stat pages_sharing)" = 0 ]; }

# run_config WORKLOAD CONFIG [SECONDS]: one measured run of PASSES passes;
# pages_sharing is read at SECONDS if that is later.
run_config() {
	local w=$1 cfg=$2 min_s=${3:-0} t0 cpu0 scan0 full0 full t s= k st
	echo 2 >"$KSM/run"
	wait_for 120 all_unmerged || { not_ok "$w/$cfg: unmerge"; return; }
	if is_stock "$cfg"; then
		[ -d /sys/module/ksm_cmd ] && rmmod ksm_cmd
	else
		kvmx_load_ksm_cmd || { not_ok "$w/$cfg: load"; return; }
		echo "${cfg%+uniq}" >"$KVMX_SYS/ksm_cmd/classifier"
		if [ "$cfg" != "${cfg%+uniq}" ]; then
			echo 1 >"$KVMX_SYS/ksm_cmd/unique_filter"
		else
			echo 0 >"$KVMX_SYS/ksm_cmd/unique_filter"
		fi
		echo 1 >"$KVMX_DBG/ksm_reset"
	fi
	sync
	echo 3 >/proc/sys/vm/drop_caches
	cpu0=$(ksmd_ms)
	scan0=$(ksm_stat pages_scanned)
	full0=$(ksm_stat full_scans)
	t0=$(now_s)
	ksm_start 4000 10
	while :; do
		sleep 0.5
		full=$(ksm_stat full_scans)
		t=$(awk -v a="$(now_s)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
		echo "$w,$cfg,$t,$(ksm_stat pages_sharing),$(ksm_stat pages_shared),$((full - full0))" >>"$out/samples.csv"
		if [ -z "$s" ] && [ $((full - full0)) -ge "$PASSES" ]; then
			s="{\"workload\": \"$w\", \"config\": \"$cfg\", \"seconds\": $t"
			s="$s, \"passes\": $((full - full0))"
			s="$s, \"pages_scanned\": $(($(ksm_stat pages_scanned) - scan0))"
			s="$s, \"ksmd_cpu_ms\": $(($(ksmd_ms) - cpu0))"
			if ! is_stock "$cfg"; then
				# One read, so that the counters agree.
				st=$(cat "$KVMX_DBG/ksm_stats")
				for k in calls compares bytes key_settled merges \
					 checksums_vm key_cache_hits kpages_unknown \
					 unknown_anon nomem unique_volatile; do
					s="$s, \"hook_$k\": $(awk -v k=$k '$1 == k { print $2 }' <<<"$st")"
				done
			fi
		fi
		[ -n "$s" ] && awk -v t="$t" -v m="$min_s" 'BEGIN { exit !(t >= m) }' && break
		awk -v t="$t" 'BEGIN { exit !(t > 1500) }' && break
	done
	[ -n "$s" ] || s="{\"workload\": \"$w\", \"config\": \"$cfg\", \"seconds\": $t, \"passes\": $((full - full0)), \"pages_scanned\": 0, \"ksmd_cpu_ms\": 0"
	s="$s, \"sharing_at_s\": $t"
	s="$s, \"pages_sharing\": $(ksm_stat pages_sharing)"
	s="$s, \"pages_shared\": $(ksm_stat pages_shared)"
	echo 0 >"$KSM/run"
	if ! is_stock "$cfg"; then
		s="$s, \"metadata_bytes\": $(cat "$KVMX_SYS/ksm_cmd/metadata_bytes")"
		s="$s, \"tracked_pages\": $(cat "$KVMX_SYS/ksm_cmd/tracked_pages")"
		s="$s, \"unique_table_bytes\": $(hook_stat unique_table_bytes)"
	fi
	echo "$s}" >>"$out/runs.jsonl"
	ok "$w/$cfg: $(tail -1 "$out/runs.jsonl")"
}

attach_pid() { echo "$1" >"$KVMX_SYS/attach"; }

# --- workload A: four processes standing in for VMs ----------------------
# Each is a KVM VM without vCPUs whose memslot is its 48 MiB: 20% zero,
# 40% "OS" pages identical across the four, 40% unique; three of them keep
# rewriting part of their memory, with different rates and sub-page extents.
a_opts=("--rewrite-rate 200 --rewrite-frac 10 --subpage 1"
	"--rewrite-rate 50 --rewrite-frac 20 --subpage 8"
	"--rewrite-rate 400 --rewrite-frac 5 --subpage 64"
	"")
badA=0
# Fresh processes for every configuration: rewrites make memory drift
# apart over time, so every run starts from the same contents.
start_A() {
	local i
	fillA=()
	rm -f /tmp/fillA*.ready
	for i in 0 1 2 3; do
		"$KVMX_BIN/kvmx-fill" hold --size 48M --pattern mixed:20,40,40 \
			--seed $((100 + i)) --mergeable --kvm --nothp ${a_opts[$i]} \
			--ready-file /tmp/fillA$i.ready --status-file /tmp/fillA$i.status \
			>/tmp/fillA$i.log 2>&1 &
		fillA+=($!)
	done
	wait_for 120 readyA
	for p in "${fillA[@]}"; do attach_pid "$p"; done
}
stop_A() {
	local i
	for i in 0 1 2 3; do
		kill -TERM "${fillA[$i]}"
		wait "${fillA[$i]}"
		grep -q "mismatches=0 " /tmp/fillA$i.status || badA=$((badA + 1))
	done
}
readyA() { for i in 0 1 2 3; do [ -e /tmp/fillA$i.ready ] || return 1; done; }
for cfg in $CONFIGS; do
	echo 2 >"$KSM/run"
	start_A
	diag "workload A: $(vm_count) stand-in VMs attached"
	run_config A "$cfg" "$A_SECONDS"
	stop_A
done
check "workload A: every page verifies after every run ($badA bad)" test $badA = 0

# --- workload B: four guests booted from the same image -----------------
# Each copies the same 30 MiB of files into its page cache (tmpfs), holds
# 32 MiB of private data (10% zero, 90% unique) and rewrites a quarter of
# it, 4 of 64 blocks per page, at 100 pages/s.
for i in 1 2 3 4; do
	guest start b$i --mem 256 >/dev/null
	guest run b$i -- "cat /host/usr/bin/qemu-system-x86_64 /host/boot/vmlinuz-$(uname -r) > /tmp/files"
done
diag "workload B: $(vm_count) guests attached"
# QEMU backs guest RAM with transparent huge pages, and KSM splits them as
# it merges: the first run over fresh guests would do work that later runs
# find done. THP goes off (khugepaged then collapses nothing back) and a
# stock run that is not reported ("warmup") splits what the guests have.
thp_set never
badB=0
for cfg in warmup $CONFIGS; do
	echo 2 >"$KSM/run"
	for i in 1 2 3 4; do
		guest run b$i -- "rm -f /tmp/fill.ready" >/dev/null
		fill_start b$i 32M mixed:10,0,90 $((200 + i)) --rewrite-rate 100 \
			--rewrite-frac 25 --subpage 4 >/dev/null
	done
	run_config B "$cfg"
	for i in 1 2 3 4; do
		o=$(fill_verify b$i) || badB=$((badB + 1))
		guest run b$i -- 'kill $(pidof kvmx-fill); sleep 0.5' >/dev/null
	done
	diag "B/$cfg verified: $o"
done
check "workload B: every guest's memory verifies after every run ($badB bad)" test $badB = 0
for i in 1 2 3 4; do guest stop b$i; done
thp_restore
ksm_unmerge_all
kvmx_unload_all
tap_done
