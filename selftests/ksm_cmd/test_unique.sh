#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The unique-page filter (ksm_cmd/unique_filter): pages without a twin stay
# out of KSM's unstable tree and cost fewer comparisons, while pages with a
# twin still merge, also when the twin belongs to a process that is not a
# VM. The filter's table follows KSM's size and is given back when the
# filter is switched off; unloading mid-scan is safe; every page verifies.
# kvmx-timeout: 900
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 30
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads" kvmx_load_ksm_cmd
K=$KVMX_SYS/ksm_cmd
expect "the filter is on by default" "$(cat $K/unique_filter)" 1
expect_errno "unique_filter 'maybe'" EINVAL $K/unique_filter maybe
expect_errno "unique_filter 3" EINVAL $K/unique_filter 3
expect "still on after bad writes" "$(cat $K/unique_filter)" 1
echo 0 >"$KSM/use_zero_pages"
# Stock ordering, so that what is measured is the filter alone.
echo none >$K/classifier
# Smart scan would soon skip the unique pages in most passes, filter or
# not: off, every pass shows what the filter saves.
smart=$(ksm_stat smart_scan)
echo 0 >"$KSM/smart_scan"

# Two stand-in VMs with 10% zero, 10% common and 80% unique pages (v1 also
# rewrites 369 of its common pages), a third whose pages all have a twin in
# a process that is not a VM (p2). Merged, that is at least 2048 pages of
# p1, about 1600 zero pages and 450 common pages sharing.
start_fill() {
	local name=$1
	shift
	rm -f /tmp/$name.ready /tmp/$name.status
	"$KVMX_BIN/kvmx-fill" hold --mergeable --nothp --ready-file /tmp/$name.ready \
		--status-file /tmp/$name.status "$@" >/tmp/$name.log 2>&1 &
	pids[$name]=$!
}
declare -A pids
start_fill v1 --size 32M --pattern mixed:10,10,80 --seed 1 --kvm \
	--rewrite-rate 20 --rewrite-frac 5 --subpage 8
start_fill v2 --size 32M --pattern mixed:10,10,80 --seed 2 --kvm
start_fill p1 --size 8M --pattern shared --seed 3 --kvm
start_fill p2 --size 8M --pattern shared --seed 4
all_ready() { for n in v1 v2 p1 p2; do [ -e /tmp/$n.ready ] || return 1; done; }
wait_for 120 all_ready
for n in v1 v2 p1; do echo "${pids[$n]}" >"$KVMX_SYS/attach"; done
expect "three VMs attached" "$(vm_count)" 3
unique=$((2 * 8192 * 80 / 100))

ksm_start 4000 10
# KSM was empty when the table began to count (the VMs came after ksm_cmd,
# and the table waiting for them was resized before the first pass): every
# page is young, so one pass counts them all and holding starts with the
# second. Before, a new table held nothing for 12 passes.
check "KSM makes 3 passes with the filter" ksm_wait_scans 3 300
expect "a table that began with KSM empty warms up in one pass" \
	"$(hook_stat unique_warmup)" 1
uv=$(hook_stat unique_volatile)
check "pages without a twin are held back by the third pass ($uv reports)" \
	test "$uv" -ge $((unique / 2))
check "KSM makes 16 passes with the filter" ksm_wait_scans 13 600
expect "ksm_stats shows the filter on" "$(hook_stat unique_filter)" on
uv=$(hook_stat unique_volatile)
check "pages without a twin are held back ($uv reports for $unique unique pages)" \
	test "$uv" -ge "$unique"
unshared=$(ksm_stat pages_unshared)
check "KSM's unstable tree stays small ($unshared pages)" \
	test "$unshared" -lt $((unique / 3))
sh=$(shared_pages "${pids[p1]}" "${pids[p2]}")
check "a VM's pages merge with twins outside any VM ($sh of 2048)" \
	test "$sh" -ge 2000
sharing=$(ksm_stat pages_sharing)
check "zero and common pages merge too ($sharing pages sharing)" \
	test "$sharing" -ge 3900
entries=$(($(ksm_stat pages_shared) + sharing + unshared + $(ksm_stat pages_volatile)))
tb=$(hook_stat unique_table_bytes)
check "the table has 4 to 32 four-byte slots per page KSM tracks ($tb bytes, $entries pages)" \
	test "$tb" -ge $((16 * entries)) -a "$tb" -le $((128 * entries > 65536 ? 128 * entries : 65536))

c0=$(hook_stat calls)
ksm_wait_scans 3 300
c_on=$(($(hook_stat calls) - c0))
echo 0 >$K/unique_filter
ksm_wait_scans 2 300
c0=$(hook_stat calls)
ksm_wait_scans 3 300
c_off=$(($(hook_stat calls) - c0))
check "the filter saves comparisons ($c_on with it, $c_off without, 3 passes each)" \
	test $((4 * c_on)) -lt $((3 * c_off))
unshared=$(ksm_stat pages_unshared)
check "without it, the unstable tree holds the unique pages ($unshared)" \
	test "$unshared" -ge $((unique / 2))
expect "ksm_stats shows the filter off" "$(hook_stat unique_filter)" off
expect "the table is given back" "$(hook_stat unique_table_bytes)" 0
uv=$(hook_stat unique_volatile)
ksm_wait_scans 2 300
expect "nothing is held back while off" "$(hook_stat unique_volatile)" "$uv"

echo 1 >$K/unique_filter
ksm_wait_scans 2 300
# KSM's pages are not young any more: the table must see smart scan's
# longest skip first.
expect "a table that began with KSM busy warms up in 12 passes" \
	"$(hook_stat unique_warmup)" 12
ksm_wait_scans 14 300
check "switched on again, it holds pages back again" \
	test "$(hook_stat unique_volatile)" -gt "$uv"
check "the VMs' pages still merge ($(ksm_stat pages_sharing) sharing)" \
	test "$(ksm_stat pages_sharing)" -ge 3900

# The hook's clock, on while ksmd merges: counted, and the pages verify
# below. Left on across the unload.
echo 1 >"$KVMX_DBG/ksm_timing"
ksm_wait_scans 2 300
check "ksm_timing on: ksmd's time in the hook is counted ($(hook_stat ns_memcmp) ns in comparisons, $(hook_stat ns_checksum) ns in checksums)" \
	test "$(hook_stat ns_memcmp)" -gt 0 -a "$(hook_stat ns_checksum)" -gt 0
sleep 1
check "ksm_cmd unloads while ksmd scans with the filter" rmmod ksm_cmd
check "KSM goes on scanning without it" ksm_wait_scans 2 300
check "and loads again" kvmx_load_ksm_cmd
check "KSM scans with the filter back" ksm_wait_scans 3 300

bad=0
for n in v1 v2 p1 p2; do
	kill -TERM "${pids[$n]}"
	wait "${pids[$n]}"
	grep -q "mismatches=0 " /tmp/$n.status || bad=$((bad + 1))
	diag "$n: $(cat /tmp/$n.status)"
done
expect "every page of the four processes verifies" $bad 0
echo 0 >"$KSM/run"
echo "$smart" >"$KSM/smart_scan"
kvmx_unload_all
ksm_unmerge_all
tap_done
