#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# idle_tax knobs: defaults, every bad value gets a clear errno (every
# writable file form by form: decimal only, a leading zero still decimal,
# one optional newline, no sign, base prefix, blank or NUL; sizes with K,
# M, G or T on the *_bytes files; tax_rate a fraction with at most three
# decimals), limits hold
# when the pool cannot cover the minimums, and the module unloads and loads
# again while guests run.
# kvmx-timeout: 300
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 296
kvmx_unload_all
check "kvmx_core and idle_tax load" kvmx_load_idle_tax
expect "global defaults" \
	"$(cat $ITAX/tax_rate) $(cat $ITAX/period_ms) $(cat $ITAX/sample_pages) $(cat $ITAX/interval_ms) $(cat $ITAX/pool_bytes) $(cat $ITAX/pageout) $(cat $ITAX/sample_view)" \
	"0.750 30000 100 1000 0 auto auto"

expect_errno "tax_rate 1" ERANGE $ITAX/tax_rate 1
expect_errno "tax_rate 1.0" ERANGE $ITAX/tax_rate 1.0
expect_errno "tax_rate 7" ERANGE $ITAX/tax_rate 7
expect_errno "tax_rate -0.25" EINVAL $ITAX/tax_rate -0.25
expect_errno "tax_rate 'lots'" EINVAL $ITAX/tax_rate lots
expect_errno "tax_rate 0.7501 (finer than 0.001)" EINVAL $ITAX/tax_rate 0.7501
expect_errno "tax_rate newline only" EINVAL $ITAX/tax_rate $'\n'
expect_errno "tax_rate 0" OK $ITAX/tax_rate 0
expect "tax_rate reads back" "$(cat $ITAX/tax_rate)" "0.000"
expect_errno "tax_rate .5" OK $ITAX/tax_rate .5
expect "tax_rate reads back" "$(cat $ITAX/tax_rate)" "0.500"
echo 0.75 >$ITAX/tax_rate
expect_errno "period_ms 0" EINVAL $ITAX/period_ms 0
expect_errno "period_ms -5" EINVAL $ITAX/period_ms -5
expect_errno "period_ms 99" ERANGE $ITAX/period_ms 99
expect_errno "sample_pages 0" EINVAL $ITAX/sample_pages 0
expect_errno "sample_pages 10001" ERANGE $ITAX/sample_pages 10001
expect_errno "interval_ms 0" EINVAL $ITAX/interval_ms 0
expect_errno "interval_ms 60001" ERANGE $ITAX/interval_ms 60001
expect_errno "pool_bytes -1" EINVAL $ITAX/pool_bytes -1
expect_errno "pool_bytes beyond RAM" ERANGE $ITAX/pool_bytes 1099511627776
expect_errno "pageout 'sometimes'" EINVAL $ITAX/pageout sometimes
expect_errno "sample_view 1g" EINVAL $ITAX/sample_view 1g
expect_errno "pageout_step_bytes 0" EINVAL $ITAX/pageout_step_bytes 0
expect_errno "balloon_grace_ms 600001" ERANGE $ITAX/balloon_grace_ms 600001

expect_forms $ITAX/tax_rate <<EOF
0.75	OK	0.750
0	OK	0.000
.5\n	OK	0.500
00.25	OK	0.250
0.750\n	OK	0.750
0.	EINVAL
0.\n	EINVAL
.	EINVAL
+0.5	EINVAL
-0	EINVAL
0.7500	EINVAL
0.75\0junk	EINVAL
0.75\0	EINVAL
\0400.75	EINVAL
0.75\040	EINVAL
0\040.75	EINVAL
0.75\n\n	EINVAL
0x0.5	EINVAL
0,75	EINVAL
0.5K	EINVAL
1.000	ERANGE
99999999999999999999	ERANGE
EOF
expect_forms $ITAX/period_ms <<EOF
$(plain_forms 30000)
0100	OK	100
08	ERANGE
30000	OK	30000
EOF
expect_forms $ITAX/sample_pages <<EOF
$(plain_forms 100)
010	OK	10
100	OK	100
EOF
expect_forms $ITAX/interval_ms <<EOF
$(plain_forms 1000)
0100	OK	100
1000	OK	1000
EOF
expect_forms $ITAX/balloon_grace_ms <<EOF
$(plain_forms 10000)
0	OK	0
10000	OK	10000
EOF
expect_forms $ITAX/sample_view <<EOF
4k	OK	4k
2m\n	OK	2m
auto	OK	auto
auto\0junk	EINVAL
auto\040	EINVAL
\040auto	EINVAL
AUTO	EINVAL
4K	EINVAL
aut	EINVAL
auto\n\n	EINVAL
EOF
expect_forms $ITAX/pageout <<EOF
off	OK	off
auto\n	OK	auto
auto\0junk	EINVAL
off\040	EINVAL
Auto	EINVAL
of	EINVAL
auto\n\n	EINVAL
EOF
# Sizes: K, M, G and T (or k, m, g, t) are binary multiples.
expect_forms $ITAX/pool_bytes <<EOF
$(number_forms 0)
64M	OK	67108864
64m\n	OK	67108864
1G	OK	1073741824
1g\n	OK	1073741824
4K	OK	4096
4k	OK	4096
010M	OK	10485760
1T	ERANGE
16777216T	ERANGE
M	EINVAL
64MB	EINVAL
64KiB	EINVAL
64\040M	EINVAL
64M\040	EINVAL
64M\0	EINVAL
64M\0junk	EINVAL
1P	EINVAL
1.5G	EINVAL
+64M	EINVAL
0x40M	EINVAL
0	OK	0
EOF
expect_forms $ITAX/pageout_step_bytes <<EOF
$(number_forms 67108864)
2M	OK	2097152
2048k	OK	2097152
16G	OK	17179869184
16385M	ERANGE
1M	ERANGE
0K	EINVAL
64MB	EINVAL
64M\0junk	EINVAL
64M	OK	67108864
EOF
echo 500 >$ITAX/period_ms
expect "period_ms reaches the sampler" "$(cat $KVMX_SYS/sampler/period_ms)" 500

guest start k1 --mem 256 >/dev/null
pid=$(guest_pid k1)
wait_for 10 has_vm_of_pid "$pid"
vm=$(vm_of_pid "$pid")
d=$KVMX_SYS/vms/$vm/idle_tax
size=$(cat "$KVMX_SYS/vms/$vm/memory_bytes")
expect "per-VM defaults" "$(itax $vm shares) $(itax $vm min_bytes) $(itax $vm max_bytes)" \
	"1000 0 $size"
expect_forms $d/shares "$vm shares" <<EOF
$(plain_forms 1000)
01000000	OK	1000000
1000	OK	1000
EOF
expect_forms $d/max_bytes "$vm max_bytes" <<EOF
128M	OK	134217728
131072K	OK	134217728
1G	ERANGE
1T	ERANGE
64MB	EINVAL
128M\0junk	EINVAL
$(number_forms "$size")
EOF
expect_forms $d/min_bytes "$vm min_bytes" <<EOF
32M	OK	33554432
4k\n	OK	4096
1G	ERANGE
+4096	EINVAL
0x1000	EINVAL
4096\0junk	EINVAL
64MB	EINVAL
$(number_forms 0)
EOF
expect_forms $d/balloon_actual_bytes "$vm balloon_actual_bytes" <<EOF
128M	OK	134217728
1T	ERANGE
128MB	EINVAL
128M\0junk	EINVAL
$(number_forms 0)
EOF
expect_errno "shares 0" EINVAL $d/shares 0
expect_errno "shares -3" EINVAL $d/shares -3
expect_errno "shares 1000001" ERANGE $d/shares 1000001
expect_errno "shares 2^70" ERANGE $d/shares 1180591620717411303424
expect_errno "shares 'many'" EINVAL $d/shares many
expect_errno "max_bytes above the VM's size" ERANGE $d/max_bytes $((size + 4096))
expect_errno "min_bytes above the VM's size" ERANGE $d/min_bytes $((size * 2))
expect_errno "max_bytes 0 (no page fits)" EINVAL $d/max_bytes 0
echo $((128 << 20)) >$d/max_bytes
expect_errno "min_bytes above max_bytes" EINVAL $d/min_bytes $((200 << 20))

echo $((64 << 20)) >$d/min_bytes
expect_errno "max_bytes below min_bytes" EINVAL $d/max_bytes $((32 << 20))
expect_errno "min_bytes -1" EINVAL $d/min_bytes -1
expect_errno "balloon_actual_bytes above the VM's size" ERANGE $d/balloon_actual_bytes $((size + 1))

# A pool smaller than the minimums: every VM gets exactly its min.
guest start k2 --mem 256 >/dev/null
pid2=$(guest_pid k2)
wait_for 10 has_vm_of_pid "$pid2"
vm2=$(vm_of_pid "$pid2")
echo $((96 << 20)) >"$KVMX_SYS/vms/$vm2/idle_tax/min_bytes"
echo $((100 << 20)) >$ITAX/pool_bytes
_at_min() { [ "$(itax $vm target_bytes)" = $((64 << 20)) ] && [ "$(itax $vm2 target_bytes)" = $((96 << 20)) ]; }
check "pool below the sum of mins: targets are the mins" wait_for 10 _at_min
# A roomy pool: nobody gets more than max.
echo $((1 << 30)) >$ITAX/pool_bytes
_at_max() { [ "$(itax $vm target_bytes)" = $((128 << 20)) ] && [ "$(itax $vm2 target_bytes)" = "$size" ]; }
check "pool above the sum of maxes: targets are the maxes" wait_for 10 _at_max
echo 0 >$ITAX/pool_bytes
check "rho is shown" grep -q '^[0-9]*\.[0-9][0-9][0-9]$\|^inf$' $d/rho

check "idle_tax unloads while guests run" rmmod idle_tax
check "no idle_tax directory left on the VM" test ! -e "$d"
check "idle_tax loads again with guests running" insmod "$KVMX_DIR/idle_tax/idle_tax.ko"
expect "a new load starts from defaults" "$(itax $vm shares) $(itax $vm max_bytes)" "1000 $size"
guest stop k1
guest stop k2
check "idle_tax unloads" rmmod idle_tax
check "kvmx_core unloads" rmmod kvmx_core
tap_done
