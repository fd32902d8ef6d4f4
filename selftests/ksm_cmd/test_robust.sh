#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ksm_cmd knobs reject bad values, form by form (decimal only, a leading
# zero still decimal, one optional newline, no sign, base prefix, blank or
# NUL; booleans exactly 1, y, Y, on, 0, n, N or off); a competing IPMODIFY user of
# memcmp_pages makes loading fail with a clear message; switching
# classifiers and loading and unloading the modules while ksmd is busy
# leaves KSM merging and every page intact.
# kvmx-timeout: 900
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 149
kvmx_unload_all
ksm_unmerge_all

# A competing user of the same function.
check "competing IPMODIFY module loads" \
	insmod "$KVMX_DIR/selftests/modules/kvmx_test_ipmodify.ko"
check "kvmx_core loads" kvmx_load_core
before=$(dmesg | grep -c "another module modifies memcmp_pages")
expect "ksm_cmd refuses to load" \
	"$(insmod "$KVMX_DIR/ksm_cmd/ksm_cmd.ko" 2>&1 >/dev/null | grep -c 'Device or resource busy')" 1
after=$(dmesg | grep -c "another module modifies memcmp_pages")
expect "the kernel log names the reason" $((after - before)) 1
check "competing module unloads" rmmod kvmx_test_ipmodify
check "ksm_cmd loads now" kvmx_load_ksm_cmd

K=$KVMX_SYS/ksm_cmd
expect "default classifier" "$(cat $K/classifier)" checksum
expect_errno "classifier 'fast'" EINVAL $K/classifier fast
expect_errno "classifier 'subpag'" EINVAL $K/classifier subpag
expect_errno "classes 0" ERANGE $K/classes 0
expect_errno "classes 65" ERANGE $K/classes 65
expect_errno "classes 'x'" EINVAL $K/classes x
expect_errno "subblocks 3" ERANGE $K/subblocks 3
expect_errno "subblocks 16" ERANGE $K/subblocks 16
expect_errno "history 0" ERANGE $K/history 0
expect_errno "history 9" ERANGE $K/history 9
expect_errno "history -1" EINVAL $K/history -1
expect_errno "unique_filter 2" EINVAL $K/unique_filter 2
expect_errno "unique_filter 'maybe'" EINVAL $K/unique_filter maybe
expect_errno "unique_filter -1" EINVAL $K/unique_filter -1
expect_forms $K/classifier <<EOF
checksum\n	OK	checksum
address	OK	address
checksum	OK	checksum
checksum\0junk	EINVAL
checksum\0	EINVAL
checksum\040	EINVAL
\040checksum	EINVAL
Checksum	EINVAL
check	EINVAL
checksum\n\n	EINVAL
EOF
expect_forms $K/classes <<EOF
$(plain_forms 8)
0x40	EINVAL
010	OK	10
4294967304	ERANGE
08	OK	8
EOF
expect_forms $K/subblocks <<EOF
$(plain_forms 8)
04	OK	4
4294967304	ERANGE
08	OK	8
EOF
expect_forms $K/history <<EOF
$(plain_forms 4)
010	ERANGE
04	OK	4
EOF
expect_forms $K/unique_filter <<EOF
$(bool_forms)
1	OK	1
EOF
expect "unique_filter, 1737 bytes starting with T" \
	"$(write_form $K/unique_filter "$(long_junk T)")" EINVAL
expect "unique_filter, 1737 bytes starting with 1" \
	"$(write_form $K/unique_filter "$(long_junk 1)")" EINVAL
expect "knobs unchanged by bad writes" \
	"$(cat $K/classes) $(cat $K/subblocks) $(cat $K/history) $(cat $K/unique_filter)" \
	"8 8 4 1"

# Two guests and two stand-in VMs, all rewriting memory.
for i in 1 2; do
	guest start r$i --mem 256 >/dev/null
	fill_start r$i 48M mixed:20,40,40 $i --rewrite-rate 200 \
		--rewrite-frac 20 --subpage $((i * 4)) >/dev/null
done
fills=
for i in 1 2; do
	"$KVMX_BIN/kvmx-fill" hold --size 32M --pattern mixed:20,40,40 \
		--seed $((10 + i)) --mergeable --kvm --rewrite-rate 300 \
		--rewrite-frac 10 --subpage 2 --ready-file /tmp/rf$i.ready \
		--status-file /tmp/rf$i.status >/tmp/rf$i.log 2>&1 &
	fills="$fills $!"
done
rf_ready() { [ -e /tmp/rf1.ready ] && [ -e /tmp/rf2.ready ]; }
wait_for 60 rf_ready
for p in $fills; do echo "$p" >"$KVMX_SYS/attach"; done
expect "four VMs attached" "$(vm_count)" 4
ksm_start 4000 10

# Switch classifiers every 3 s, twice through the list, ksmd busy.
for round in 1 2; do
	for c in address write_count subpage checksum none; do
		echo $c >$K/classifier
		echo $((round * 4)) >$K/classes
		sleep 3
	done
done
check "KSM still completes passes after 10 switches" ksm_wait_scans 2 300
expect "the xxh64 probe is armed under none with the unique-page filter" \
	"$(hook_stat xxh64_probe)" armed
# `none` alone needs no checksums: KSM's xxh64 runs without the probe's trap.
echo 0 >$K/unique_filter
ksm_wait_scans 2 300
expect "the xxh64 probe is disarmed under none without the filter" \
	"$(hook_stat xxh64_probe)" disarmed
echo 1 >$K/unique_filter
# Unload and load in the middle of scanning.
reloads=0
for i in 1 2 3; do
	sleep 2
	rmmod ksm_cmd && kvmx_load_ksm_cmd && reloads=$((reloads + 1))
	echo subpage >$K/classifier
done
expect "ksm_cmd unloaded and reloaded mid-scan" $reloads 3
sleep 2
check "kvmx_core unloads mid-scan (after ksm_cmd)" \
	sh -c "rmmod ksm_cmd && rmmod kvmx_core"
check "both come back, re-attaching the running VMs" \
	sh -c "insmod $KVMX_DIR/core/kvmx_core.ko attach_existing=1 &&
	       insmod $KVMX_DIR/ksm_cmd/ksm_cmd.ko"
echo checksum >$K/classifier
sharing_grows() { [ "$(ksm_stat pages_sharing)" -gt 10000 ]; }
check "KSM merges after all that ($(ksm_stat pages_sharing) sharing)" \
	wait_for 300 sharing_grows
expect "the xxh64 probe is armed under checksum" "$(hook_stat xxh64_probe)" armed
# The probe never redirects, so the kernel turns its int3 into a jump.
probe_optimized() {
	grep -q '^[0-9a-f]*  *r  *xxh64+0x[0-9a-f]*  *\[OPTIMIZED\]' \
		/sys/kernel/debug/kprobes/list
}
check "the xxh64 probe is optimized: a jump, no breakpoint per checksum" \
	wait_for 10 probe_optimized
expect "no checksum of ksmd's missed the probe" \
	"$(hook_stat xxh64_probe_missed)" 0

bad=0
for i in 1 2; do
	o=$(fill_verify r$i) || bad=$((bad + 1))
	diag "r$i: $o"
done
for p in $fills; do kill -TERM $p; wait $p; done
for i in 1 2; do
	grep -q "mismatches=0 " /tmp/rf$i.status || bad=$((bad + 1))
	diag "stand-in $i: $(cat /tmp/rf$i.status)"
done
expect "every page of the four VMs verifies" $bad 0
echo 0 >"$KSM/run"
# ksm_domain: a zero-padded tenant id is that id, never octal.
v1=$KVMX_SYS/vms/$(vm_of_pid "$(guest_pid r1)")
expect_forms "$v1/ksm_domain" "r1 ksm_domain" <<EOF
$(plain_forms 10)
010	OK	10
065536	ERANGE
065535	OK	65535
0x40	EINVAL
4294967297	ERANGE
0	OK	0
EOF
for i in 1 2; do guest stop r$i; done
kvmx_unload_all
ksm_unmerge_all
tap_done
