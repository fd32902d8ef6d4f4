# SPDX-License-Identifier: GPL-2.0
# TAP 13 helpers for kvmx's shell suites (kselftest conventions: exit 0 when
# every test passed, 1 when one failed, 4 when the whole suite is skipped).

KVMX_DIR=${KVMX_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KVMX_BIN=$KVMX_DIR/build/bin
KVMX_GUEST=$KVMX_DIR/selftests/lib/kvmx-guest
KVMX_SYS=/sys/kernel/kvmx
KVMX_DBG=/sys/kernel/debug/kvmx
export KVMX_DIR

_tap_n=0
_tap_fail=0
_tap_plan=

tap_plan() { _tap_plan=$1; echo "TAP version 13"; echo "1..$1"; }
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1)); echo "not ok $_tap_n - $*"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
diag() { echo "# $*"; }

# check DESCRIPTION COMMAND...: one test, passing when COMMAND succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

skip_all() { echo "TAP version 13"; echo "1..0 # SKIP $*"; exit 4; }

tap_done() {
	if [ -n "$_tap_plan" ] && [ "$_tap_n" -ne "$_tap_plan" ]; then
		diag "planned $_tap_plan tests, ran $_tap_n"
		_tap_fail=$((_tap_fail + 1))
	fi
	[ "$_tap_fail" -eq 0 ] && exit 0
	exit 1
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	local limit=$1 end
	shift
	end=$(($(date +%s%N) + limit * 1000000000))
	until "$@"; do
		[ "$(date +%s%N)" -gt "$end" ] && return 1
		sleep 0.1
	done
}

# write_errno FILE VALUE: write VALUE to FILE, print the errno name, or OK.
write_errno() {
	python3 -c '
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    os.write(fd, sys.argv[2].encode())
    os.close(fd)
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
' "$1" "$2"
}

# expect DESC GOT WANT: one test, passing when GOT equals WANT.
expect() {
	if [ "$2" = "$3" ]; then
		ok "$1: $3"
	else
		not_ok "$1: expected $3, got $2"
	fi
}

# expect_errno DESC ERRNO FILE VALUE
expect_errno() {
	local got
	got=$(write_errno "$3" "$4")
	if [ "$got" = "$2" ]; then
		ok "$1: $2"
	else
		not_ok "$1: expected $2, got $got"
	fi
}

# write_form FILE FORMAT: write what printf makes of FORMAT to FILE in one
# write(2), so that a \0 or a second \n in FORMAT is really in the buffer
# the kernel gets; print OK or the errno name. It is coreutils' printf,
# which buffers up to 4 KiB: bash's own writes every line on its own.
write_form() {
	local err
	err=$(LC_ALL=C env printf -- "$2" 2>&1 >"$1") && { echo OK; return 0; }
	case $err in
	*"Invalid argument") echo EINVAL ;;
	*"Numerical result out of range") echo ERANGE ;;
	*"No such file or directory") echo ENOENT ;;
	*"No such process") echo ESRCH ;;
	*"File exists") echo EEXIST ;;
	*"No such device") echo ENODEV ;;
	*) echo "$err" ;;
	esac
}

# expect_forms FILE [NAME]: one test per line of stdin, "FORMAT WANT
# [VALUE]". FORMAT goes to FILE through write_form (\040 is a space, \t a
# tab, \0 a NUL, \n a newline); WANT is OK or the errno name; VALUE is
# what FILE reads afterwards, by default what it read before. A
# write-only FILE takes - as VALUE. Feed it with a here document: through
# a pipe the tests would count in a subshell, and the test host has no
# /dev/fd for <(...).
expect_forms() {
	local f=$1 name=${2:-${1#"$KVMX_SYS"/}} fmt want val before got now
	while read -r fmt want val; do
		case $fmt in '' | '#'*) continue ;; esac
		before=-
		[ "$val" = - ] || before=$(cat "$f")
		got=$(write_form "$f" "$fmt")
		now=-
		[ "$val" = - ] || now=$(cat "$f")
		[ -n "$val" ] || val=$before
		if [ "$got" = "$want" ] && [ "$now" = "$val" ]; then
			ok "$name '$fmt': $want, reads $val"
		else
			not_ok "$name '$fmt': expected $want and $val, got $got and $now"
		fi
	done
}

# number_forms V: lines for expect_forms that every decimal knob treats
# alike, V being a valid value that the knob reads back as V. Leading
# zeros are decimal; a sign, a base prefix, a blank, a NUL, a second
# newline or a point is EINVAL; beyond 64 bits is ERANGE. 14 lines.
number_forms() {
	cat <<EOF
0$1	OK	$1
00$1\n	OK	$1
0x$1	EINVAL
+$1	EINVAL
-$1	EINVAL
\040$1	EINVAL
$1\040	EINVAL
\t$1	EINVAL
$1\0junk	EINVAL
$1\0	EINVAL
$1\n\n	EINVAL
$1.0	EINVAL
\n	EINVAL
99999999999999999999	ERANGE
EOF
}

# plain_forms V: number_forms V, and size suffixes are EINVAL. 16 lines.
plain_forms() {
	number_forms "$1"
	printf '%s\tEINVAL\n' "${1}K" "${1}m"
}

# bool_forms: lines for expect_forms on a boolean knob that reads 1 or 0.
# Exactly 1, y, Y, on, 0, n, N and off are booleans. Ends at 0. 24 lines.
bool_forms() {
	cat <<'EOF'
1	OK	1
0\n	OK	0
y	OK	1
n	OK	0
Y\n	OK	1
N\n	OK	0
on	OK	1
off\n	OK	0
none	EINVAL
Tjunk	EINVAL
140953X	EINVAL
yes	EINVAL
ON	EINVAL
t	EINVAL
2	EINVAL
01	EINVAL
+1	EINVAL
0x1	EINVAL
\0401	EINVAL
1\040	EINVAL
1\0junk	EINVAL
on\0	EINVAL
1\n\n	EINVAL
\n	EINVAL
EOF
}

# long_junk C: C and then 1736 digits, 1737 bytes in all.
long_junk() { printf '%s%01736d' "$1" 0; }

# Load kvmx_core from the build tree (and unload it at exit if we did).
kvmx_load_core() {
	if [ ! -d /sys/module/kvmx_core ]; then
		insmod "$KVMX_DIR/core/kvmx_core.ko" "$@" || return 1
	fi
}
kvmx_unload_all() {
	local m
	kvmxd_stop_any
	for m in kvmx_test_client balloon_alb idle_tax largepage_break ksm_cmd \
		 kvmx_core; do
		[ -d /sys/module/$m ] && rmmod $m
	done
	return 0
}

vm_entries() { ls "$KVMX_SYS/vms" 2>/dev/null; }
vm_count() { vm_entries | wc -l; }
dbg_stat() { awk -v k="$1" '$1 == k { print $2 }' "$KVMX_DBG/stats"; }

kvmx_load_test_client() {
	[ -d /sys/module/kvmx_test_client ] ||
		insmod "$KVMX_DIR/selftests/modules/kvmx_test_client.ko"
}

# The registry entry ("<pid>-<fd>") of the VM run by process PID, if any.
vm_of_pid() {
	local d
	for d in "$KVMX_SYS"/vms/"$1"-*; do
		[ -d "$d" ] && { basename "$d"; return 0; }
	done
	return 1
}
has_vm_of_pid() { vm_of_pid "$1" >/dev/null; }
no_vm_of_pid() { ! vm_of_pid "$1" >/dev/null; }
no_vms() { [ "$(vm_count)" -eq 0 ]; }

# KVM's own debugfs directory of a VM exists while its struct kvm does.
kvm_alive() { ls -d /sys/kernel/debug/kvm/"$1"-* >/dev/null 2>&1; }
kvm_gone() { ! kvm_alive "$1"; }

guest() { "$KVMX_GUEST" "$@"; }
guest_pid() { "$KVMX_GUEST" pid "$1"; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# Guest workload: kvmx-fill holding memory inside guest NAME.
#   fill_start NAME SIZE PATTERN SEED [extra kvmx-fill options]
fill_start() {
	local g=$1 size=$2 pat=$3 seed=$4
	shift 4
	guest run "$g" -- "/host$KVMX_BIN/kvmx-fill hold --size $size" \
		"--pattern $pat --seed $seed --ready-file /tmp/fill.ready" \
		"--status-file /tmp/fill.status $* >/tmp/fill.log 2>&1 &" \
		"i=0; while [ ! -e /tmp/fill.ready ] && [ \$i -lt 600 ]; do" \
		"sleep 0.1; i=\$((i+1)); done; cat /tmp/fill.ready"
}
# fill_verify NAME: verify now; prints the VERIFY line, fails on mismatches.
fill_verify() {
	local out
	out=$(guest run "$1" -- 'rm -f /tmp/fill.status; kill -USR1 $(pidof kvmx-fill);' \
		'i=0; while [ ! -e /tmp/fill.status ] && [ $i -lt 600 ]; do' \
		'sleep 0.1; i=$((i+1)); done; cat /tmp/fill.status')
	echo "$out"
	case "$out" in
	*"VERIFY "*" mismatches=0 "*) return 0 ;;
	esac
	return 1
}

# Stand-ins: kvmx-fill processes holding mergeable memory (THP off) on this
# host. The caller declares the associative array pids (declare -A pids).
#   standin_start NAME DOMAIN|- [kvmx-fill options]
# With a DOMAIN the stand-in is a VM (kvmx-fill --kvm: a KVM VM without
# vCPUs whose memslot is its memory), attached and put in DOMAIN; with - it
# is a plain process. Files: /tmp/si-NAME.{ready,status,log}.
standin_start() {
	local name=$1 dom=$2 kvm=--kvm
	shift 2
	[ "$dom" = - ] && kvm=
	rm -f /tmp/si-$name.ready /tmp/si-$name.status
	"$KVMX_BIN/kvmx-fill" hold --mergeable --nothp $kvm \
		--ready-file /tmp/si-$name.ready --status-file /tmp/si-$name.status \
		"$@" >/tmp/si-$name.log 2>&1 &
	pids[$name]=$!
	wait_for 60 test -e /tmp/si-$name.ready || return 1
	[ "$dom" = - ] && return 0
	# KVM's uevent may have attached it already (EEXIST).
	echo "${pids[$name]}" >"$KVMX_SYS/attach" 2>/dev/null
	wait_for 5 has_vm_of_pid "${pids[$name]}" || return 1
	[ "$dom" = 0 ] ||
		echo "$dom" >"$KVMX_SYS/vms/$(vm_of_pid "${pids[$name]}")/ksm_domain"
}
# standin_stop NAME: stop it; true if every page verified.
standin_stop() {
	kill -TERM "${pids[$1]}"
	wait "${pids[$1]}"
	grep -q "mismatches=0 " /tmp/si-$1.status
}

# merged_pair NAME1 NAME2 SEED: two 192 MiB guests in KSM domain 1 that
# hold the same 24 MiB (kvmx-fill, unique pages of SEED) and merge, with
# ksmd running: two tests. Sets p1 p2 (their QEMUs) and v1 v2 (their
# entries under vms/); merged is true while they share 4000 pages or more.
merged() { [ "$(shared_pages "$p1" "$p2")" -ge 4000 ]; }
merged_pair() {
	guest start "$1" --mem 192 >/dev/null
	guest start "$2" --mem 192 >/dev/null
	p1=$(guest_pid "$1")
	p2=$(guest_pid "$2")
	_pair_attached() { has_vm_of_pid "$p1" && has_vm_of_pid "$p2"; }
	check "both guests attached" wait_for 10 _pair_attached
	v1=$KVMX_SYS/vms/$(vm_of_pid "$p1")
	v2=$KVMX_SYS/vms/$(vm_of_pid "$p2")
	echo 1 >"$v1/ksm_domain"
	echo 1 >"$v2/ksm_domain"
	fill_start "$1" 24M unique "$3" >/dev/null
	fill_start "$2" 24M unique "$3" >/dev/null
	ksm_start 4000 10
	check "one domain: the guests merge (>= 4000 of 6144 pages)" \
		wait_for 300 merged
}

# bench_args PREFIX: export the NAME=VALUE words of make bench BENCH_ARGS=
# (bench/run.sh writes them to build/bench_args) whose NAME starts with
# PREFIX.
bench_args() {
	local kv
	[ -r "$KVMX_DIR/build/bench_args" ] || return 0
	while read -r kv; do
		case $kv in
		"$1"*=*) export "$kv" ;;
		esac
	done <"$KVMX_DIR/build/bench_args"
}

# --- KSM -------------------------------------------------------------------
KSM=/sys/kernel/mm/ksm
KVMX_PAGEMAP=$KVMX_DIR/selftests/lib/kvmx-pagemap

kvmx_load_ksm_cmd() {
	kvmx_load_core || return 1
	[ -d /sys/module/ksm_cmd ] || insmod "$KVMX_DIR/ksm_cmd/ksm_cmd.ko"
}
ksm_stat() { cat "$KSM/$1"; }
# A counter of kvmx_core's KSM hook (debugfs kvmx/ksm_stats).
hook_stat() { awk -v k="$1" '$1 == k { print $2 }' "$KVMX_DBG/ksm_stats"; }
# ksm_start [PAGES_TO_SCAN [SLEEP_MS]]: let ksmd run.
ksm_start() {
	echo "${1:-2000}" >"$KSM/pages_to_scan"
	echo "${2:-10}" >"$KSM/sleep_millisecs"
	echo 1 >"$KSM/run"
}
# ksm_unmerge_all: stop ksmd and break every KSM page (stock reset).
ksm_unmerge_all() { echo 2 >"$KSM/run"; }
# ksm_wait_scans N [LIMIT_S]: wait for N more full KSM passes.
ksm_wait_scans() {
	local want=$(($(ksm_stat full_scans) + $1))
	_ksm_scans_reached() { [ "$(ksm_stat full_scans)" -ge "$want" ]; }
	wait_for "${2:-300}" _ksm_scans_reached
}
# shared_pages PID1 PID2: physical pages both QEMUs map (zero page excluded).
shared_pages() { "$KVMX_PAGEMAP" shared "$1" "$2"; }
# cross_pages PID1 PID2: KSM pages both map, in two readings in a row. What
# isolation checks count: one reading of two processes one after the other
# also counts a frame the first freed and the second got in between.
cross_pages() { "$KVMX_PAGEMAP" cross "$1" "$2"; }
# cross_if_shared PID1 PID2: cross_pages, read only if shared_pages finds a
# page: a KSM page both map is in that one reading too, at half the reads.
cross_if_shared() {
	local s
	s=$(shared_pages "$1" "$2")
	if [ "$s" = 0 ]; then echo 0; else cross_pages "$1" "$2"; fi
}

# --- idle_tax ----------------------------------------------------------------
ITAX=$KVMX_SYS/idle_tax

kvmx_load_idle_tax() {
	kvmx_load_core || return 1
	[ -d /sys/module/idle_tax ] || insmod "$KVMX_DIR/idle_tax/idle_tax.ko"
}
# itax VM FILE: a per-VM idle_tax value of VM (as in /sys/kernel/kvmx/vms).
itax() { cat "$KVMX_SYS/vms/$1/idle_tax/$2"; }
mib() { echo $(($1 / 1048576)); }
# Host RSS of a process in bytes.
rss_bytes() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"; }

# zram_swap_on MIB: swap on a zram device of MIB MiB (lz4), as the
# experiment's constrained host has. zram_swap_off undoes it.
zram_swap_on() {
	modprobe zram num_devices=1 || return 1
	echo lz4 >/sys/block/zram0/comp_algorithm 2>/dev/null
	echo "$1M" >/sys/block/zram0/disksize || return 1
	mkswap /dev/zram0 >/dev/null && swapon /dev/zram0
}
zram_swap_off() {
	swapoff /dev/zram0 2>/dev/null
	echo 1 >/sys/block/zram0/reset 2>/dev/null
	rmmod zram 2>/dev/null
	return 0
}
# thp_set MODE: set transparent huge pages, remembering the old mode for
# thp_restore.
thp_set() {
	_thp_old=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled)
	echo "$1" >/sys/kernel/mm/transparent_hugepage/enabled
}
thp_restore() {
	[ -n "${_thp_old:-}" ] && echo "$_thp_old" >/sys/kernel/mm/transparent_hugepage/enabled
	return 0
}
# The state directory of guest NAME (its QMP socket is qmp.sock there).
guest_dir() { echo "/run/kvmx-guests/$1"; }

# --- kvmxd and the advice channel ---------------------------------------------
KVMXD_LOG=${KVMXD_LOG:-/tmp/kvmxd.log}

# connected or none (empty without kvmx_core)
advice_daemon() { cat "$KVMX_SYS/advice/daemon" 2>/dev/null; }
advice_connected() { [ "$(advice_daemon)" = connected ]; }
advice_none() { [ "$(advice_daemon)" = none ]; }
# advice_stat NAME: a counter of /sys/kernel/kvmx/advice/stats
advice_stat() { awk -v k="$1" '$1 == k { print $2 }' "$KVMX_SYS/advice/stats"; }
# advice_dbg NAME: a value of debugfs kvmx/advice (daemon_pid, objects)
advice_dbg() { awk -v k="$1" '$1 == k { print $2 }' "$KVMX_DBG/advice"; }

# kvmxd_start [OPTIONS]: run build/bin/kvmxd in the background, its stderr
# appended to $KVMXD_LOG, and wait until kvmx_core sees it attached.
kvmxd_start() {
	"$KVMX_BIN/kvmxd" "$@" 2>>"$KVMXD_LOG" &
	_kvmxd_pid=$!
	wait_for 5 advice_connected
}
# kvmxd_stop: SIGTERM to the kvmxd of kvmxd_start; true if it exited 0.
kvmxd_stop() {
	local rc
	[ -n "${_kvmxd_pid:-}" ] || return 0
	kill -TERM "$_kvmxd_pid" 2>/dev/null
	wait "$_kvmxd_pid"
	rc=$?
	_kvmxd_pid=
	return $rc
}
# kvmxd_stop_any: end whatever holds /dev/kvmx_advice (an earlier test's
# daemon would keep kvmx_core loaded).
kvmxd_stop_any() {
	local p
	kvmxd_stop
	advice_connected || return 0
	p=$(advice_dbg daemon_pid)
	[ -n "$p" ] && [ "$p" -gt 0 ] && kill -KILL "$p" 2>/dev/null
	wait_for 5 advice_none
}
