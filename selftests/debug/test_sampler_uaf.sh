#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The access sampler under a debug kernel boot (slub_debug=FZP, KFENCE on
# every allocation): period 100 ms, 10,000 pages, four guests faulting over
# 128 MiB each, for a minute. Each period retires the sample sets of the
# last and publishes new ones while KVM's fault tracepoint marks them: a
# set freed while the published table still points to it shows as
# "Poison overwritten" within seconds (set_bit() into a freed bitmap).
# Needs the debug boot (make vmtest-debug); skips otherwise.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

grep -qw 'slub_debug=FZP' /proc/cmdline ||
	skip_all "needs the debug boot of the test host (make vmtest-debug)"
S=$KVMX_SYS/sampler
tap_plan 6
kvmx_unload_all
check "kvmx_core loads" kvmx_load_core
thp_set never
for g in u1 u2 u3 u4; do
	guest start $g --mem 256 >/dev/null
done
attached=0
for g in u1 u2 u3 u4; do
	p=$(guest_pid $g)
	wait_for 10 has_vm_of_pid "$p" && attached=$((attached + 1))
done
expect "four guests attached" $attached 4
echo 100 >$S/period_ms
echo 10000 >$S/pages
echo 1 >$S/enabled
for g in u1 u2 u3 u4; do
	guest run $g -- "/host$KVMX_BIN/kvmx-touch 128 /tmp/touch.ready >/dev/null 2>&1 &" >/dev/null
done
z0=$(awk '$1 == "zapped" { print $2 }' $S/stats)
sleep 60
z1=$(awk '$1 == "zapped" { print $2 }' $S/stats)
diag "sampler: $(tr "\n" " " <$S/stats)"
check "the sampler zapped and watched pages all along ($z0 -> $z1)" \
	test "${z1:-0}" -gt "${z0:-0}"
echo 0 >$S/enabled
check "no slab corruption or KFENCE report" \
	eval '! dmesg | grep -qE "Poison overwritten|Redzone overwritten|KFENCE: |Object padding"'
for g in u1 u2 u3 u4; do
	guest stop $g
done
check "kvmx_core unloads" rmmod kvmx_core
# Lazy RCU (rcu_nocbs in the debug boot) holds callbacks for seconds: an
# unload without rcu_barrier() leaves them to run in freed module text.
sleep 12
check "nothing ran in the unloaded module's memory" \
	eval '! dmesg | grep -qE "BUG: unable to handle|Oops"'
thp_restore
tap_done
