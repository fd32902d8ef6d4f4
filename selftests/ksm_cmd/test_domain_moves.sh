#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Domain moves under fire. Two guests hold the same 24 MiB in domain 1 and
# merge; then:
# - the write that moves one of them away is killed in the middle of its
#   unmerge. The VM keeps the new domain, and writing it again finishes the
#   unmerge: nothing stays shared across the domains;
# - one guest flips between domain 1 and a domain of its own, over and over,
#   while KSM merges the two. Whenever it is away, before and after a pause,
#   the guests share no page.
# Guest memory verifies at the end.
# kvmx-timeout: 900
. "$(dirname "$0")/../lib/tap.sh"

FLIPS=${KVMX_FLIPS:-50}
tap_plan 13
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads (with kvmx_core)" kvmx_load_ksm_cmd

merged_pair m1 m2 31

# --- a move whose unmerge is killed ------------------------------------------
# The writer gets SIGKILL after a delay that is adjusted until the kill
# lands inside the unmerge: the domain changed and some sharing is left.
delay=0.2
state=
for try in 1 2 3 4 5 6 7 8 9 10; do
	sh -c "echo 2 >$v1/ksm_domain" &
	w=$!
	sleep $delay
	kill -KILL $w 2>/dev/null
	wait $w 2>/dev/null
	dom=$(cat "$v1/ksm_domain")
	left=$(shared_pages "$p1" "$p2")
	if [ "$dom" = 1 ]; then
		state=early
		delay=$(awk -v d=$delay 'BEGIN { print d * 2 }')
	elif [ "$left" -gt 0 ]; then
		state=interrupted
		break
	else
		state=late
		delay=$(awk -v d=$delay 'BEGIN { print d / 3 }')
		echo 1 >"$v1/ksm_domain"
		wait_for 300 merged
	fi
	diag "kill after ${delay}s: $state (domain $dom, $left pages shared)"
done
diag "try $try: killed after ${delay}s, domain $dom, $left pages still shared"
if [ "$state" = interrupted ]; then
	expect "killed mid-unmerge: the new domain is set" "$dom" 2
	check "writing the same domain again succeeds" \
		sh -c "echo 2 >$v1/ksm_domain"
	expect "and it finishes the unmerge: nothing shared across domains" \
		"$(cross_pages "$p1" "$p2")" 0
	ksm_wait_scans 2 400
	expect "two passes later, still nothing shared" \
		"$(cross_pages "$p1" "$p2")" 0
else
	for i in 1 2 3 4; do
		skip "killed mid-unmerge" "no kill landed inside the unmerge ($state)"
	done
fi

# --- flips while KSM merges -----------------------------------------------------
echo 1 >"$v1/ksm_domain"
check "back in one domain, the guests merge again" wait_for 300 merged
bad=0
moves0=$(awk '$1 == "domain_moves" { print $2 }' "$KVMX_DBG/ksm_cmd")
for i in $(seq 1 "$FLIPS"); do
	away=$((100 + i % 7))
	echo $away >"$v1/ksm_domain" || bad=$((bad + 1))
	s1=$(cross_if_shared "$p1" "$p2")
	sleep 0.$((RANDOM % 3))
	s2=$(cross_if_shared "$p1" "$p2")
	[ "$s1" = 0 ] && [ "$s2" = 0 ] || {
		bad=$((bad + 1))
		diag "flip $i: away in $away, shared $s1 then $s2"
	}
	echo 1 >"$v1/ksm_domain" || bad=$((bad + 1))
	# Long enough for some pages to merge again, not for all of them.
	sleep 0.$((2 + RANDOM % 6))
done
moves=$(($(awk '$1 == "domain_moves" { print $2 }' "$KVMX_DBG/ksm_cmd") - moves0))
expect "$FLIPS flips: $moves moves, and no page shared while away" "$bad $moves" "0 $((2 * FLIPS))"
diag "hook: stale_keys=$(hook_stat stale_keys) merges=$(hook_stat merges)"
check "after the flips, the guests merge again" wait_for 300 merged

out1=$(fill_verify m1)
check "m1 memory verifies ($out1)" test $? = 0
out2=$(fill_verify m2)
check "m2 memory verifies ($out2)" test $? = 0

echo 0 >"$KSM/run"
guest stop m1
guest stop m2
check "ksm_cmd unloads" rmmod ksm_cmd
rmmod kvmx_core
ksm_unmerge_all
tap_done
