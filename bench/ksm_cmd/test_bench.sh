#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ksm_cmd benchmark, inside the test host. For workload A (synthetic
# processes standing in for VMs) and workload B (four guests), run stock
# KSM (ksm_cmd unloaded) and each classifier, one after the other in this
# boot, from fully unmerged memory each time, for a fixed number of KSM
# passes. Workload C (six guests sharing memory in pairs and all together)
# and workload D (content that is already merged appears again later)
# compare stock KSM with ksm_cmd's defaults over alternating runs. Raw
# records go to /kvmx-out/ksm_cmd/; report.py makes the JSON and the plots.
# kvmx-timeout: 8400
. "$(dirname "$0")/../../selftests/lib/tap.sh"

# Settings come from the environment or from make bench
# BENCH_ARGS="KSM_BENCH_WORKLOADS=C,D ..."; lists take commas or blanks.
bench_args KSM_BENCH_
list() { echo "$1" | tr ',' ' '; }
WORKLOADS=$(list "${KSM_BENCH_WORKLOADS:-A B C D}")
# Stock runs first and last: guest memory drifts a little over the series,
# and the report compares each configuration with the mean of the two.
# CONFIG+uniq is CONFIG with ksm_cmd's unique-page filter on; the others
# run with it off.
CONFIGS=$(list "${KSM_BENCH_CONFIGS:-"stock none address write_count subpage checksum none+uniq checksum+uniq stock_end"}")
PASSES=${KSM_BENCH_PASSES:-12}
# Workload A rewrites "OS" pages at fixed rates, so its sharing falls with
# wall-clock time whatever ksmd does: every configuration reads it at the
# same time, well after PASSES passes. CPU time, scans and comparisons are
# those of the first PASSES passes.
A_SECONDS=${KSM_BENCH_A_SECONDS:-25}
# C and D: stock and "defaults" (ksm_cmd freshly loaded, no knob written)
# in alternating pairs (ABBA).
C_CONFIGS=$(list "${KSM_BENCH_C_CONFIGS:-"stock defaults defaults stock stock defaults defaults stock"}")
C_PASSES=${KSM_BENCH_C_PASSES:-12}
# C's sharing is read at this time for every run, after C_PASSES passes
# (the defaults' first pass is the slow one: about 100 s, stock's 45 s).
C_SECONDS=${KSM_BENCH_C_SECONDS:-300}
D_CONFIGS=$(list "${KSM_BENCH_D_CONFIGS:-"stock defaults defaults stock"}")
# D: passes before the late write, and passes watched after each write.
# Both writes land in passes in which smart scan looks at none of the
# regions (see workload D below): 9 and 9 + 24.
D_SETTLE=${KSM_BENCH_D_SETTLE:-9}
D_WINDOW=${KSM_BENCH_D_WINDOW:-24}
RUN=0
wants() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }
out=/kvmx-out/ksm_cmd
mkdir -p "$out"
: >"$out/runs.jsonl"
: >"$out/samples.csv"
echo "workload,config,t,pages_sharing,pages_shared,full_scans,run,ksmd_ms,ns_memcmp,ns_checksum" >>"$out/samples.csv"
# D: the merged pages of each guest's QEMU (ksm_merging_pages) over time.
echo "run,config,phase,t,pages_sharing,full_scans,m1,m2,m3" >"$out/d_samples.csv"

ksmd=$(pgrep -x ksmd)
ksmd_ms() { awk '{ print ($14 + $15) * 10 }' "/proc/$ksmd/stat"; }
now_s() { awk '{ print $1 }' /proc/uptime; }
ncfg=$(echo $CONFIGS | wc -w)
nplan=1
wants A && nplan=$((nplan + ncfg + 1))
wants B && nplan=$((nplan + ncfg + 2))
wants C && nplan=$((nplan + $(echo $C_CONFIGS | wc -w) + 1))
wants D && nplan=$((nplan + $(echo $D_CONFIGS | wc -w) + 1))
tap_plan $nplan

kvmx_unload_all
ksm_unmerge_all
check "kvmx_core loads" kvmx_load_core
echo 0 >"$KSM/use_zero_pages"
echo "# KSM: smart_scan=$(ksm_stat smart_scan) max_page_sharing=$(ksm_stat max_page_sharing)"

# Runs without ksm_cmd: stock first and last, and B's warm-up.
is_stock() { case $1 in stock | stock_end | warmup) return 0 ;; esac; return 1; }
all_unmerged() { [ "$(ksm_stat pages_shared)" = 0 ] && [ "$(ksm_stat pages_sharing)" = 0 ]; }

# set_config CONFIG: stock unloads ksm_cmd; "defaults" loads it afresh and
# writes no knob; CONFIG[+uniq] sets that classifier and the filter.
set_config() {
	local cfg=$1
	if is_stock "$cfg"; then
		[ -d /sys/module/ksm_cmd ] && rmmod ksm_cmd
		return 0
	fi
	if [ "$cfg" = defaults ]; then
		# Nothing left from an earlier run: no records, no filter table.
		if [ -d /sys/module/ksm_cmd ]; then rmmod ksm_cmd || return 1; fi
		kvmx_load_ksm_cmd || return 1
	else
		kvmx_load_ksm_cmd || return 1
		echo "${cfg%+uniq}" >"$KVMX_SYS/ksm_cmd/classifier"
		if [ "$cfg" != "${cfg%+uniq}" ]; then
			echo 1 >"$KVMX_SYS/ksm_cmd/unique_filter"
		else
			echo 0 >"$KVMX_SYS/ksm_cmd/unique_filter"
		fi
	fi
	# KSM_BENCH_TIMING=1 clocks the hook (ns_* in the records); that
	# costs CPU itself, so the figures of such a run are not the bench's.
	echo "${KSM_BENCH_TIMING:-0}" >"$KVMX_DBG/ksm_timing"
	echo 1 >"$KVMX_DBG/ksm_reset"
}

# hook_json: the hook's counters as JSON members ", \"hook_NAME\": N".
hook_json() {
	local k st
	# One read, so that the counters agree.
	st=$(cat "$KVMX_DBG/ksm_stats")
	for k in calls compares bytes key_settled merges checksums checksums_vm \
		 key_cache_hits kpages_unknown unknown_anon nomem unique_volatile \
		 content_keys unique_resizes unique_warmup ns_memcmp ns_content \
		 ns_checksum ns_hash; do
		printf ', "hook_%s": %s' $k "$(awk -v k=$k '$1 == k { print $2 }' <<<"$st")"
	done
}

# ns_json: the hook's clock (ksm_timing), "ns_memcmp,ns_checksum", or ",".
ns_json() {
	[ "${KSM_BENCH_TIMING:-0}" = 1 ] && ! is_stock "$cfg" || { echo ,; return; }
	awk '$1 == "ns_memcmp" { m = $2 } $1 == "ns_checksum" { c = $2 }
	     END { print m "," c }' "$KVMX_DBG/ksm_stats"
}

# knob_json: what ksm_cmd's knobs read (for "defaults", what it comes with).
knob_json() {
	printf ', "classifier": "%s", "unique_filter": %s' \
		"$(cat "$KVMX_SYS/ksm_cmd/classifier")" \
		"$(cat "$KVMX_SYS/ksm_cmd/unique_filter")"
}

# run_config WORKLOAD CONFIG [SECONDS [PASSES]]: one measured run of PASSES
# passes (default $PASSES); pages_sharing is read at SECONDS if that is
# later. The record and the samples carry $RUN.
run_config() {
	local w=$1 cfg=$2 min_s=${3:-0} np=${4:-$PASSES} t0 cpu0 scan0 full0 full t s=
	echo 2 >"$KSM/run"
	wait_for 120 all_unmerged || { not_ok "$w/$cfg: unmerge"; return; }
	set_config "$cfg" || { not_ok "$w/$cfg: load"; return; }
	sync
	echo 3 >/proc/sys/vm/drop_caches
	cpu0=$(ksmd_ms)
	scan0=$(ksm_stat pages_scanned)
	full0=$(ksm_stat full_scans)
	t0=$(now_s)
	ksm_start 4000 10
	prof_start "$w" "$cfg"
	while :; do
		sleep 0.5
		full=$(ksm_stat full_scans)
		prof_stop $((full - full0))
		t=$(awk -v a="$(now_s)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
		echo "$w,$cfg,$t,$(ksm_stat pages_sharing),$(ksm_stat pages_shared),$((full - full0)),$RUN,$(($(ksmd_ms) - cpu0)),$(ns_json)" >>"$out/samples.csv"
		if [ -z "$s" ] && [ $((full - full0)) -ge "$np" ]; then
			s="{\"workload\": \"$w\", \"config\": \"$cfg\", \"run\": $RUN, \"seconds\": $t"
			s="$s, \"passes\": $((full - full0))"
			s="$s, \"pages_scanned\": $(($(ksm_stat pages_scanned) - scan0))"
			s="$s, \"ksmd_cpu_ms\": $(($(ksmd_ms) - cpu0))"
			is_stock "$cfg" || s="$s$(hook_json)"
		fi
		[ -n "$s" ] && awk -v t="$t" -v m="$min_s" 'BEGIN { exit !(t >= m) }' && break
		awk -v t="$t" 'BEGIN { exit !(t > 1500) }' && break
	done
	[ -n "$s" ] || s="{\"workload\": \"$w\", \"config\": \"$cfg\", \"run\": $RUN, \"seconds\": $t, \"passes\": $((full - full0)), \"pages_scanned\": 0, \"ksmd_cpu_ms\": 0"
	s="$s, \"sharing_at_s\": $t"
	s="$s, \"pages_sharing\": $(ksm_stat pages_sharing)"
	s="$s, \"pages_shared\": $(ksm_stat pages_shared)"
	echo 0 >"$KSM/run"
	if ! is_stock "$cfg"; then
		s="$s, \"metadata_bytes\": $(cat "$KVMX_SYS/ksm_cmd/metadata_bytes")"
		s="$s, \"tracked_pages\": $(cat "$KVMX_SYS/ksm_cmd/tracked_pages")"
		s="$s, \"unique_table_bytes\": $(hook_stat unique_table_bytes)"
		s="$s$(knob_json)"
	fi
	echo "$s}" >>"$out/runs.jsonl"
	ok "$w/$cfg: $(tail -1 "$out/runs.jsonl")"
}

attach_pid() { echo "$1" >"$KVMX_SYS/attach"; }

# KSM_BENCH_PROFILE=N: profile ksmd with perf over the first N passes of
# every run; the report goes to perf.RUN.WORKLOAD.CONFIG.txt beside the
# records. The sampling costs ksmd CPU itself: such runs are not the bench's.
prof_pid=
prof_start() {
	[ -n "${KSM_BENCH_PROFILE:-}" ] || return 0
	prof_data=$out/perf.$RUN.$1.$2
	# perf finds no vmlinux here: the symbols come from this boot.
	cp /proc/kallsyms "$prof_data.kallsyms"
	perf record -q -e cpu-clock -F 499 -g -p "$ksmd" -o "$prof_data.data" \
		>/dev/null 2>&1 &
	prof_pid=$!
}
prof_stop() {
	[ -n "$prof_pid" ] && [ "$1" -ge "$KSM_BENCH_PROFILE" ] || return 0
	kill -INT "$prof_pid"
	wait "$prof_pid"
	prof_pid=
	perf report -q -i "$prof_data.data" --kallsyms="$prof_data.kallsyms" \
		--no-children --sort sym --stdio -g none >"$prof_data.txt" 2>&1
	perf report -q -i "$prof_data.data" --kallsyms="$prof_data.kallsyms" \
		--children --sort sym --stdio -g none --percent-limit 1 \
		>"$prof_data.children.txt" 2>&1
	rm -f "$prof_data.data"
}

# --- workload A: four processes standing in for VMs ----------------------
# Each is a KVM VM without vCPUs whose memslot is its 48 MiB: 20% zero,
# 40% "OS" pages identical across the four, 40% unique; three of them keep
# rewriting part of their memory, with different rates and sub-page extents.
a_opts=("--rewrite-rate 200 --rewrite-frac 10 --subpage 1"
	"--rewrite-rate 50 --rewrite-frac 20 --subpage 8"
	"--rewrite-rate 400 --rewrite-frac 5 --subpage 64"
	"")
badA=0
# Fresh processes for every configuration: rewrites make memory drift
# apart over time, so every run starts from the same contents.
start_A() {
	local i
	fillA=()
	rm -f /tmp/fillA*.ready
	for i in 0 1 2 3; do
		"$KVMX_BIN/kvmx-fill" hold --size 48M --pattern mixed:20,40,40 \
			--seed $((100 + i)) --mergeable --kvm --nothp ${a_opts[$i]} \
			--ready-file /tmp/fillA$i.ready --status-file /tmp/fillA$i.status \
			>/tmp/fillA$i.log 2>&1 &
		fillA+=($!)
	done
	wait_for 120 readyA
	for p in "${fillA[@]}"; do attach_pid "$p"; done
}
stop_A() {
	local i
	for i in 0 1 2 3; do
		kill -TERM "${fillA[$i]}"
		wait "${fillA[$i]}"
		grep -q "mismatches=0 " /tmp/fillA$i.status || badA=$((badA + 1))
	done
}
readyA() { for i in 0 1 2 3; do [ -e /tmp/fillA$i.ready ] || return 1; done; }
workload_A() {
	local cfg
	for cfg in $CONFIGS; do
		echo 2 >"$KSM/run"
		start_A
		diag "workload A: $(vm_count) stand-in VMs attached"
		run_config A "$cfg" "$A_SECONDS"
		stop_A
	done
	check "workload A: every page verifies after every run ($badA bad)" test $badA = 0
}

# --- workload B: four guests booted from the same image -----------------
# Each copies the same 30 MiB of files into its page cache (tmpfs), holds
# 32 MiB of private data (10% zero, 90% unique) and rewrites a quarter of
# it, 4 of 64 blocks per page, at 100 pages/s.
workload_B() {
	local cfg i o
	for i in 1 2 3 4; do
		guest start b$i --mem 256 >/dev/null
		guest run b$i -- "cat /host/usr/bin/qemu-system-x86_64 /host/boot/vmlinuz-$(uname -r) > /tmp/files"
	done
	diag "workload B: $(vm_count) guests attached"
	# QEMU backs guest RAM with transparent huge pages, and KSM splits them as
	# it merges: the first run over fresh guests would do work that later runs
	# find done. THP goes off (khugepaged then collapses nothing back) and a
	# stock run that is not reported ("warmup") splits what the guests have.
	thp_set never
	badB=0
	for cfg in warmup $CONFIGS; do
		echo 2 >"$KSM/run"
		for i in 1 2 3 4; do
			guest run b$i -- "rm -f /tmp/fill.ready" >/dev/null
			fill_start b$i 32M mixed:10,0,90 $((200 + i)) --rewrite-rate 100 \
				--rewrite-frac 25 --subpage 4 >/dev/null
		done
		run_config B "$cfg"
		for i in 1 2 3 4; do
			o=$(fill_verify b$i) || badB=$((badB + 1))
			guest run b$i -- 'kill $(pidof kvmx-fill); sleep 0.5' >/dev/null
		done
		diag "B/$cfg verified: $o"
	done
	check "workload B: every guest's memory verifies after every run ($badB bad)" test $badB = 0
	for i in 1 2 3 4; do guest stop b$i; done
	thp_restore
}

# --- guests holding several kvmx-fill regions ----------------------------
# gfill_start NAME SPEC...: in guest NAME, one kvmx-fill per SPEC, "TAG SIZE
# PATTERN SEED [options]", with its files /tmp/TAG.{pid,ready,status,log};
# prints the READY lines once all are ready. Equal seeds give equal pages
# in every guest ("unique" pages differ between seeds and within one).
gfill_start() {
	local g=$1 spec tag size pat seed opts c= tags=
	shift
	for spec in "$@"; do
		read -r tag size pat seed opts <<<"$spec"
		tags="$tags $tag"
		c="$c rm -f /tmp/$tag.ready /tmp/$tag.status;"
		c="$c /host$KVMX_BIN/kvmx-fill hold --size $size --pattern $pat"
		c="$c --seed $seed --ready-file /tmp/$tag.ready"
		c="$c --status-file /tmp/$tag.status $opts >/tmp/$tag.log 2>&1 &"
		c="$c echo \$! >/tmp/$tag.pid;"
	done
	guest run "$g" -- "$c i=0; for t in $tags; do" \
		"while [ ! -e /tmp/\$t.ready ] && [ \$i -lt 1200 ]; do" \
		"sleep 0.1; i=\$((i+1)); done; cat /tmp/\$t.ready; done"
}
# gfill_verify NAME TAG...: verify those regions of guest NAME now; prints
# one VERIFY line per region and fails unless all have no mismatch.
gfill_verify() {
	local g=$1 out
	shift
	out=$(guest run "$g" -- "for t in $*; do rm -f /tmp/\$t.status;" \
		"kill -USR1 \$(cat /tmp/\$t.pid); done; i=0; for t in $*; do" \
		"while [ ! -e /tmp/\$t.status ] && [ \$i -lt 1200 ]; do" \
		"sleep 0.1; i=\$((i+1)); done;" \
		"echo \"\$t \$(cat /tmp/\$t.status 2>/dev/null)\"; done")
	echo "$out"
	[ "$(grep -c " VERIFY .* mismatches=0 " <<<"$out")" -eq $# ]
}
# gfill_stop NAME TAG...: end those kvmx-fill processes of guest NAME.
gfill_stop() {
	local g=$1
	shift
	guest run "$g" -- "for t in $*; do p=\$(cat /tmp/\$t.pid); kill \$p; i=0;" \
		"while kill -0 \$p 2>/dev/null && [ \$i -lt 600 ]; do sleep 0.1;" \
		"i=\$((i+1)); done; done" >/dev/null
}
# gfill_reseed NAME TAG: rewrite region TAG of guest NAME with the content
# of its --reseed seed; returns once every page is written.
gfill_reseed() {
	guest run "$1" -- "kill -USR2 \$(cat /tmp/$2.pid); i=0;" \
		"while ! grep -q RESEEDED /tmp/$2.ready && [ \$i -lt 2400 ]; do" \
		"sleep 0.05; i=\$((i+1)); done; cat /tmp/$2.ready" |
		grep -q RESEEDED
}
# boot_guests PREFIX N MIB: guests PREFIX1..PREFIXN; fails if one does not.
boot_guests() {
	local i
	for i in $(seq "$2"); do
		guest start "$1$i" --mem "$3" >/dev/null || return 1
	done
}
stop_guests() {
	local i
	for i in $(seq "$2"); do guest stop "$1$i" >/dev/null 2>&1; done
	return 0
}

# --- workload C: six guests sharing in pairs and all together ------------
# Six guests of 192 MiB booted from the same image. Guests 1-2, 3-4 and 5-6
# share 24 MiB within the pair (other content in each pair), all six share
# 8 MiB, each holds 24 MiB of its own and 8 MiB more that it rewrites at
# 200 pages/s, whole pages. The guests boot with THP off, so that no run
# finds huge pages to split, and their kvmx-fill processes live through
# all runs: only the rewritten region changes, and its pages are unique,
# so every run starts from the same sharing (and from fully unmerged
# memory). pages_sharing is read C_SECONDS after ksmd starts.
C_GUESTS=6
C_MIB=192
C_TAGS="cpair call cown cvol"
c_specs() {
	local i=$1
	echo "cpair 24M unique $((300 + (i + 1) / 2))"
	echo "call 8M unique 310"
	echo "cown 24M unique $((320 + i))"
	echo "cvol 8M unique $((330 + i)) --rewrite-rate 200 --rewrite-frac 100"
}
workload_C() {
	local cfg i o why= bad=0 specs
	thp_set never
	echo 2 >"$KSM/run"
	boot_guests c $C_GUESTS $C_MIB || why="a guest did not boot"
	for i in $(seq $C_GUESTS); do
		[ -n "$why" ] && break
		mapfile -t specs <<<"$(c_specs "$i")"
		o=$(gfill_start c$i "${specs[@]}")
		[ "$(grep -c '^READY' <<<"$o")" = 4 ] || why="c$i: kvmx-fill not ready"
	done
	diag "workload C: $(vm_count) guests attached"
	RUN=0
	for cfg in $C_CONFIGS; do
		RUN=$((RUN + 1))
		if [ -n "$why" ]; then
			not_ok "C/$cfg run $RUN: $why"
			bad=$((bad + 1))
			continue
		fi
		run_config C "$cfg" "$C_SECONDS" "$C_PASSES"
		for i in $(seq $C_GUESTS); do
			o=$(gfill_verify c$i $C_TAGS) || bad=$((bad + 1))
			diag "C/$cfg run $RUN c$i: $(echo $o)"
		done
	done
	stop_guests c $C_GUESTS
	thp_restore
	check "workload C: every guest's memory verifies after every run ($bad bad)" test $bad = 0
}

# --- workload D: content that is already merged appears again later -----
# Three guests of 192 MiB, booted once with THP off and attached all along;
# every run starts fresh kvmx-fill processes whose seeds depend on the run,
# so that content of an earlier run, left in freed guest memory, never
# equals this run's. Each region is D_MIB MiB:
#   d1: X, and W (later Y)      d2: X      d3: Z (later X), and V (later Y)
# d1 and d2 merge X. D_SETTLE passes after ksmd starts, d3 rewrites Z,
# aged by then, with X, which is a KSM page already ("ksm"). D_WINDOW
# passes later, d1 and d3 rewrite W and V, aged longer than a dozen passes
# (smart scan looks at them once in 9), with the same new content Y
# ("aged"). For each write: the seconds and passes from the write until
# the writing guest's QEMU has 95% of the region more in ksm_merging_pages
# than just before the write, and how many it has more at the end of the
# window. Every phase lasts the same number of passes for every run,
# counted like the seconds from the moment the write is done.
#
# Each write is made with ksmd stopped, in a pass in which smart scan looks
# at no page of the regions. A page first scanned in pass 0 is looked at in
# passes 0, 1, 2, 3, 5, 8, 13, 22, 31, 40, ..., and one that changed needs
# two looks to merge. Written while ksmd runs in pass 8, a page merges in
# pass 13 if ksmd reaches it after the write, in pass 22 if before: the
# faster ksmd, the later it merges. Written in pass 9 (and 33), every
# configuration's pages merge at their looks in passes 22 (and 49), unless
# something holds them back.
D_MIB=24
D_PAGES=$((D_MIB * 256))
declare -A dpid base grow hit_s hit_p dm
# d_specs GUEST: the regions of dGUEST in run $RUN.
d_specs() {
	local x=$((400 + 100 * RUN)) m=${D_MIB}M
	case $1 in
	1) echo "dx $m unique $x"; echo "dw $m unique $((x + 11)) --reseed $((x + 21))" ;;
	2) echo "dx $m unique $x" ;;
	3) echo "dz $m unique $((x + 31)) --reseed $x"; echo "dv $m unique $((x + 41)) --reseed $((x + 21))" ;;
	esac
}
d_tags() { case $1 in 1) echo dx dw ;; 2) echo dx ;; 3) echo dz dv ;; esac; }
# D samples with builtins only: a fork costs a good part of a second in
# the test host, and the samples should neither take ksmd's CPU nor miss
# the moment. now_cs: uptime in centiseconds; since T0_CS: dt, "S.CC".
d_now() {
	local u _
	read -r u _ </proc/uptime
	now_cs=$((${u%.*} * 100 + 10#${u#*.}))
}
d_since() {
	d_now
	printf -v dt '%d.%02d' $(((now_cs - $1) / 100)) $(((now_cs - $1) % 100))
}
# d_sample PHASE T0_CS FULL0 CFG: one line of d_samples.csv; sets dt, dfull
# and dm[1..3].
d_sample() {
	local i v sharing
	d_since "$2"
	read -r v <"$KSM/full_scans"
	dfull=$((v - $3))
	read -r sharing <"$KSM/pages_sharing"
	for i in 1 2 3; do read -r "dm[$i]" <"/proc/${dpid[$i]}/ksm_merging_pages"; done
	echo "$RUN,$4,$1,$dt,$sharing,$dfull,${dm[1]},${dm[2]},${dm[3]}" >>"$out/d_samples.csv"
}
# d_watch PHASE T0_CS FULL0 PASSES CFG GUEST...: sample every 0.5 s until
# PASSES passes after FULL0; hit_s/hit_p[GUEST]: seconds and passes until
# the guest's merged pages grew by 95% of the region over base[GUEST] (null
# if they did not), grow[GUEST]: by how much they grew at the end.
d_watch() {
	local phase=$1 t0=$2 f0=$3 np=$4 cfg=$5 g
	shift 5
	for g in "$@"; do hit_s[$g]=null; hit_p[$g]=null; done
	while :; do
		sleep 0.5
		d_sample "$phase" "$t0" "$f0" "$cfg"
		for g in "$@"; do
			grow[$g]=$((dm[$g] - base[$g]))
			if [ "${hit_s[$g]}" = null ] &&
			   [ $((100 * grow[$g])) -ge $((95 * D_PAGES)) ]; then
				hit_s[$g]=$dt
				hit_p[$g]=$dfull
			fi
		done
		[ "$dfull" -ge "$np" ] && break
		[ $((now_cs - t0)) -gt 90000 ] && break
	done
}
workload_D() {
	local cfg i o why boot= bad=0 specs s t0 t1 f1 cpu0 scan0 full0 a b now_cs dt
	thp_set never
	echo 2 >"$KSM/run"
	boot_guests d 3 192 || boot="a guest did not boot"
	for i in 1 2 3; do dpid[$i]=$(guest_pid d$i); done
	diag "workload D: $(vm_count) guests attached"
	RUN=0
	for cfg in $D_CONFIGS; do
		RUN=$((RUN + 1))
		echo 2 >"$KSM/run"
		wait_for 120 all_unmerged
		why=$boot
		for i in 1 2 3; do
			[ -n "$why" ] && break
			mapfile -t specs <<<"$(d_specs "$i")"
			o=$(gfill_start d$i "${specs[@]}")
			[ "$(grep -c '^READY' <<<"$o")" = ${#specs[@]} ] || why="d$i: kvmx-fill not ready"
		done
		[ -n "$why" ] || set_config "$cfg" || why="load"
		if [ -n "$why" ]; then
			not_ok "D/$cfg run $RUN: $why"
			bad=$((bad + 1))
			continue
		fi
		sync
		echo 3 >/proc/sys/vm/drop_caches
		cpu0=$(ksmd_ms)
		scan0=$(ksm_stat pages_scanned)
		full0=$(ksm_stat full_scans)
		d_now
		t0=$now_cs
		ksm_start 4000 10
		d_watch settle "$t0" "$full0" "$D_SETTLE" "$cfg"
		s="{\"workload\": \"D\", \"config\": \"$cfg\", \"run\": $RUN"
		s="$s, \"region_pages\": $D_PAGES, \"settle_passes\": $dfull"
		s="$s, \"settle_s\": $dt, \"d2_merged_before\": ${dm[2]}"
		# "ksm": d3 writes X, which d1 and d2 have merged.
		base[3]=${dm[3]}
		echo 0 >"$KSM/run"
		s="$s, \"ksm_write_pass\": $(($(ksm_stat full_scans) - full0))"
		d_now
		t1=$now_cs
		gfill_reseed d3 dz || why="d3: no reseed"
		d_since "$t1"
		s="$s, \"ksm_write_s\": $dt"
		d_now
		t1=$now_cs
		read -r f1 <"$KSM/full_scans"
		echo 1 >"$KSM/run"
		d_watch ksm "$t1" "$f1" "$D_WINDOW" "$cfg" 3
		s="$s, \"ksm_t95_s\": ${hit_s[3]}, \"ksm_t95_passes\": ${hit_p[3]}"
		s="$s, \"ksm_merged\": ${grow[3]}, \"ksm_base\": ${base[3]}"
		# "aged": d1 and d3 write Y over aged content at once.
		base[1]=${dm[1]}
		base[3]=${dm[3]}
		echo 0 >"$KSM/run"
		s="$s, \"aged_write_pass\": $(($(ksm_stat full_scans) - full0))"
		d_now
		t1=$now_cs
		gfill_reseed d1 dw &
		a=$!
		gfill_reseed d3 dv &
		b=$!
		wait $a || why="d1: no reseed"
		wait $b || why="d3: no reseed"
		d_since "$t1"
		s="$s, \"aged_write_s\": $dt"
		d_now
		t1=$now_cs
		read -r f1 <"$KSM/full_scans"
		echo 1 >"$KSM/run"
		d_watch aged "$t1" "$f1" "$D_WINDOW" "$cfg" 1 3
		s="$s, \"aged_t95_s\": ${hit_s[1]}, \"aged_t95_passes\": ${hit_p[1]}"
		s="$s, \"aged_merged\": ${grow[1]}, \"aged_base\": ${base[1]}"
		s="$s, \"aged_t95_s_d3\": ${hit_s[3]}, \"aged_t95_passes_d3\": ${hit_p[3]}"
		s="$s, \"aged_merged_d3\": ${grow[3]}, \"aged_base_d3\": ${base[3]}"
		s="$s, \"passes\": $(($(ksm_stat full_scans) - full0))"
		d_since "$t0"
		s="$s, \"seconds\": $dt"
		s="$s, \"pages_scanned\": $(($(ksm_stat pages_scanned) - scan0))"
		s="$s, \"ksmd_cpu_ms\": $(($(ksmd_ms) - cpu0))"
		s="$s, \"pages_sharing\": $(ksm_stat pages_sharing)"
		s="$s, \"pages_shared\": $(ksm_stat pages_shared)"
		is_stock "$cfg" || s="$s$(hook_json)$(knob_json)"
		echo 0 >"$KSM/run"
		echo "$s}" >>"$out/runs.jsonl"
		if [ -n "$why" ]; then
			not_ok "D/$cfg run $RUN: $why"
			bad=$((bad + 1))
		else
			ok "D/$cfg run $RUN: $s}"
		fi
		for i in 1 2 3; do
			o=$(gfill_verify d$i $(d_tags $i)) || bad=$((bad + 1))
			diag "D/$cfg run $RUN d$i: $(echo $o)"
			gfill_stop d$i $(d_tags $i)
		done
	done
	stop_guests d 3
	thp_restore
	check "workload D: every guest's memory verifies after every run ($bad bad)" test $bad = 0
}

for w in A B C D; do
	wants $w && workload_$w
done

ksm_unmerge_all
kvmx_unload_all
tap_done
