#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Many guests started and stopped one after another with kvmx_core loaded:
# a long run of the attach, detach and VM-teardown paths
# that make test only walks 20 times. KVMX_STRESS_CYCLES sets the count.
# kvmx-timeout: 3000
. "$(dirname "$0")/../lib/tap.sh"

cycles=${KVMX_STRESS_CYCLES:-150}
tap_plan 3
kvmx_unload_all
check "kvmx_core loads" kvmx_load_core
bad=0
t_start=$(ms_now)
for i in $(seq 1 "$cycles"); do
	t0=$(ms_now)
	if ! guest start s$i --mem 128 >/dev/null; then
		diag "cycle $i: guest did not start"
		bad=$((bad + 1))
		guest stop s$i --kill >/dev/null 2>&1
		continue
	fi
	pid=$(guest_pid s$i)
	wait_for 5 has_vm_of_pid "$pid" || { diag "cycle $i: not attached"; bad=$((bad + 1)); }
	if [ $((i % 2)) -eq 0 ]; then
		guest stop s$i
	else
		guest stop s$i --kill
	fi
	wait_for 5 no_vm_of_pid "$pid" || { diag "cycle $i: entry stayed"; bad=$((bad + 1)); }
	diag "cycle $i: $(($(ms_now) - t0)) ms"
done
check "$cycles guests started and stopped with no error ($bad)" test $bad = 0
diag "$(((($(ms_now) - t_start) / cycles))) ms per cycle"
check "kvmx_core unloads" rmmod kvmx_core
tap_done
