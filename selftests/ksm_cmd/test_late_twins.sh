#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Twins that appear late merge as fast as under stock KSM, under every
# classifier with the unique-page filter on, and with smart scan on (the
# default), in three timings real hosts have:
#   ksm    a VM attached all along writes content that is already a KSM page
#          of two other VMs (an aged page that changes: smart scan scans it
#          once in 9 passes);
#   aged   a VM's page, aged by 30 passes, gains a twin when another
#          VM writes the same content;
#   late   a VM that starts after the others have merged holds their
#          content.
# Speed is counted in KSM passes from the write (or the start) until 90% of
# the pages share, against stock KSM in the same boot. Every page verifies.
# kvmx-timeout: 900
. "$(dirname "$0")/../lib/tap.sh"

CONFIGS="stock none address write_count subpage checksum"
PAGES=2048	# 8 MiB per stand-in
FILL="--size $((PAGES * 4))K --pattern unique"
tap_plan 15
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads" kvmx_load_ksm_cmd
K=$KVMX_SYS/ksm_cmd
echo 0 >"$KSM/use_zero_pages"
smart=$(ksm_stat smart_scan)
echo 1 >"$KSM/smart_scan"
declare -A pids passes

reseeded() { grep -q RESEEDED /tmp/si-$1.ready; }
shares() { [ "$(shared_pages "${pids[$1]}" "${pids[$2]}")" -ge $((PAGES * 9 / 10)) ]; }
# passes_until LIMIT_PASSES A B: KSM passes until A and B share 90%.
passes_until() {
	local s0 n
	s0=$(ksm_stat full_scans)
	while ! shares "$2" "$3"; do
		n=$(($(ksm_stat full_scans) - s0))
		[ "$n" -ge "$1" ] && { echo "$n+"; return; }
		sleep 0.2
	done
	echo $(($(ksm_stat full_scans) - s0))
}

bad=0
for cfg in $CONFIGS; do
	echo 0 >"$KSM/run"
	ksm_unmerge_all
	if [ "$cfg" = stock ]; then
		rmmod ksm_cmd 2>/dev/null
	else
		kvmx_load_ksm_cmd
		echo "$cfg" >$K/classifier
		echo 1 >$K/unique_filter
	fi
	# a1, a2: the same content; k: other content, later a1's; o: alone,
	# aged; t: other content, later o's.
	standin_start a1 0 $FILL --seed 7
	standin_start a2 0 $FILL --seed 7
	standin_start k 0 $FILL --seed 9 --reseed 7
	standin_start o 0 $FILL --seed 11
	standin_start t 0 $FILL --seed 13 --reseed 11
	ksm_start 4000 10
	wait_for 300 shares a1 a2
	# Age everything: after 30 more passes pages are scanned once in 5 to 9.
	ksm_wait_scans 30 300
	kill -USR2 "${pids[k]}" "${pids[t]}"
	wait_for 60 reseeded k
	wait_for 60 reseeded t
	# Both timings at once, counted from the same pass.
	s0=$(ksm_stat full_scans)
	passes[$cfg,ksm]=
	passes[$cfg,aged]=
	while :; do
		n=$(($(ksm_stat full_scans) - s0))
		[ -z "${passes[$cfg,ksm]}" ] && shares a1 k && passes[$cfg,ksm]=$n
		[ -z "${passes[$cfg,aged]}" ] && shares o t && passes[$cfg,aged]=$n
		[ -n "${passes[$cfg,ksm]}" ] && [ -n "${passes[$cfg,aged]}" ] && break
		if [ "$n" -ge 60 ]; then
			passes[$cfg,ksm]=${passes[$cfg,ksm]:-60+}
			passes[$cfg,aged]=${passes[$cfg,aged]:-60+}
			break
		fi
		sleep 0.2
	done
	standin_start n 0 $FILL --seed 7
	passes[$cfg,late]=$(passes_until 60 a1 n)
	for n in a1 a2 k o t n; do
		standin_stop "$n" || bad=$((bad + 1))
	done
	diag "$cfg: passes to 90% sharing: ksm ${passes[$cfg,ksm]}," \
		"aged ${passes[$cfg,aged]}, late ${passes[$cfg,late]}" \
		"(unique_volatile $(hook_stat unique_volatile))"
done
echo 0 >"$KSM/run"

# Within a quarter of stock's passes, plus one for the pass in flight, or
# two smart-scan periods (18 passes): an aged page is scanned once in up to
# 9 passes, and a page that just changed needs two scans before KSM lets it
# into its trees, held or not. Stock is sometimes faster by luck: a page
# that changes after its scan stays in that pass's unstable tree with its
# new content, and its twin finds it there at once; a held page is not in
# the tree to be found.
as_stock() {
	local v=${passes[$1,$2]} s=${passes[stock,$2]}
	case "$v$s" in *+*) return 1 ;; esac
	[ $((4 * v)) -le $((5 * s + 4)) ] || [ "$v" -le 30 ]
}
for w in ksm aged late; do
	check "stock KSM merges the '$w' twins (${passes[stock,$w]} passes)" \
		test -n "${passes[stock,$w]##*+}"
done
for cfg in none address write_count subpage checksum; do
	check "$cfg: content already merged, written again by a VM attached all along (${passes[$cfg,ksm]} passes, stock ${passes[stock,ksm]})" \
		as_stock "$cfg" ksm
	check "$cfg: an aged page that gains a twin (${passes[$cfg,aged]}, stock ${passes[stock,aged]}) and a VM started after the merge (${passes[$cfg,late]}, stock ${passes[stock,late]})" \
		eval 'as_stock "$cfg" aged && as_stock "$cfg" late'
done
expect "every page of every stand-in verifies" $bad 0
echo "$smart" >"$KSM/smart_scan"
kvmx_unload_all
ksm_unmerge_all
tap_done
