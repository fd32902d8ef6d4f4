#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unit test of tools/kvmx-idle-top.c: builds it and runs it against a fake
# sysfs tree.
# Output is TAP version 13; exits 0 only if every check passed.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=selftests/unit/unit_lib.sh
. "$HERE/unit_lib.sh" kvmx-idle-top 21
SRC="$HERE/../../tools/kvmx-idle-top.c"
BIN="$BUILD_DIR/kvmx-idle-top"

# reap PID: wait up to 10 s for PID to exit, then kill it; its exit status
# (137 if it had to be killed)
reap() {
	wait_for gone "$1" || kill -KILL "$1" 2>/dev/null
	wait "$1"
}

# row ID: the row of VM ID in $OUT, blanks squeezed
row() {
	awk -v id="$1" '$1 == id' <<<"$OUT" | tr -s ' '
}

MIB=1048576
GIB=1073741824
S=$WORK/sys

# put FILE VALUE: a sysfs value, one line
put() {
	mkdir -p "$(dirname "$1")"
	echo "$2" >"$1"
}

# vm ID PID SIZE SHARES PERMILLE RHO TARGET RESIDENT BALLOON RECLAIMED
vm() {
	local d=$S/vms/$1 t=$S/vms/$1/idle_tax

	put "$d/pid" "$2"
	put "$d/memory_bytes" "$3"
	put "$t/shares" "$4"
	put "$t/active_permille" "$5"
	put "$t/rho" "$6"
	put "$t/min_bytes" $((256 * MIB))
	put "$t/max_bytes" "$3"
	put "$t/target_bytes" "$7"
	put "$t/resident_bytes" "$8"
	put "$t/balloon_target_bytes" "$7"
	put "$t/balloon_actual_bytes" "$9"
	put "$t/reclaimed_bytes" "${10}"
}

unit_build -g -Werror -static
R=(--root "$S")

# usage
run "$BIN" --help
[ "$RC" -eq 0 ] && [[ "$OUT" == *usage* ]] && [[ "$OUT" == *--interval* ]]
ok $? "--help prints usage and exits 0"
bad=0
for args in "--interval 99" "--interval 3600001" "--interval abc" \
	"--interval ''" "--interval 100x" "--interval" "--count 0" \
	"--count -1" "--count x" "--bogus" "extra" "--root ''"; do
	eval "run \"\$BIN\" --root \"\$S\" $args"
	if [ "$RC" -ne 2 ] || [[ "$ERR" != *usage* ]] || [ -n "$OUT" ]; then
		echo "# $args: exit $RC"
		bad=1
	fi
done
ok $bad "bad --interval, --count, options and arguments exit 2 with usage"

# no kvmx_core
mkdir -p "$S"
run "$BIN" "${R[@]}" --once
[ "$RC" -eq 1 ] && [[ "$ERR" == *"$S/vms"*"kvmx_core"* ]] && [ -z "$OUT" ]
ok $? "missing ROOT/vms: exit 1, asks whether kvmx_core is loaded"

# the fake tree: three VMs, one VM without idle_tax/, one half gone
put "$S/idle_tax/tax_rate" 0.750
put "$S/idle_tax/pool_bytes" 0
put "$S/memstate/state" clear
put "$S/memstate/available_bytes" $((6 * GIB + 300 * MIB))
vm 1234-12 1234 $GIB 1000 250 1000.000 $GIB $((GIB - 5 * MIB)) 0 0
vm 999-3 999 $((2 * GIB)) 2000 - 500.000 $((3 * GIB / 2)) \
	$((3 * GIB / 2)) $((3 * GIB / 2)) $((512 * MIB))
vm 1234-2 1234 $((4 * GIB)) 500 1000 12.500 $((2 * GIB)) \
	$((2 * GIB - 1)) 0 $((3 * MIB / 4))
put "$S/vms/77-1/pid" 77
put "$S/vms/77-1/memory_bytes" $GIB
vm 88-1 88 $GIB 1000 0 1.000 $GIB $GIB 0 0
rm "$S/vms/88-1/idle_tax/rho"

run "$BIN" "${R[@]}" --once
[ "$RC" -eq 0 ] && [ -z "$ERR" ] && [ "$(wc -l <<<"$OUT")" -eq 6 ]
ok $? "--once: one frame of 6 lines, exit 0, nothing on stderr"
head='^kvmx-idle-top [0-9]{2}:[0-9]{2}:[0-9]{2}  memory clear  '
head+='available 6444 MiB  tax rate 0\.750  pool auto  VMs 3  '
head -1 <<<"$OUT" | grep -Eq "$head"
ok $? "header: time, memory state, available MiB, tax rate, pool auto, VMs"
[ "$(awk 'NR > 2 { print $1 }' <<<"$OUT" | paste -sd ' ')" = \
	"999-3 1234-2 1234-12 total" ]
ok $? "rows sorted by VM id (pid, then number), totals last"
[ "$(row 1234-12)" = "1234-12 1234 1000 25.0% 1000.000 1024 256 1024 1024 1019 - 0" ]
ok $? "bytes in MiB, permille 250 as 25.0%, balloon 0 as -"
[ "$(row 999-3)" = "999-3 999 2000 - 500.000 2048 256 2048 1536 1536 1536 512" ] &&
	[ "$(row 1234-2)" = "1234-2 1234 500 100.0% 12.500 4096 256 4096 2048 2048 - 1" ]
ok $? "no sample yet as -, balloon actual in MiB, MiB rounded to nearest"
[ -z "$(row 77-1)" ]
ok $? "a VM without idle_tax/ is not shown"
[ -z "$(row 88-1)" ]
ok $? "a VM with a missing file is skipped silently"
[ "$(row total)" = "total 4608 4603 513" ]
ok $? "totals of target, resident and reclaimed"
[ "$(tail -n +2 <<<"$OUT" | awk '{ print length($0) }' | sort -u | wc -l)" -eq 1 ] &&
	[ "$(sed -n 2p <<<"$OUT" | tr -s ' ')" = \
		"VM PID SHARES F RHO SIZE MIN MAX TARGET RESIDENT BALLOON RECLAIMED" ]
ok $? "column titles, rows and totals are aligned to one width"

# bad and missing values
put "$S/vms/1234-2/idle_tax/shares" 12x
put "$S/vms/1234-2/idle_tax/active_permille" 1001
put "$S/vms/1234-2/idle_tax/rho" inf
put "$S/vms/999-3/idle_tax/rho" 262144000000.000
put "$S/idle_tax/pool_bytes" $((512 * MIB))
rm "$S/memstate/state" "$S/memstate/available_bytes" "$S/idle_tax/tax_rate"
run "$BIN" "${R[@]}" --once
[ "$RC" -eq 0 ] && [[ "$(row 1234-2)" == "1234-2 1234 ? ? inf 4096 "* ]] &&
	[[ "$(row 999-3)" == "999-3 999 2000 - 2.62e+11 "* ]]
ok $? "bad values show ?, rho inf as is, a wide rho is shortened"
[[ "$(head -1 <<<"$OUT")" == *"memory -  available -  tax rate -  pool 512 MiB  VMs 3"* ]]
ok $? "missing global files show -, a set pool in MiB"

# refreshes, not a terminal
start=$(date +%s%N)
run "$BIN" "${R[@]}" --count 3 --interval 100
ms=$((($(date +%s%N) - start) / 1000000))
[ "$RC" -eq 0 ] && [ "$(grep -c '^kvmx-idle-top ' <<<"$OUT")" -eq 3 ] &&
	[ "$(grep -c '^$' <<<"$OUT")" -eq 2 ] && [ "$(wc -l <<<"$OUT")" -eq 20 ] &&
	[ "$ms" -ge 200 ]
ok $? "--count 3 --interval 100: 3 frames, blank lines between, ${ms} ms"
! grep -q $'\033' "$WORK/out"
ok $? "not a terminal: no escape codes"
run "$BIN" "${R[@]}" --once --interval 3600000
[ "$RC" -eq 0 ] && [ "$(grep -c '^kvmx-idle-top ' <<<"$OUT")" -eq 1 ]
ok $? "--interval 3600000 is accepted; --once does not wait"

# a terminal
if script -qc true /dev/null >/dev/null 2>&1; then
	run script -qc "'$BIN' --root '$S' --count 2 --interval 100" /dev/null
	[ "$RC" -eq 0 ] &&
		[ "$(grep -c $'\033\\[H\033\\[2Jkvmx-idle-top ' "$WORK/out")" -eq 2 ]
	ok $? "on a terminal every frame starts by clearing the screen"
else
	skip "on a terminal every frame starts by clearing the screen" \
		"no script(1)"
fi

# signals and a module that goes away
bad=0
for sig in TERM INT; do
	# a file of its own: the parent's grep must not find the last run's
	# frame before the child has truncated the file and blocked signals
	"$BIN" "${R[@]}" --interval 60000 >"$WORK/bg.$sig" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for grep -q '^total' "$WORK/bg.$sig" || bad=1
	kill -"$sig" "$pid"
	reap "$pid" || { echo "# SIG$sig: exit $?"; bad=1; }
done
ok $bad "SIGTERM and SIGINT end the wait with exit 0"
"$BIN" "${R[@]}" --interval 100 >"$WORK/bg.gone" 2>"$WORK/bg.err" &
pid=$!
PIDS+=("$pid")
wait_for grep -q '^total' "$WORK/bg.gone"
rm -rf "$S/vms"
reap "$pid"
[ $? -eq 1 ] && grep -q "kvmx_core" "$WORK/bg.err"
ok $? "ROOT/vms going away while running: exit 1 with a message"

finish
