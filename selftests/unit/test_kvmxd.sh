#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unit test of tools/kvmxd.c without kvmx_core: kvmxd serves one end of a
# SOCK_SEQPACKET socket pair (--fd) that stands in for /dev/kvmx_advice,
# and advises a real target process, whose file-backed pages page-out
# really drops (no swap needed). Needs root for process_madvise(2).
# Output is TAP version 13; exits 0 only if every check passed.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=selftests/unit/unit_lib.sh
. "$HERE/unit_lib.sh" kvmxd 31
SRC="$HERE/../../tools/kvmxd.c"
BIN="$BUILD_DIR/kvmxd"
LIB="$HERE/../../tools/lib"

unit_build -Werror "$LIB/kvmxd_conf.c" "$LIB/kvmxd_vms.c"

run "$BIN" --help
[ "$RC" -eq 0 ] && [[ "$OUT" == usage:* ]]
ok $? "--help prints the usage and exits 0"
run "$BIN" --bogus
[ "$RC" -eq 2 ]
ok $? "an unknown option exits 2"
run "$BIN" --hold-ms 700000
[ "$RC" -eq 2 ] && [[ "$ERR" == *"--hold-ms"* ]]
ok $? "--hold-ms out of range exits 2"
run "$BIN" --device "$WORK/none"
[ "$RC" -eq 1 ] && [[ "$ERR" == *"is kvmx_core loaded?"* ]]
ok $? "a missing device exits 1 and names kvmx_core"
bad=0
for args in "--scan-ms 9" "--scan-ms 60001" "--scan-ms x" "--config" \
	"--config-dir=" "--sysfs="; do
	# shellcheck disable=SC2086  # each is several words
	run "$BIN" $args
	[ "$RC" -eq 2 ] || { echo "# $args: exit $RC"; bad=1; }
done
ok $bad "a bad --scan-ms, --config, --config-dir or --sysfs exits 2"

if [ "$(id -u)" != 0 ]; then
	while [ "$N" -lt "$PLAN" ]; do skip "advice checks" "needs root"; done
	finish
fi

# The harness: the target process, the fake device, the requests. It
# prints name=value lines that the checks below read.
cat >"$WORK/harness.py" <<'EOF'
import ctypes, errno, mmap, os, signal, socket, struct, subprocess, sys, time

binary, work = sys.argv[1], sys.argv[2]
REQ = struct.Struct("=QQiiQQ")
RES = struct.Struct("=Qq")
MADV_COLD, MADV_PAGEOUT = 20, 21
M = 1 << 20

# Target: 16 MiB of a file, mapped and read in; [10 MiB, 12 MiB) unmapped.
path = os.path.join(work, "target.dat")
with open(path, "wb") as f:
    f.write(os.urandom(16 * M))
rd, wr = os.pipe()
target = os.fork()
if target == 0:
    f = open(path, "r+b")
    m = mmap.mmap(f.fileno(), 16 * M)
    sum(m[i] for i in range(0, 16 * M, 4096))
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.munmap(addr + 10 * M, 2 * M)
    os.write(wr, f"{addr}\n".encode())
    time.sleep(120)
    os._exit(0)
base = int(os.read(rd, 64).decode())
ino = os.fstat(os.pidfd_open(target)).st_ino

def rss_file():
    with open(f"/proc/{target}/status") as f:
        for line in f:
            if line.startswith("RssFile:"):
                return int(line.split()[1]) * 1024
    return 0

dead = os.fork()
if dead == 0:
    os._exit(0)
os.waitpid(dead, 0)

a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
log = open(os.path.join(work, "kvmxd.log"), "w")
d = subprocess.Popen([binary, "--fd", str(b.fileno()), "--verbose"]
                     + sys.argv[3:], pass_fds=[b.fileno()], stderr=log)
b.close()
a.settimeout(10)
ids = iter(range(1, 1 << 30))

def ask(*reqs):
    """Send requests (pid, ino, advice, start, len) as one batch."""
    batch = [(next(ids),) + r for r in reqs]
    a.send(b"".join(REQ.pack(i, ino_, pid, adv, s, n)
                    for i, pid, ino_, adv, s, n in batch))
    got = {}
    while len(got) < len(batch):
        data = a.recv(65536)
        for off in range(0, len(data), RES.size):
            rid, res = RES.unpack_from(data, off)
            got[rid] = res
    return [got.get(r[0]) for r in batch]

def out(name, value):
    print(f"{name}={value}", flush=True)

if "--hold-ms" in sys.argv:
    # A batch in hand when SIGTERM comes is still answered.
    a.send(REQ.pack(1, ino, target, MADV_COLD, base, 2 * M))
    time.sleep(0.5)
    d.send_signal(signal.SIGTERM)
    data = a.recv(64)
    out("held", RES.unpack(data)[1] if len(data) == RES.size else None)
    out("rc", d.wait(10))
    sys.exit(0)

before = rss_file()
res = ask(*[(target, ino, MADV_PAGEOUT, base + i * 2 * M, 2 * M)
            for i in range(4)])
out("batch", ",".join(str(r) for r in res))
out("batch_drop", before - rss_file())

before = rss_file()
out("stale", ask((target, ino + 1, MADV_PAGEOUT, base + 8 * M, 2 * M))[0])
out("stale_drop", before - rss_file())
out("dead", ask((dead, ino, MADV_PAGEOUT, base, 2 * M))[0])

res = ask(*[(target, ino, MADV_PAGEOUT, base + o * M, 2 * M)
            for o in (8, 10, 12)])
out("partial", ",".join(str(r) for r in res))

res = ask((target, ino, 4, base, 2 * M),
          (target, ino, MADV_COLD, base + 100, 2 * M),
          (target, ino, MADV_COLD, base, 0))
out("malformed", ",".join(str(r) for r in res))

res = ask(*[(target, ino + 1 + i, MADV_COLD, base, 4096) for i in range(40)])
out("many", len([r for r in res if r == -errno.ESRCH]))

d.send_signal(signal.SIGTERM)
out("rc", d.wait(10))
os.kill(target, signal.SIGKILL)
EOF

val() { sed -n "s/^$1=//p" "$WORK/res"; }

timeout 60 python3 "$WORK/harness.py" "$BIN" "$WORK" --no-policy \
	>"$WORK/res" 2>"$WORK/harness.err"
[ -s "$WORK/harness.err" ] && sed 's/^/# /' "$WORK/harness.err"
sed 's/^/# /' "$WORK/kvmxd.log" | head -n 20

M=1048576
[ "$(val batch)" = "$((2 * M)),$((2 * M)),$((2 * M)),$((2 * M))" ]
ok $? "four page-outs in one batch: 2 MiB advised each ($(val batch))"
[ "$(val batch_drop)" -ge $((6 * M)) ]
ok $? "the target's file pages really went ($(val batch_drop) bytes)"
grep -q "pageout of 4 ranges" "$WORK/kvmxd.log"
ok $? "the batch is one process_madvise() call"
[ "$(val stale)" = -3 ] && [ "$(val stale_drop)" = 0 ]
ok $? "a pid whose pidfs inode differs: ESRCH, nothing advised ($(val stale), $(val stale_drop))"
grep -q "is no longer the VM's process" "$WORK/kvmxd.log"
ok $? "kvmxd says why"
[ "$(val dead)" = -3 ]
ok $? "a pid that exited: ESRCH ($(val dead))"
[ "$(val partial)" = "$((2 * M)),-12,$((2 * M))" ]
ok $? "an unmapped range fails alone, its neighbours are advised ($(val partial))"
[ "$(val malformed)" = "-22,-22,-22" ]
ok $? "bad advice, an unaligned start and a zero length: EINVAL ($(val malformed))"
lines=$(grep -c "request .*no longer the VM's process" "$WORK/kvmxd.log")
[ "$(val many)" = 40 ] && [ "$lines" -le 10 ]
ok $? "40 failures in a row: all answered, at most 10 logged ($lines)"
[ "$(val rc)" = 0 ] && grep -q "exiting: .* requests" "$WORK/kvmxd.log"
ok $? "SIGTERM: exit 0 with a summary line"

timeout 60 python3 "$WORK/harness.py" "$BIN" "$WORK" --no-policy \
	--hold-ms 2000 >"$WORK/res" 2>"$WORK/harness.err"
[ "$(val held)" = $((2 * M)) ] && [ "$(val rc)" = 0 ]
ok $? "SIGTERM while a batch is held: it is still answered, then exit 0"

# --- per-VM policy, against a fake ROOT/vms and real processes ---------
S=$WORK/sys
C=$WORK/kvmxd.conf
D=$WORK/vms.d
mkdir -p "$S/vms" "$S/ksm_cmd" "$S/idle_tax" "$D"
mkfifo "$WORK/dev"
UUID=0f3c6e2a-5b1d-4c8e-9a7f-2d4b6c8e0a1f
# fake_vm ARGS...: a process with ARGS on its command line, like a QEMU
# (-name, -uuid); its pid in VM.
fake_vm() {
	python3 -c 'import time; time.sleep(600)' "$@" </dev/null >/dev/null 2>&1 &
	VM=$!
	disown "$VM"	# killed at exit, without a word from bash
	PIDS+=("$VM")
}
# vm_dir PID [no-idle-tax]: ROOT/vms/PID-12 with the files kvmxd writes
vm_dir() {
	local d=$S/vms/$1-12
	mkdir -p "$d"
	echo "$1" >"$d/pid"
	: >"$d/ksm_domain"
	if [ "${2:-}" != no-idle-tax ]; then
		mkdir -p "$d/idle_tax"
		: >"$d/idle_tax/shares"
		: >"$d/idle_tax/min_bytes"
		: >"$d/idle_tax/max_bytes"
	fi
	# last, as kvmx_core does: the VM is ready
	date +%s%N >"$d/attached_ns"
}
# knob PID FILE: what kvmxd wrote last (the files are plain: first line)
knob() { head -n 1 "$S/vms/$1-12/$2" 2>/dev/null; }
# knob_is PID FILE VALUE
# shellcheck disable=SC2317  # called through wait_for
knob_is() { [ "$(knob "$1" "$2")" = "$3" ]; }
# lines_of ID N: kvmxd has logged N lines about VM ID
# shellcheck disable=SC2317  # called through wait_for
lines_of() { [ "$(grep -c "^kvmxd: $1 " "$WORK/policy.log")" -eq "$2" ]; }
KD=()
start_kvmxd() {
	"$BIN" --fd 3 --sysfs "$S" --config "$C" --config-dir "$D" \
		--scan-ms 50 "$@" 3<>"$WORK/dev" 2>>"$WORK/policy.log" &
	KD=("$!")
	PIDS+=("$!")
}
cat >"$C" <<'CONF'
# two VMs by name, one by uuid, and everyone else
[vm web1]
shares = 2000
min_bytes = 256M
max_bytes = 1G
ksm_domain = 5

[default]
shares = 500
CONF
cat >"$D/db.conf" <<CONF
[uuid ${UUID^^}]
ksm_domain = 7
CONF

fake_vm -name guest=web1,debug-threads=on -m 2048
web=$VM
vm_dir "$web"
start_kvmxd
wait_for grep -q "^kvmxd: $web-12 " "$WORK/policy.log"
[ "$(knob "$web" ksm_domain)" = 5 ] && [ "$(knob "$web" idle_tax/shares)" = 2000 ] &&
	[ "$(knob "$web" idle_tax/min_bytes)" = 268435456 ] &&
	[ "$(knob "$web" idle_tax/max_bytes)" = 1073741824 ]
ok $? "a VM attached before kvmxd starts gets its [vm web1] section"
grep -q "^kvmxd: $web-12 (web1): \[vm web1\] of $C:2: ksm_domain=5 max_bytes=1073741824 min_bytes=268435456 shares=2000\$" \
	"$WORK/policy.log"
ok $? "one log line names the VM, the section, its file and line, and what was set"

start=$(date +%s%N)
fake_vm -name db -uuid "$UUID"
db=$VM
vm_dir "$db"
fake_vm -m 1024
other=$VM
vm_dir "$other" no-idle-tax
wait_for grep -q "^kvmxd: $other-12 " "$WORK/policy.log"
wait_for grep -q "^kvmxd: $db-12 " "$WORK/policy.log"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$(knob "$db" ksm_domain)" = 7 ] && [ -z "$(knob "$db" idle_tax/shares)" ] &&
	[ "$ms" -lt 1000 ]
ok $? "a new VM gets its [uuid] section (upper case in the file) within a second (${ms} ms), keys it does not set untouched"
grep -q "^kvmxd: $other-12 (no name): \[default\] of $C:8: nothing set; failed: idle_tax/shares: No such file or directory (module not loaded)\$" \
	"$WORK/policy.log"
ok $? "a VM without idle_tax's files: [default] fails with the reason, kvmxd goes on"

# SIGHUP: a good edit applies to the running VMs
sed -i 's/^shares = 2000/shares = 3000/' "$C"
: >"$S/vms/$web-12/idle_tax/shares"
kill -HUP "${KD[0]}"
wait_for grep -q "policy: reloaded, 3 sections; applying to 3 VMs" "$WORK/policy.log" &&
	wait_for knob_is "$web" idle_tax/shares 3000
ok $? "SIGHUP applies an edited policy to every attached VM"

# SIGHUP: a bad edit is refused with its line, the old policy stays
cp "$C" "$WORK/good.conf"
sed -i 's/^ksm_domain = 5/ksm_domain = 70000/' "$C"
kill -HUP "${KD[0]}"
wait_for grep -q "keeping the policy in force" "$WORK/policy.log"
grep -q "^kvmxd: policy: $C:6: ksm_domain: 70000 is out of range 0..65535\$" "$WORK/policy.log"
ok $? "a bad edit is refused with its file and line"
fake_vm -name web1
web2=$VM
vm_dir "$web2"
wait_for grep -q "^kvmxd: $web2-12 " "$WORK/policy.log"
[ "$(knob "$web2" ksm_domain)" = 5 ] && [ "$(knob "$web2" idle_tax/shares)" = 3000 ]
ok $? "the policy in force stays: a new web1 gets domain 5 and 3000 shares"

# a VM that goes away is forgotten; one with its name again is new, and
# so is one attached again between two scans (another attached_ns)
n=$(grep -c "^kvmxd: $web2-12 " "$WORK/policy.log")
rm -rf "$S/vms/$web2-12"
sleep 0.3
vm_dir "$web2"
wait_for lines_of "$web2-12" $((n + 1))
r1=$?
date +%s%N >"$S/vms/$web2-12/attached_ns"
wait_for lines_of "$web2-12" $((n + 2))
r2=$?
ok $((r1 | r2)) "a VM detached and attached again, also between two scans, gets its policy again"
n=$(grep -c "^kvmxd: " "$WORK/policy.log")
sleep 0.5
[ "$(grep -c "^kvmxd: " "$WORK/policy.log")" -eq "$n" ]
ok $? "nothing is applied twice while nothing changes"

# a module loaded again: every VM gets its policy again
n=$(grep -c "^kvmxd: $web-12 " "$WORK/policy.log")
mkdir "$S/ksm_cmd.new"	# alive together: another inode, as in sysfs
rm -rf "$S/ksm_cmd"
mv "$S/ksm_cmd.new" "$S/ksm_cmd"
wait_for lines_of "$web-12" $((n + 1)) &&
	grep -q "policy: a module was loaded; applying to 4 VMs" "$WORK/policy.log"
ok $? "ksm_cmd loaded again: every VM gets its policy again"

# ROOT/vms going away (kvmx_core unloaded): said once, kvmxd stays
mv "$S/vms" "$S/vms.away"
sleep 0.5
[ "$(grep -c "vms: No such file or directory: is kvmx_core loaded?" "$WORK/policy.log")" -eq 1 ] &&
	kill -0 "${KD[0]}"
ok $? "ROOT/vms gone: said once, kvmxd keeps serving"
mv "$S/vms.away" "$S/vms"
kill -TERM "${KD[0]}"
wait "${KD[0]}"
ok $? "SIGTERM: exit 0"

# a bad policy at start: exit 1 with its line, before anything is touched
cp "$WORK/good.conf" "$C"
printf '[vm web3]\nshares = 2000\nshares = 3\n' >"$D/dup.conf"
: >"$S/vms/$web-12/ksm_domain"
: >"$WORK/policy.log"
start_kvmxd
wait "${KD[0]}"
rc=$?
[ "$rc" -eq 1 ] && grep -q "^kvmxd: policy: .*dup.conf:3: " "$WORK/policy.log" &&
	[ -z "$(knob "$web" ksm_domain)" ]
ok $? "a bad policy at start: exit 1 naming the file and line, no VM touched"
grep "policy:" "$WORK/policy.log" | sed 's/^/# /'
rm "$D/dup.conf"

# --no-policy reads no file and touches no VM
echo "garbage" >"$C"
start_kvmxd --no-policy
sleep 0.5
kill -TERM "${KD[0]}"
wait "${KD[0]}" && [ -z "$(knob "$web" ksm_domain)" ]
ok $? "--no-policy: no file read, no VM touched"
finish
