#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unit test of selftests/lib/kvmx-fill.c: builds it and checks every mode.
# Output is TAP version 13; exits 0 only if every check passed.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=selftests/unit/unit_lib.sh
. "$HERE/unit_lib.sh" kvmx-fill 22
SRC="$HERE/../lib/kvmx-fill.c"
BIN="$BUILD_DIR/kvmx-fill"
HOLD_PID=

# wait_match FILE PATTERN [PID]: wait up to 10 s until FILE contains
# PATTERN; give up early once PID has exited
wait_match() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		[ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "$2" "$1" 2>/dev/null
}

unit_build -static

run "$BIN" selftest
[ "$RC" -eq 0 ]
ok $? "selftest mode passes"

# file / verify-file round trip
F="$WORK/mixed.img"
run "$BIN" file "$F" --size 1M --pattern mixed:25,50,25 --seed 7
[ "$RC" -eq 0 ] && [ "$(stat -c %s "$F")" -eq 1048576 ]
ok $? "file mode writes SIZE bytes"

run "$BIN" verify-file "$F" --size 1M --pattern mixed:25,50,25 --seed 7
[ "$RC" -eq 0 ] && [ "$OUT" = "VERIFY pages=256 mismatches=0 rewrites=0" ]
ok $? "file + verify-file round trip is clean"

run "$BIN" verify-file "$F" --size 1M --pattern mixed:25,50,25 --seed 8
[ "$RC" -eq 1 ] && [[ "$OUT" == *"mismatches=64 "* ]]
ok $? "verify with another seed flags exactly the unique quarter"

# flip one byte at offset 5000 (page 1, offset 904) of a unique file
F="$WORK/unique.img"
"$BIN" file "$F" --size 64K --pattern unique --seed 3
byte=$(od -An -tu1 -j 5000 -N1 "$F" | tr -d ' ')
printf '%b' "$(printf '\\0%03o' $((byte ^ 0xff)))" |
	dd of="$F" bs=1 seek=5000 conv=notrunc status=none
run "$BIN" verify-file "$F" --size 64K --pattern unique --seed 3
[ "$RC" -eq 1 ] && [[ "$OUT" == *"mismatches=1 "* ]]
ok $? "one flipped byte gives mismatches=1 and exit 1"
[[ "$ERR" == *"MISMATCH page=1 gen=0 offset=904"* ]]
ok $? "mismatch report names page and offset"

run "$BIN" verify-file "$F" --size 128K --pattern unique --seed 3
[ "$RC" -eq 1 ] && [[ "$OUT" == *"mismatches=17 "* ]]
ok $? "short file counts missing pages as mismatches"

# shared content ignores the seed, unique content does not
"$BIN" file "$WORK/s1" --size 256K --pattern shared --seed 1
"$BIN" file "$WORK/s2" --size 256K --pattern shared --seed 2
cmp -s "$WORK/s1" "$WORK/s2"
ok $? "shared with different seeds is identical"
"$BIN" file "$WORK/u1" --size 256K --pattern unique --seed 1
"$BIN" file "$WORK/u2" --size 256K --pattern unique --seed 2
! cmp -s "$WORK/u1" "$WORK/u2"
ok $? "unique with different seeds differs"
"$BIN" file "$WORK/z" --size 64K --pattern zero
cmp -s "$WORK/z" <(head -c 65536 /dev/zero)
ok $? "zero pattern is all zero bytes"

# hold with sub-page rewrites for a fixed duration
run timeout 30 "$BIN" hold --size 8M --pattern mixed:10,40,50 --seed 9 \
	--duration 2 --rewrite-rate 2000 --subpage 4
rewrites=$(echo "$OUT" | sed -n 's/^VERIFY .* rewrites=\([0-9]*\)$/\1/p')
[ "$RC" -eq 0 ] && [[ "$OUT" == "READY pages=2048 pid="* ]] &&
	[[ "$OUT" == *"VERIFY pages=2048 mismatches=0 "* ]] &&
	[ "${rewrites:-0}" -gt 0 ]
ok $? "hold --duration 2 --rewrite-rate 2000 --subpage 4 is clean"
[ "${rewrites:-0}" -ge 2000 ] && [ "${rewrites:-0}" -le 6000 ]
ok $? "rewrite rate is roughly honoured (${rewrites:-none} in 2 s)"

# hold until signalled: ready file, SIGUSR1 status, SIGTERM exit
R="$WORK/ready"
S="$WORK/status"
"$BIN" hold --size 4M --pattern unique --seed 4 --mergeable --nothp \
	--rewrite-rate 500 --ready-file "$R" --status-file "$S" \
	>"$WORK/hold.out" 2>"$WORK/hold.err" &
HOLD_PID=$!
PIDS+=("$HOLD_PID")
wait_match "$R" "^READY pages=1024 pid=$HOLD_PID\$" "$HOLD_PID"
st=$?
if [ "$st" -ne 0 ] && grep -q MADV_MERGEABLE "$WORK/hold.err"; then
	# kernel without KSM: repeat without --mergeable
	wait "$HOLD_PID"
	echo "# no KSM here, running hold without --mergeable"
	"$BIN" hold --size 4M --pattern unique --seed 4 --nothp \
		--rewrite-rate 500 --ready-file "$R" --status-file "$S" \
		>"$WORK/hold.out" 2>"$WORK/hold.err" &
	HOLD_PID=$!
	PIDS+=("$HOLD_PID")
	wait_match "$R" "^READY pages=1024 pid=$HOLD_PID\$" "$HOLD_PID"
	st=$?
fi
ok $st "hold writes the ready file"
sleep 0.3
kill -USR1 "$HOLD_PID" 2>/dev/null
wait_match "$S" "^VERIFY pages=1024 mismatches=0 rewrites=[0-9]*\$" "$HOLD_PID"
ok $? "SIGUSR1 writes a VERIFY line to the status file"
kill -TERM "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID"
st=$?
HOLD_PID=
[ "$st" -eq 0 ] && [ "$(grep -c '^VERIFY pages=1024 mismatches=0 ' \
	"$WORK/hold.out")" -eq 2 ]
ok $? "SIGTERM verifies once more and exits 0"
! compgen -G "$WORK/*.tmp.*" >/dev/null
ok $? "no temporary files are left behind"

# bad inputs exit 2
bad=0
for args in "--size 0 --pattern zero" "--size 4097 --pattern zero" \
	"--size abc --pattern zero" "--size 4K --pattern nope" \
	"--size 4K --pattern mixed:50,50,10" "--size 4K --pattern zero --bogus" \
	"--size 4K --pattern zero --subpage 65" "--pattern zero" \
	"--size 4K --pattern zero --thp --nothp"; do
	# shellcheck disable=SC2086
	run "$BIN" hold $args
	if [ "$RC" -ne 2 ] || [ -z "$ERR" ]; then
		echo "# hold $args: exit $RC"
		bad=1
	fi
done
ok $bad "bad sizes, patterns and options exit 2 with a message"
run "$BIN" file "$WORK/x" --size 4K --pattern zero --rewrite-rate 5
[ "$RC" -eq 2 ]
ok $? "hold-only option rejected in file mode"
run "$BIN" verify-file "$WORK/does-not-exist" --size 4K --pattern zero
[ "$RC" -eq 2 ]
ok $? "verify-file of a missing file exits 2"
run "$BIN"
[ "$RC" -eq 2 ] && [[ "$ERR" == *usage* ]]
ok $? "no arguments prints usage and exits 2"
run "$BIN" --help
[ "$RC" -eq 0 ] && [[ "$OUT" == *usage* ]]
ok $? "--help prints usage and exits 0"

finish
