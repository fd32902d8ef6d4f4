#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# idle_tax benchmark, inside the test host: Waldspurger's idle-memory tax
# experiment (OSDI 2002, section 5.3). Two guests with equal shares share a
# constrained pool of memory (pool_bytes) over zram swap, with page-out as
# the only reclamation (no balloon devices). Guest "idle" fills 400 MiB and
# then idles; guest "active" keeps touching a 380 MiB working set, more
# than its equal share. The run is repeated with tax rates 0 and 0.75,
# each with fresh guests. Records go to /kvmx-out/idle_tax/; report.py
# writes the JSON and the plot.
# kvmx-timeout: 3000
. "$(dirname "$0")/../../selftests/lib/tap.sh"

TAUS=${ITAX_BENCH_TAUS:-"0 0.75"}
SECONDS_RUN=${ITAX_BENCH_SECONDS:-240}
GUEST_MIB=512
IDLE_MIB=400
WS_MIB=380
POOL=$((700 << 20))
out=/kvmx-out/idle_tax
mkdir -p "$out"
: >"$out/runs.jsonl"
echo "tau,t,guest,target,resident,active_permille" >"$out/samples.csv"

ntau=$(echo $TAUS | wc -w)
tap_plan $((3 * ntau + 2))
kvmx_unload_all
thp_set never
zram_swap_on 3072 || { not_ok "zram swap"; tap_done; }
check "kvmx_core and idle_tax load" kvmx_load_idle_tax
echo 2000 >$ITAX/period_ms
echo 300 >$ITAX/sample_pages
majflt() { awk '{ print $12 }' "/proc/$1/stat"; }

run_tau() {
	local tau=$1 pi pa vi va t0 now mf0 mf1 tput i
	echo 0 >$ITAX/pool_bytes
	echo "$tau" >$ITAX/tax_rate
	guest start idle --mem $GUEST_MIB >/dev/null
	guest start active --mem $GUEST_MIB >/dev/null
	pi=$(guest_pid idle)
	pa=$(guest_pid active)
	wait_for 10 has_vm_of_pid "$pi"
	wait_for 10 has_vm_of_pid "$pa"
	vi=$(vm_of_pid "$pi")
	va=$(vm_of_pid "$pa")
	fill_start idle ${IDLE_MIB}M unique 9 >/dev/null
	guest run active -- "/host$KVMX_BIN/kvmx-touch $WS_MIB /tmp/t.ready $SECONDS_RUN >/tmp/t.out 2>&1 &" \
		'i=0; while [ ! -e /tmp/t.ready ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done' >/dev/null
	# Let the sampler see both guests for a few periods, then constrain.
	sleep 10
	echo $POOL >$ITAX/pool_bytes
	t0=$(ms_now)
	mf0=$(majflt "$pa")
	while :; do
		now=$((($(ms_now) - t0) / 1000))
		[ $now -ge $SECONDS_RUN ] && break
		for g in idle:$vi active:$va; do
			v=${g#*:}
			echo "$tau,$now,${g%%:*},$(itax "$v" target_bytes),$(itax "$v" resident_bytes),$(itax "$v" active_permille)" >>"$out/samples.csv"
		done
		sleep 2
	done
	mf1=$(majflt "$pa")
	tput=
	for i in $(seq 1 60); do
		tput=$(guest run active -- 'cat /tmp/t.out' | awk '$1 == "pages_per_sec" { print $2 }')
		[ -n "$tput" ] && break
		sleep 2
	done
	diag "tau $tau: idle target $(mib "$(itax "$vi" target_bytes)") MiB (f $(itax "$vi" active_permille)‰)," \
		"active target $(mib "$(itax "$va" target_bytes)") MiB (f $(itax "$va" active_permille)‰)," \
		"active: $tput pages/s, $((mf1 - mf0)) major faults"
	check "tau $tau: the active guest reports its throughput" test -n "$tput"
	out_v=$(fill_verify idle)
	check "tau $tau: the idle guest's data verifies after page-out" \
		test -n "$(echo "$out_v" | grep 'mismatches=0 ')"
	echo "{\"tau\": $tau, \"seconds\": $SECONDS_RUN, \"pool_bytes\": $POOL," \
		"\"active_throughput\": ${tput:-0}, \"active_major_faults\": $((mf1 - mf0))," \
		"\"idle_reclaimed_bytes\": $(itax "$vi" reclaimed_bytes)," \
		"\"active_reclaimed_bytes\": $(itax "$va" reclaimed_bytes)}" >>"$out/runs.jsonl"
	ok "tau $tau: run recorded"
	echo 0 >$ITAX/pool_bytes
	guest stop idle
	guest stop active
}

for tau in $TAUS; do
	run_tau "$tau"
done
check "idle_tax unloads" rmmod idle_tax
rmmod kvmx_core
zram_swap_off
thp_restore
tap_done
