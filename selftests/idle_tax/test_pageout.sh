#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Page-out path: a guest with no balloon device, holding 300 MiB of data,
# idle. When its target drops to 160 MiB, host page-out (MADV_PAGEOUT to
# zram swap, carried out by kvmxd) brings its host RSS down to the target,
# the regions the sampler saw idle go first, and afterwards every page of
# its data still verifies. When the target rises again nothing more is
# paged out.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 13
kvmx_unload_all
thp_set never
check "zram swap on" zram_swap_on 2048
check "kvmx_core and idle_tax load" kvmx_load_idle_tax
check "kvmxd attaches to /dev/kvmx_advice" kvmxd_start
echo 1000 >$ITAX/period_ms
echo 200 >$ITAX/sample_pages

guest start p1 --mem 512 >/dev/null
pid=$(guest_pid p1)
wait_for 10 has_vm_of_pid "$pid"
vm=$(vm_of_pid "$pid")
fill_start p1 300M unique 11 >/dev/null
sleep 3
rss0=$(rss_bytes "$pid")
diag "QEMU RSS after the fill: $(mib "$rss0") MiB, resident_bytes $(mib "$(itax $vm resident_bytes)") MiB"
check "the guest holds its data (RSS $(mib "$rss0") MiB > 300 MiB)" test "$rss0" -gt $((300 << 20))

target=$((160 << 20))
echo $target >$ITAX/pool_bytes
t0=$(ms_now)
_at_target() { [ "$(itax $vm resident_bytes)" -le $((target + (4 << 20))) ]; }
check "resident memory reaches the 160 MiB target" wait_for 240 _at_target
rss1=$(rss_bytes "$pid")
diag "after $(($(ms_now) - t0)) ms: resident_bytes $(mib "$(itax $vm resident_bytes)") MiB," \
	"QEMU RSS $(mib "$rss1") MiB, reclaimed $(mib "$(itax $vm reclaimed_bytes)") MiB," \
	"swap used $(awk '/SwapTotal/ { t = $2 } /SwapFree/ { f = $2 } END { print int((t - f) / 1024) }' /proc/meminfo) MiB"
check "QEMU's host RSS dropped by at least 120 MiB ($(mib "$rss0") -> $(mib "$rss1") MiB)" \
	test $((rss0 - rss1)) -ge $((120 << 20))
check "reclaimed_bytes counts it" test "$(itax $vm reclaimed_bytes)" -ge $((120 << 20))
diag "page-out: $(awk '$1 ~ /^pageout_(calls|errors|last_error)$/ { printf "%s %s ", $1, $2 }' "$KVMX_DBG/idle_tax")"
diag "advice: $(tr '\n' ' ' <"$KVMX_SYS/advice/stats")"
check "kvmxd carried it out: advice counted $(mib "$(advice_stat bytes)") MiB, none failed" \
	test "$(advice_stat bytes)" -ge $((120 << 20)) -a "$(advice_stat failed)" = 0

out=$(fill_verify p1)
diag "$out"
check "every page of the guest's data verifies after page-out" \
	test -n "$(echo "$out" | grep 'mismatches=0 ')"
# Room again: the target returns to max and page-out stops.
echo 0 >$ITAX/pool_bytes
sleep 3
r0=$(itax $vm reclaimed_bytes)
sleep 5
expect "no page-out once the target is back at max" "$(itax $vm reclaimed_bytes)" "$r0"
guest stop p1
check "idle_tax unloads" rmmod idle_tax
check "kvmxd exits 0 on SIGTERM" kvmxd_stop
check "kvmx_core unloads" rmmod kvmx_core
zram_swap_off
thp_restore
tap_done
