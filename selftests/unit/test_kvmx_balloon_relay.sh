#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unit test of tools/kvmx-balloon-relay.c: builds it and runs it against a
# fake QMP server (python3) and a fake sysfs tree.
# Output is TAP version 13; exits 0 only if every check passed.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=selftests/unit/unit_lib.sh
. "$HERE/unit_lib.sh" kvmx-balloon-relay 28
SRC="$HERE/../../tools/kvmx-balloon-relay.c"
BIN="$BUILD_DIR/kvmx-balloon-relay"

# count FILE PATTERN: lines of FILE matching PATTERN (0 if none)
count() {
	local c
	c=$(grep -c -- "$2" "$1" 2>/dev/null)
	echo "${c:-0}"
}

# at_least N FILE PATTERN
# shellcheck disable=SC2317  # called through wait_for
at_least() {
	[ "$(count "$2" "$3")" -ge "$1" ]
}

# A fake QEMU monitor: one client, greeting, capabilities, balloon and
# query-balloon. Every command is logged as compact JSON, one per line.
# Events are sent before replies, one reply comes in two pieces, and
# with --error every balloon command fails.
cat >"$WORK/fakeqmp.py" <<'EOF'
import json, os, socket, sys, time

path, log = sys.argv[1], sys.argv[2]
error = "--error" in sys.argv
actual = 2 * 1024 ** 3

def event(name, data):
    return json.dumps({"timestamp": {"seconds": int(time.time()),
                                     "microseconds": 0},
                       "event": name, "data": data}) + "\r\n"

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path + ".tmp")
srv.listen(1)
os.rename(path + ".tmp", path)
conn, _ = srv.accept()
conn.sendall(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, '
             b'"major": 7}, "package": ""}, "capabilities": ["oob"]}}\r\n')
buf = b""
with open(log, "a") as out:
    while True:
        data = conn.recv(4096)
        if not data:
            break
        buf += data
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            cmd = json.loads(raw)
            out.write(json.dumps(cmd, separators=(",", ":"),
                                 sort_keys=True) + "\n")
            out.flush()
            name = cmd.get("execute")
            if name == "qmp_capabilities":
                conn.sendall(b'{"return": {}}\r\n')
            elif name == "balloon" and error:
                conn.sendall(event("RESUME", {}).encode() +
                             b'{"error": {"class": "DeviceNotActive", '
                             b'"desc": "No balloon device has been '
                             b'activated"}}\r\n')
            elif name == "balloon":
                actual = cmd["arguments"]["value"]
                # a tricky event first: keys and braces inside strings
                conn.sendall(event("BALLOON_CHANGE", {
                    "actual": actual,
                    "note": 'x "return": {"actual": 1} } ] \\ {'}).encode())
                conn.sendall(b'{"return": {}}\r\n')
            elif name == "query-balloon":
                reply = '{"return": {"actual": %d}}\r\n' % actual
                conn.sendall(event("NIC_RX_FILTER_CHANGED", {}).encode() +
                             reply[:15].encode())
                time.sleep(0.02)
                conn.sendall(reply[15:].encode())
            else:
                conn.sendall(b'{"error": {"class": "CommandNotFound", '
                             b'"desc": "unknown"}}\r\n')
conn.close()
EOF

# start_qmp NAME [--error]: fake QEMU on $WORK/NAME.sock logging to
# $WORK/NAME.log; its pid in QMP_PID
start_qmp() {
	rm -f "$WORK/$1.sock" "$WORK/$1.log"
	touch "$WORK/$1.log"
	python3 "$WORK/fakeqmp.py" "$WORK/$1.sock" "$WORK/$1.log" "${@:2}" \
		2>"$WORK/$1.py.err" &
	QMP_PID=$!
	PIDS+=("$QMP_PID")
	wait_for test -S "$WORK/$1.sock"
}

# vmdir VMID: fake sysfs directory of a VM
vmdir() {
	mkdir -p "$WORK/sys/vms/$1/idle_tax"
	echo "$WORK/sys/vms/$1/idle_tax"
}

# set_target VMID BYTES: replace the target file in one step
set_target() {
	echo "$2" >"$(vmdir "$1")/.t" && mv "$(vmdir "$1")/.t" \
		"$(vmdir "$1")/balloon_target_bytes"
}

balloons() {	# balloons LOG [VALUE]: number of balloon commands (to VALUE)
	grep '"execute":"balloon"' "$1" | grep -c -- "\"value\":${2:-}"
}

unit_build -g -Werror
R=(--root "$WORK/sys")
GIB=1073741824

# usage errors
run "$BIN"
[ "$RC" -eq 2 ] && [[ "$ERR" == *usage* ]]
ok $? "no arguments: usage and exit 2"
bad=0
for args in "1234-12" "abc=/tmp/x" "1234=/tmp/x" "12-34-5=/tmp/x" \
	"-12=/tmp/x" "1234-12=" "--interval 0 1-2=/x" "--interval abc 1-2=/x" \
	"--interval 5 1-2=/x" "--bogus 1-2=/x" "1-2=/x 1-2=/y" "--root" \
	"--root '' 1-2=/x" "1-2=/$(printf 'a%.0s' {1..200})"; do
	eval "run \"\$BIN\" $args"
	if [ "$RC" -ne 2 ] || [ -z "$ERR" ]; then
		echo "# $args: exit $RC"
		bad=1
	fi
done
ok $bad "bad VM ids, paths, intervals and options exit 2 with a message"
run "$BIN" --help
[ "$RC" -eq 0 ] && [[ "$OUT" == *usage* ]]
ok $? "--help prints usage and exits 0"

# one pass
D=$(vmdir 1234-12)
set_target 1234-12 $GIB
: >"$D/balloon_actual_bytes"
start_qmp a
run "$BIN" "${R[@]}" --once 1234-12="$WORK/a.sock"
[ "$RC" -eq 0 ]
ok $? "--once exits 0 (${ERR//$'\n'/ | })"
[ "$(head -1 "$WORK/a.log")" = '{"execute":"qmp_capabilities"}' ]
ok $? "capabilities are negotiated first"
[ "$(balloons "$WORK/a.log" $GIB)" -eq 1 ] &&
	[ "$(balloons "$WORK/a.log")" -eq 1 ]
ok $? "one balloon command with the target value"
[ "$(sed -n 3p "$WORK/a.log")" = '{"execute":"query-balloon"}' ]
ok $? "query-balloon follows the balloon command"
[ "$(cat "$D/balloon_actual_bytes")" = "$GIB" ]
ok $? "the actual size is written back through events and split replies"
[[ "$ERR" == *"1234-12: balloon target $GIB bytes"* ]]
ok $? "the change is logged"
wait_for gone "$QMP_PID"
ok $? "the relay closes the QMP connection when done"

# no actual file, target 0, missing and bad target files
D=$(vmdir 1-1)
set_target 1-1 0
start_qmp b
run "$BIN" "${R[@]}" --once 1-1="$WORK/b.sock"
[ "$RC" -eq 0 ] && [ "$(balloons "$WORK/b.log")" -eq 0 ] &&
	[ "$(count "$WORK/b.log" query-balloon)" -eq 1 ]
ok $? "target 0: no balloon command, still queried"
[ ! -e "$D/balloon_actual_bytes" ]
ok $? "a missing actual file is not created"
start_qmp c
run "$BIN" "${R[@]}" --once 77-7="$WORK/c.sock"
[ "$RC" -eq 0 ] && [ "$(count "$WORK/c.log" execute)" -eq 1 ]
ok $? "VM without a target file: nothing but the handshake"
set_target 1-1 12abc
start_qmp d
run "$BIN" "${R[@]}" --once 1-1="$WORK/d.sock"
[ "$(balloons "$WORK/d.log")" -eq 0 ] && [[ "$ERR" == *"byte count"* ]]
ok $? "a bad target is reported and not applied"

# error replies
set_target 1-1 $GIB
start_qmp e --error
run "$BIN" "${R[@]}" --once 1-1="$WORK/e.sock"
[ "$RC" -eq 1 ] &&
	[[ "$ERR" == *"balloon to $GIB bytes failed: No balloon device has been activated"* ]]
ok $? "an error reply is reported with QEMU's text; --once exits 1"

# daemon: unchanged, changed, errors, sockets that close
D=$(vmdir 1234-12)
set_target 1234-12 $GIB
rm -f "$D/balloon_actual_bytes"
echo 0 >"$D/balloon_actual_bytes"
set_target 5678-3 $((3 * GIB))
D2=$(vmdir 5678-3)
echo 0 >"$D2/balloon_actual_bytes"
start_qmp f
QF=$QMP_PID
start_qmp g --error
QG=$QMP_PID
"$BIN" "${R[@]}" --interval 50 --verbose 1234-12="$WORK/f.sock" \
	5678-3="$WORK/g.sock" >"$WORK/relay.out" 2>"$WORK/relay.err" &
RELAY=$!
PIDS+=("$RELAY")
wait_for at_least 10 "$WORK/f.log" query-balloon
[ "$(balloons "$WORK/f.log" $GIB)" -eq 1 ] &&
	[ "$(balloons "$WORK/f.log")" -eq 1 ]
ok $? "daemon: an unchanged target is sent once in 10 passes"
set_target 1234-12 $((GIB / 2))
wait_for at_least 1 "$WORK/f.log" "\"value\":$((GIB / 2))}"
ok $? "daemon: a changed target is sent"
wait_for grep -qx $((GIB / 2)) "$D/balloon_actual_bytes"
ok $? "daemon: the new actual size is written back"
[ "$(count "$WORK/relay.err" "5678-3: balloon to .* failed")" -eq 1 ] &&
	[ "$(balloons "$WORK/g.log")" -eq 1 ]
ok $? "daemon: a failing VM is reported once and not retried"
set_target 5678-3 $((2 * GIB))
wait_for at_least 2 "$WORK/g.log" '"execute":"balloon"'
ok $? "daemon: after an error, a new target is tried again"
kill -0 "$RELAY" 2>/dev/null
ok $? "daemon: still running after error replies"
grep -q "event BALLOON_CHANGE" "$WORK/relay.err"
ok $? "daemon: interleaved events are read and skipped"

kill -TERM "$QG"
wait_for grep -q "5678-3: QMP socket closed, dropping it" "$WORK/relay.err"
ok $? "daemon: a closed socket drops that VM"
n=$(count "$WORK/f.log" query-balloon)
set_target 1234-12 $((GIB / 4))
wait_for at_least 1 "$WORK/f.log" "\"value\":$((GIB / 4))}" &&
	kill -0 "$RELAY" 2>/dev/null &&
	[ "$(count "$WORK/f.log" query-balloon)" -gt "$n" ]
ok $? "daemon: the other VM is still served"
kill -TERM "$QF"
wait_for gone "$RELAY"
wait "$RELAY"
ok $? "daemon: exits 0 once every VM is gone"

# SIGTERM
start_qmp h
"$BIN" "${R[@]}" --interval 1000 1234-12="$WORK/h.sock" \
	>/dev/null 2>"$WORK/relay2.err" &
RELAY=$!
PIDS+=("$RELAY")
wait_for at_least 1 "$WORK/h.log" query-balloon
kill -TERM "$RELAY"
wait_for gone "$RELAY"
wait "$RELAY" && wait_for gone "$QMP_PID"
ok $? "SIGTERM stops the relay with exit 0 and closes its socket"

# nothing to connect to
run "$BIN" "${R[@]}" 1234-12="$WORK/nothing.sock"
[ "$RC" -eq 1 ] && [[ "$ERR" == *"cannot connect"* ]]
ok $? "no QMP socket: message and exit 1"

finish
