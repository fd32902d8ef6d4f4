#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unit test of tools/kvmxd.c without kvmx_core: kvmxd serves one end of a
# SOCK_SEQPACKET socket pair (--fd) that stands in for /dev/kvmx_advice,
# and advises a real target process, whose file-backed pages page-out
# really drops (no swap needed). Needs root for process_madvise(2).
# Output is TAP version 13; exits 0 only if every check passed.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=selftests/unit/unit_lib.sh
. "$HERE/unit_lib.sh" kvmxd 16
SRC="$HERE/../../tools/kvmxd.c"
BIN="$BUILD_DIR/kvmxd"

unit_build

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

timeout 60 python3 "$WORK/harness.py" "$BIN" "$WORK" >"$WORK/res" 2>"$WORK/harness.err"
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

timeout 60 python3 "$WORK/harness.py" "$BIN" "$WORK" --hold-ms 2000 \
	>"$WORK/res" 2>"$WORK/harness.err"
[ "$(val held)" = $((2 * M)) ] && [ "$(val rc)" = 0 ]
ok $? "SIGTERM while a batch is held: it is still answered, then exit 0"
finish
