# SPDX-License-Identifier: GPL-2.0
# Shared by the shell unit tests: TAP counting, a scratch folder removed at
# exit together with the processes listed in PIDS, and helpers.
#
#   . "$HERE/unit_lib.sh" NAME PLAN
#
# NAME names the scratch folder and the summary line; PLAN is the number of
# checks. Output is TAP version 13; finish exits 0 only if every one ran
# and passed.
set -u

UNIT_NAME=$1
PLAN=$2
BUILD_DIR=${BUILD_DIR:-/tmp}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/$UNIT_NAME-test.XXXXXX")
PIDS=()
N=0
PASS=0
FAIL=0

# shellcheck disable=SC2317  # called from the EXIT trap
unit_cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap unit_cleanup EXIT

ok() {	# ok CONDITION_STATUS DESCRIPTION
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		PASS=$((PASS + 1))
		echo "ok $N - $2"
	else
		FAIL=$((FAIL + 1))
		echo "not ok $N - $2"
	fi
}

skip() {	# skip DESCRIPTION REASON
	N=$((N + 1))
	PASS=$((PASS + 1))
	echo "ok $N - $1 # SKIP $2"
}

# run CMD...: sets RC, OUT (stdout) and ERR (stderr) of the command
run() {
	timeout 30 "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}

# wait_for COMMAND...: retry for up to 10 s until COMMAND succeeds
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# gone PID: the process has exited (an unreaped child is a zombie, which
# kill -0 still finds)
# shellcheck disable=SC2317  # called through wait_for
gone() {
	[ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# unit_build GCC_FLAGS...: print the TAP header and build $BIN from $SRC
# with -O2 -Wall -Wextra GCC_FLAGS, the first check. Without a binary every
# other check fails and the test ends here.
unit_build() {
	echo "TAP version 13"
	echo "1..$PLAN"
	mkdir -p "$BUILD_DIR"
	run gcc -O2 -Wall -Wextra "$@" -o "$BIN" "$SRC"
	[ "$RC" -eq 0 ] && [ -z "$ERR" ]
	ok $? "builds warning-free with -Wall -Wextra $*"
	if [ ! -x "$BIN" ]; then
		sed 's/^/# /' "$WORK/err"
		while [ "$N" -lt "$PLAN" ]; do ok 1 "skipped: no binary"; done
		finish
	fi
}

finish() {
	echo "# $UNIT_NAME: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ] && [ "$N" -eq "$PLAN" ]
	exit $?
}
