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
#
# Smart scan makes the pass count depend on when a page is written: a page
# first scanned in pass 0 is looked at in passes 0, 1, 2, 3, 5, 8, 13, 22,
# 31, 40, 49, ... (its age, one more each pass, sets how many passes it
# skips), and a page that changed needs two looks before KSM lets it into
# its trees. A write that lands just before a look merges 9 passes sooner
# than one just after it, and a faster ksmd reaches the page sooner in the
# pass. So the 'ksm' and 'aged' writes are made with ksmd stopped, in a
# pass in which no page of the stand-ins is looked at (32 to 39), and
# every configuration merges in the same pass as stock unless the filter
# or a key holds a page back for a look: that costs 9 passes.
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
declare -A pids passes phase first

reseeded() { grep -q RESEEDED /tmp/si-$1.ready; }
# ksm_passes_since F0 N: N passes have ended since full_scans was F0.
ksm_passes_since() { [ $(($(ksm_stat full_scans) - $1)) -ge "$2" ]; }
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
	f0=$(ksm_stat full_scans)
	ksm_start 4000 10
	wait_for 300 shares a1 a2
	first[$cfg]=$(($(ksm_stat full_scans) - f0))
	# Age everything, then write in a pass without looks: 32 + 9k.
	aim=32
	while :; do
		wait_for 300 ksm_passes_since "$f0" "$aim"
		echo 0 >"$KSM/run"
		at=$(($(ksm_stat full_scans) - f0))
		[ "$at" -le $((aim + 5)) ] && break
		echo 1 >"$KSM/run"
		aim=$((aim + 9 * ((at - aim + 8) / 9)))
	done
	phase[$cfg]=$at
	kill -USR2 "${pids[k]}" "${pids[t]}"
	wait_for 60 reseeded k
	wait_for 60 reseeded t
	echo 1 >"$KSM/run"
	# Both timings at once, counted from the same pass.
	s0=$(ksm_stat full_scans)
	passes[$cfg,ksm]=
	passes[$cfg,aged]=
	trace=
	while :; do
		read -r n <"$KSM/full_scans"
		n=$((n - s0))
		read -r mk <"/proc/${pids[k]}/ksm_merging_pages"
		read -r mt <"/proc/${pids[t]}/ksm_merging_pages"
		trace="$trace $n:$mk/$mt"
		[ -z "${passes[$cfg,ksm]}" ] && [ "$mk" -ge $((PAGES * 9 / 10)) ] && passes[$cfg,ksm]=$n
		[ -z "${passes[$cfg,aged]}" ] && [ "$mt" -ge $((PAGES * 9 / 10)) ] && passes[$cfg,aged]=$n
		[ -n "${passes[$cfg,ksm]}" ] && [ -n "${passes[$cfg,aged]}" ] && break
		if [ "$n" -ge 60 ]; then
			passes[$cfg,ksm]=${passes[$cfg,ksm]:-60+}
			passes[$cfg,aged]=${passes[$cfg,aged]:-60+}
			break
		fi
		sleep 0.05
	done
	diag "$(echo $trace | tr ' ' '\n' | uniq -f0 | tr '\n' ' ')"
	standin_start n 0 $FILL --seed 7
	passes[$cfg,late]=$(passes_until 60 a1 n)
	for n in a1 a2 k o t n; do
		standin_stop "$n" || bad=$((bad + 1))
	done
	diag "$cfg: a1 and a2 shared after pass ${first[$cfg]}, written" \
		"after pass ${phase[$cfg]}; passes to 90% sharing:" \
		"ksm ${passes[$cfg,ksm]}, aged ${passes[$cfg,aged]}," \
		"late ${passes[$cfg,late]}" \
		"(unique_volatile $(hook_stat unique_volatile))"
done
echo 0 >"$KSM/run"

# 'ksm' and 'aged': as many passes as stock, give or take the 5 that the
# polling of the pages' state may miss (a pass takes about 0.15 s here,
# more in the debug host); a page held back for one more look costs 9. 'late': pages of a VM that
# just started are looked at in every pass, within a quarter of stock's
# passes plus one for the pass in flight. Stock may be faster by luck: a
# page that changes after its scan stays in that pass's unstable tree with
# its new content, and its twin finds it there at once; a held page is not
# in the tree to be found.
as_stock() {
	local v=${passes[$1,$2]} s=${passes[stock,$2]}
	case "$v$s" in *+*) return 1 ;; esac
	if [ "$2" = late ]; then
		[ $((4 * v)) -le $((5 * s + 4)) ]
	else
		[ "$v" -le $((s + 5)) ]
	fi
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
