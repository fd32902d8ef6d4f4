#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KSM isolation domains: two guests holding the same 32 MiB share nothing
# and are never compared by content while their domains differ; in one
# domain they merge; moving one away at runtime breaks the sharing at once
# and it never comes back. Guest memory verifies throughout.
# kvmx-timeout: 900
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 20
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads (with kvmx_core)" kvmx_load_ksm_cmd
echo 1 >"$KSM/use_zero_pages"

guest start d1 --mem 256 >/dev/null
guest start d2 --mem 256 >/dev/null
p1=$(guest_pid d1)
p2=$(guest_pid d2)
both_attached() { has_vm_of_pid "$p1" && has_vm_of_pid "$p2"; }
check "both guests attached" wait_for 10 both_attached
v1=$KVMX_SYS/vms/$(vm_of_pid "$p1")
v2=$KVMX_SYS/vms/$(vm_of_pid "$p2")
expect "default domain" "$(cat "$v1/ksm_domain")" 0

# Bad input.
expect_errno "ksm_domain 'abc'" EINVAL "$v1/ksm_domain" abc
expect_errno "ksm_domain -1" EINVAL "$v1/ksm_domain" -1
expect_errno "ksm_domain newline only" EINVAL "$v1/ksm_domain" $'\n'
expect_errno "ksm_domain 65536" ERANGE "$v1/ksm_domain" 65536
expect_errno "ksm_domain 2^64" ERANGE "$v1/ksm_domain" 18446744073709551616

echo 1 >"$v1/ksm_domain"
echo 2 >"$v2/ksm_domain"
expect "domains set" "$(cat "$v1/ksm_domain") $(cat "$v2/ksm_domain")" "1 2"

# Identical unique-per-page content in both guests (same seed).
fill_start d1 32M unique 7 >/dev/null
fill_start d2 32M unique 7 >/dev/null
echo 1 >"$KVMX_DBG/ksm_reset"
ksm_start 4000 10
check "three KSM passes" ksm_wait_scans 3 400
s=$(cross_pages "$p1" "$p2")
expect "different domains: pages shared between the guests" "$s" 0
expect "different domains: cross-VM content comparisons" \
	"$(hook_stat cross_vm_compares)" 0
diag "sharing inside each guest: pages_sharing=$(ksm_stat pages_sharing)"

echo 1 >"$v2/ksm_domain"
enough_shared() { [ "$(shared_pages "$p1" "$p2")" -ge 6500 ]; }
check "same domain: the guests merge (>= 6500 of 8192 pages)" \
	wait_for 400 enough_shared
diag "shared now: $(shared_pages "$p1" "$p2"), cross-VM compares: $(hook_stat cross_vm_compares)"
check "same domain: cross-VM comparisons happen" \
	test "$(hook_stat cross_vm_compares)" -gt 0

echo 3 >"$v2/ksm_domain"
expect "moved away: nothing shared right after the move" \
	"$(cross_pages "$p1" "$p2")" 0
ksm_wait_scans 2 400
expect "moved away: still nothing shared two passes later" \
	"$(cross_pages "$p1" "$p2")" 0

out1=$(fill_verify d1)
check "d1 memory verifies ($out1)" test $? = 0
out2=$(fill_verify d2)
check "d2 memory verifies ($out2)" test $? = 0

echo 0 >"$KSM/run"
guest stop d1
guest stop d2
check "ksm_cmd unloads" rmmod ksm_cmd
check "kvmx_core unloads" rmmod kvmx_core
echo 0 >"$KSM/use_zero_pages"
ksm_unmerge_all
tap_done
