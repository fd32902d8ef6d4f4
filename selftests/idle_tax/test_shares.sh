#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shares are honoured: two guests that keep touching the same amount of
# memory, with shares 2:1, converge to allocations within 10% of the 2:1
# split of the pool, and no target ever leaves [min, max]. The tax rate is
# 0 here, so that only shares count (the tax has its own experiment). Then a max below the share binds and the
# other guest gets the rest.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 9
kvmx_unload_all
thp_set never
check "zram swap on" zram_swap_on 1024
check "kvmx_core and idle_tax load" kvmx_load_idle_tax
echo 1000 >$ITAX/period_ms
echo 200 >$ITAX/sample_pages
echo 0 >$ITAX/tax_rate

for g in a b; do
	guest start s$g --mem 320 >/dev/null
	guest run s$g -- "/host$KVMX_BIN/kvmx-touch 200 /tmp/t.ready >/dev/null 2>&1 &" \
		'i=0; while [ ! -e /tmp/t.ready ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done' >/dev/null
done
pa=$(guest_pid sa)
pb=$(guest_pid sb)
wait_for 10 has_vm_of_pid "$pa"
wait_for 10 has_vm_of_pid "$pb"
va=$(vm_of_pid "$pa")
vb=$(vm_of_pid "$pb")
min=$((48 << 20))
for v in $va $vb; do echo $min >"$KVMX_SYS/vms/$v/idle_tax/min_bytes"; done
echo 2000 >"$KVMX_SYS/vms/$va/idle_tax/shares"
echo 1000 >"$KVMX_SYS/vms/$vb/idle_tax/shares"
max=$(itax "$va" max_bytes)
pool=$((420 << 20))
echo $pool >$ITAX/pool_bytes

# Watch the targets for 30 s; every reading must respect the limits.
bad=0
for i in $(seq 1 30); do
	for v in $va $vb; do
		t=$(itax "$v" target_bytes)
		if [ "$t" -lt $min ] || [ "$t" -gt "$max" ]; then
			bad=$((bad + 1))
			diag "target $t of $v outside [$min, $max]"
		fi
	done
	sleep 1
done
ta=$(itax "$va" target_bytes)
tb=$(itax "$vb" target_bytes)
diag "f: $(itax "$va" active_permille) and $(itax "$vb" active_permille) per mille;" \
	"targets $(mib "$ta") and $(mib "$tb") MiB; resident $(mib "$(itax "$va" resident_bytes)")" \
	"and $(mib "$(itax "$vb" resident_bytes)") MiB"
check "no target left [min, max] in 60 readings ($bad)" test $bad = 0
check "the targets use the pool" test $((ta + tb)) -le $pool -a $((ta + tb)) -ge $((pool - (8 << 20)))
diag "split $(awk -v a=$ta -v b=$tb 'BEGIN { printf "%.3f", a / b }'):1;" \
	"off the 2:1 split by $(awk -v a=$ta -v p=$pool -v m=$min 'BEGIN { d = a - 2 * p / 3; if (d < 0) d = -d; printf "%.1f", 100 * d / (p - 2 * m) }')% of the reclaimable pool"
check "shares 2:1 give a 2:1 split within 10%" \
	awk -v a=$ta -v b=$tb 'BEGIN { exit !(a / b >= 1.8 && a / b <= 2.2) }'

# A max below its share binds; the other guest gets the rest.
echo $((150 << 20)) >"$KVMX_SYS/vms/$va/idle_tax/max_bytes"
_capped() { [ "$(itax "$va" target_bytes)" = $((150 << 20)) ]; }
check "a max of 150 MiB caps the larger share" wait_for 10 _capped
tb=$(itax "$vb" target_bytes)
check "the other guest gets the rest ($(mib "$tb") MiB)" \
	test "$tb" -ge $((pool - (150 << 20) - (4 << 20))) -a "$tb" -le $((pool - (150 << 20)))
echo 0 >$ITAX/pool_bytes
echo 0.75 >$ITAX/tax_rate
guest stop sa
guest stop sb
check "idle_tax unloads" rmmod idle_tax
check "kvmx_core unloads" rmmod kvmx_core
zram_swap_off
thp_restore
tap_done
