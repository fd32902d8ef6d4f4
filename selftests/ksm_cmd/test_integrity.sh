#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integrity under merging: four guests and two stand-in VMs (processes with
# a KVM memslot) keep rewriting random pages, with sub-page and whole-page
# writes, while ksmd merges and unmerges them as fast as it can. Every
# classifier runs with the unique-page filter (the default), and `none`
# once more without it, for KVMX_SOAK_PHASE seconds each (30 here; the
# ksm_cmd_soak suite runs 110 s each, 11 minutes in all). Every page of
# every VM is verified after each phase.
# kvmx-timeout: 900
. "$(dirname "$0")/../lib/tap.sh"

phase=${KVMX_SOAK_PHASE:-30}
# CLASSIFIER[/nofilter]
phases="none address write_count subpage checksum none/nofilter"
tap_plan 17
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads" kvmx_load_ksm_cmd
K=$KVMX_SYS/ksm_cmd

for i in 1 2 3 4; do
	guest start s$i --mem 256 >/dev/null
	# Same "OS" pages everywhere, zero pages, unique pages; rewrites at
	# different rates and extents.
	fill_start s$i 40M mixed:20,40,40 $((i % 2)) --rewrite-rate $((i * 60)) \
		--rewrite-frac 30 --subpage $((i * i * 4)) >/dev/null
done
fills=
for i in 1 2; do
	"$KVMX_BIN/kvmx-fill" hold --size 32M --pattern mixed:20,40,40 \
		--seed 1 --mergeable --kvm --rewrite-rate 250 --rewrite-frac 15 \
		--subpage $((i * 8)) --ready-file /tmp/sf$i.ready \
		--status-file /tmp/sf$i.status >/tmp/sf$i.log 2>&1 &
	fills="$fills $!"
done
sf_ready() { [ -e /tmp/sf1.ready ] && [ -e /tmp/sf2.ready ]; }
wait_for 60 sf_ready
for p in $fills; do echo "$p" >"$KVMX_SYS/attach"; done
expect "six VMs attached" "$(vm_count)" 6
ksm_start 4000 10

# verify_all: every guest and stand-in verifies now; prints the bad count.
verify_all() {
	local i p bad=0
	for i in 1 2 3 4; do
		fill_verify s$i >/tmp/verify.s$i || bad=$((bad + 1))
	done
	i=0
	for p in $fills; do
		i=$((i + 1))
		rm -f /tmp/sf$i.status
		kill -USR1 "$p"
		wait_for 60 test -e /tmp/sf$i.status
		grep -q "mismatches=0 " /tmp/sf$i.status || bad=$((bad + 1))
	done
	echo $bad
}

for c in $phases; do
	echo "${c%/nofilter}" >$K/classifier
	if [ "$c" = "${c%/nofilter}" ]; then
		echo 1 >$K/unique_filter
	else
		echo 0 >$K/unique_filter
	fi
	sleep "$phase"
	m=$(hook_stat merges)
	diag "$c: pages_sharing=$(ksm_stat pages_sharing) full_scans=$(ksm_stat full_scans) hook merges=$m unique_volatile=$(hook_stat unique_volatile)"
	check "$c: KSM keeps merging" test "$(ksm_stat pages_sharing)" -gt 5000
	expect "$c: every page of 6 VMs verifies" "$(verify_all)" 0
done
# Unmerge everything (every KSM page is copied back) and verify again.
ksm_unmerge_all
expect "after unmerging all: every page verifies" "$(verify_all)" 0
for p in $fills; do kill -TERM "$p"; wait "$p"; done
bad=0
for i in 1 2; do grep -q "mismatches=0 " /tmp/sf$i.status || bad=1; done
expect "stand-ins verify at exit" $bad 0
for i in 1 2 3 4; do guest stop s$i; done
kvmx_unload_all
check "modules unloaded" test ! -d /sys/module/kvmx_core
tap_done
