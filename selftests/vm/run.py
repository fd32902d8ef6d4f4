#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot the kvmx test host VM and run suites in it.

    run.py --kver KVER [--mem MB] [--cpus N] [--timeout S] SUITE...
    run.py --kver KVER --demo demo
    run.py --kver KVER --vmdir vm-debug --kernel-args "slub_debug=FZP" SUITE...

The test host is Debian's kernel under QEMU TCG with emulated SVM and nested
paging. Its root file system is this machine's root, shared read-only over
9p under a tmpfs overlay, so the project tree, its build outputs and every
installed tool are visible inside at the same paths. Results come back on
the second serial port; the kernel console is scanned for warnings.
"""
import argparse
import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import logscan  # noqa: E402

BOOT_TIMEOUT = 180      # seconds until the test host reports KVMX-HOST-UP
STALL_SLACK = 120       # beyond a test's own limit, with no output at all
WAKEUP_CHECK_S = 5      # how often to look for a lost vCPU wakeup


def log(msg):
    print(f"[vm] {msg}", flush=True)


def newer(target, *sources):
    if not os.path.exists(target):
        return True
    t = os.path.getmtime(target)
    return any(os.path.getmtime(s) > t for s in sources)


def prepare(build, kver):
    """Initramfs and the static test programs the suites and guests use.

    Two runs may start side by side (make test boots the debug test host
    beside the main one): whoever comes second waits, then finds it built.
    """
    vmdir = os.path.join(build, "vm")
    os.makedirs(vmdir, exist_ok=True)
    with open(os.path.join(build, ".prepare.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _prepare(build, kver, vmdir)


def _prepare(build, kver, vmdir):
    initrd = os.path.join(vmdir, f"initramfs-{kver}.cpio.gz")
    srcs = [os.path.join(HERE, "init"), os.path.join(HERE, "mkinitramfs.sh")]
    if newer(initrd, *srcs):
        log(f"building the initramfs for {kver}")
        subprocess.run(["bash", srcs[1], kver, initrd], check=True)
    bindir = os.path.join(build, "bin")
    os.makedirs(bindir, exist_ok=True)
    progs = []
    for d in (os.path.join(TOP, "selftests", "lib"), os.path.join(TOP, "tools")):
        progs += [os.path.join(d, f) for f in sorted(os.listdir(d))
                  if f.endswith(".c")]
    # the tools link the shared code in tools/lib
    libdir = os.path.join(TOP, "tools", "lib")
    libs = [os.path.join(libdir, f) for f in sorted(os.listdir(libdir))
            if f.endswith(".c")]
    deps = libs + [os.path.join(libdir, f) for f in os.listdir(libdir)
                   if f.endswith(".h")]
    for path in progs:
        src = os.path.basename(path)
        out = os.path.join(bindir, src[:-2])
        tool = os.path.dirname(path) == os.path.join(TOP, "tools")
        if newer(out, path, *(deps if tool else [])):
            log(f"building {src[:-2]}")
            subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-static",
                            "-Wl,--gc-sections", "-ffunction-sections",
                            "-o", out, path] + (libs if tool else []),
                           check=True)
    return initrd


class Section:
    def __init__(self, name):
        self.name = name
        self.lines = []
        self.rc = None
        self.seconds = 0
        self.timed_out = False

    @property
    def suite(self):
        return self.name.rsplit("/", 1)[0]

    def results(self):
        """(passed, failed, skipped, failure descriptions)."""
        p = f = s = 0
        bad = []
        if self.suite == "demo":
            if self.rc == 0:
                return 1, 0, 0, []
            return 0, 1, 0, [f"demo failed (status {self.rc})"]
        for line in self.lines:
            m = re.match(r"^(not ok|ok)\b\s*\d*\s*-?\s*(.*)$", line)
            if not m:
                continue
            desc = m.group(2)
            if re.search(r"#\s*SKIP", desc, re.I):
                s += 1
            elif m.group(1) == "ok":
                p += 1
            else:
                f += 1
                bad.append(f"{self.name}: {desc}")
        if self.timed_out:
            f += 1
            bad.append(f"{self.name}: timed out")
        elif self.rc is None:
            f += 1
            bad.append(f"{self.name}: did not finish")
        elif self.rc == 4 and p + f == 0:
            s += 0 if s else 1
        elif self.rc != 0 and f == 0:
            f += 1
            bad.append(f"{self.name}: exited with status {self.rc}")
        elif self.rc == 0 and p + f + s == 0:
            f += 1
            bad.append(f"{self.name}: reported no results")
        return p, f, s, bad


def parse(tap_text):
    sections = []
    cur = None
    flags = {"up": False, "done": False}
    dmesg = []
    in_dmesg = False
    for line in tap_text.splitlines():
        line = line.rstrip("\r")
        if in_dmesg:
            if line.startswith("KVMX-DMESG-END"):
                in_dmesg = False
            else:
                dmesg.append(line)
            continue
        if line.startswith("KVMX-HOST-UP"):
            flags["up"] = True
        elif line.startswith("KVMX-BEGIN "):
            cur = Section(line.split(None, 1)[1].strip())
            sections.append(cur)
        elif line.startswith("KVMX-END ") and cur:
            m = re.search(r"rc=(\d+) seconds=(\d+)", line)
            if m:
                cur.rc = int(m.group(1))
                cur.seconds = int(m.group(2))
                cur.timed_out = cur.rc == 124
            cur = None
        elif line.startswith("KVMX-DMESG-BEGIN"):
            in_dmesg = True
        elif line.startswith("KVMX-ALL-DONE"):
            flags["done"] = True
        elif cur is not None:
            cur.lines.append(line.strip())
    return sections, flags, "\n".join(dmesg)


class Monitor:
    """The test host's human monitor (HMP), one command at a time."""

    ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

    def __init__(self, path):
        self.path = path
        self.sock = None

    def _connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.path)
        self._until_prompt()

    def _until_prompt(self):
        data = b""
        while not data.endswith(b"(qemu) "):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("monitor closed")
            data += chunk
        return data

    def cmd(self, command):
        """What the command printed, or "" if the monitor is unreachable."""
        try:
            if self.sock is None:
                self._connect()
            self.sock.sendall(command.encode() + b"\n")
            out = self._until_prompt().decode(errors="replace")
        except OSError:
            self.close()
            return ""
        out = self.ANSI.sub("", out)
        lines = out.splitlines()[1:-1]     # drop the echo and the prompt
        return "\n".join(lines) + "\n"

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None


def lost_wakeup(mon):
    """True if the vCPU halts with a deliverable interrupt in its APIC IRR.

    QEMU 7.2's multi-threaded TCG sometimes loses the wakeup of a halted
    vCPU when the APIC timer fires from the main loop: the timer vector
    waits in IRR, the CPU sleeps in HLT with interrupts on, and the test
    host stands still until some other interrupt arrives.
    """
    regs = mon.cmd("info registers")
    if "HLT=1" not in regs:
        return False
    m = re.search(r"RFL=([0-9a-f]+)", regs)
    if not m or not int(m.group(1), 16) & 0x200:
        return False
    lapic = mon.cmd("info lapic")
    irr = re.search(r"^IRR\s+(.*)$", lapic, re.M)
    ppr = re.search(r"PPR 0x([0-9a-f]+)", lapic)
    if not irr or not ppr:
        return False
    vecs = [int(v) for v in re.findall(r"\d+", irr.group(1))]
    return bool(vecs) and (max(vecs) & 0xf0) > (int(ppr.group(1), 16) & 0xf0)


def stall_report(args, console):
    """Record where a stuck test host is before it is killed.

    The vCPU's registers say whether it spins in the test host or inside a
    nested guest; an NMI then makes the test host panic (unknown_nmi_panic
    is set at boot) with a backtrace on the console, if it still runs.
    """
    vmdir = args.vmdir
    mon = Monitor(os.path.join(vmdir, "monitor.sock"))
    text = mon.cmd("info cpus") + mon.cmd("info registers")
    text += mon.cmd("info lapic")
    before = os.path.getsize(console) if os.path.exists(console) else 0
    text += mon.cmd("nmi")
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(console) and os.path.getsize(console) > before:
            time.sleep(5)
            break
        time.sleep(0.5)
    text += mon.cmd("info registers")
    mon.close()
    path = os.path.join(vmdir, "stall.txt")
    with open(path, "w") as f:
        f.write(text)
    for line in text.splitlines():
        if re.match(r"^(RAX|RSI|R8 |R12|RIP|CS |CR0|EFER|\* CPU)", line):
            log(f"stall: {line.strip()}")
    if os.path.exists(console):
        with open(console, errors="replace") as f:
            f.seek(before)
            for line in f.read().splitlines()[-60:]:
                log(f"stall console: {line}")


def qemu_cmd(args, initrd, outdir, console, tap, mode, suites):
    append = " ".join([
        "console=ttyS0", "loglevel=4", "panic=-1", "mitigations=off",
        "kvmx.role=host", f"kvmx.dir={TOP}", f"kvmx.mode={mode}",
        f"kvmx.suites={','.join(suites) or 'none'}",
        f"kvmx.test_timeout={args.test_timeout}",
        "transparent_hugepage=madvise",
    ] + args.kernel_args.split())
    return [
        "qemu-system-x86_64", "-accel", f"tcg,thread={args.tcg_thread}",
        "-cpu", "EPYC,+svm,+npt", "-smp", str(args.cpus), "-m", str(args.mem),
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-kernel", f"/boot/vmlinuz-{args.kver}", "-initrd", initrd,
        "-append", append,
        "-serial", f"file:{console}", "-serial", f"file:{tap}",
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,"
                   "readonly=on,multidevs=remap",
        "-virtfs", f"local,path={outdir},mount_tag=kvmxout,"
                   "security_model=none,multidevs=remap",
        "-device", "virtio-rng-pci",
        "-monitor", f"unix:{os.path.join(args.vmdir, 'monitor.sock')},"
                    "server=on,wait=off",
    ]


def watch(proc, tap, args, echo):
    """Follow the result port until the VM stops; kill it when stuck."""
    start = time.time()
    last_output = start
    pos = 0
    buf = ""
    up = False
    limit = args.test_timeout + STALL_SLACK
    reason = None
    mon = Monitor(os.path.join(args.vmdir, "monitor.sock"))
    next_check = start + WAKEUP_CHECK_S
    suspect = 0
    args.kicks = 0
    while True:
        rc = proc.poll()
        try:
            with open(tap, "r", errors="replace") as f:
                f.seek(pos)
                chunk = f.read()
                pos = f.tell()
        except FileNotFoundError:
            chunk = ""
        if chunk:
            last_output = time.time()
            buf += chunk
            while "\n" in buf:
                line, buf = buf.split("\n", 1)
                line = line.rstrip("\r")
                if line.startswith("KVMX-HOST-UP"):
                    up = True
                    log(f"test host up after {time.time() - start:.0f}s "
                        f"({line.split()[-1]})")
                elif line.startswith("KVMX-DMESG-BEGIN"):
                    echo = False
                elif echo:
                    print(line, flush=True)
        if rc is not None:
            mon.close()
            return reason
        now = time.time()
        if up and now >= next_check:
            # Seen twice in a row, a second apart: wake the vCPU with a key
            # press (an interrupt from another source makes QEMU look at
            # the APIC again).
            suspect = suspect + 1 if lost_wakeup(mon) else 0
            next_check = now + (1 if suspect == 1 else WAKEUP_CHECK_S)
            if suspect >= 2:
                mon.cmd("sendkey shift")
                args.kicks += 1
                suspect = 0
                log(f"woke the test host's vCPU: halted with a pending "
                    f"APIC interrupt (QEMU TCG lost wakeup #{args.kicks})")
        if not up and now - start > BOOT_TIMEOUT:
            reason = f"test host did not come up within {BOOT_TIMEOUT}s"
        elif now - start > args.timeout:
            reason = f"run exceeded its {args.timeout}s limit"
        elif now - last_output > limit:
            reason = f"no output for {limit}s: test host stuck"
        if reason and up and proc.poll() is None:
            stall_report(args, args.console)
        if reason:
            mon.close()
            log(f"killing the test host: {reason}")
            proc.kill()
            proc.wait()
            return reason
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kver", required=True)
    ap.add_argument("--mem", type=int, default=6144, help="test host MiB")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=1500,
                    help="whole run, seconds")
    ap.add_argument("--test-timeout", type=int, default=600,
                    help="default limit of one test, seconds")
    # With two or more vCPUs, multi-threaded TCG races against the kernel's
    # own code patching (text_poke_bp): KVM flips static keys on every VM
    # create and destroy, and a vCPU sometimes runs a stale int3 ("Oops:
    # int3"). Single-threaded TCG avoids that but makes nested guests crawl.
    # So the test host has one vCPU by default, with multi-threaded TCG.
    ap.add_argument("--tcg-thread", choices=["single", "multi"],
                    default="multi")
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--vmdir", default="vm",
                    help="this run's folder under the build folder (logs, "
                         "monitor, outputs), so that two runs can go side "
                         "by side")
    ap.add_argument("--kernel-args", default="",
                    help="more kernel command line for the test host "
                         "(a debug boot: slub_debug, kfence)")
    ap.add_argument("--results", help="write passed/failed/skipped here")
    ap.add_argument("--demo", action="store_true")
    ap.add_argument("suites", nargs="*")
    args = ap.parse_args()

    if not shutil.which("qemu-system-x86_64"):
        log("qemu-system-x86_64 is missing: run scripts/deps.sh")
        return 1
    initrd = prepare(args.build, args.kver)
    args.vmdir = os.path.join(args.build, args.vmdir)
    os.makedirs(args.vmdir, exist_ok=True)
    outdir = os.path.join(args.vmdir, "out")
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    console = os.path.join(args.vmdir, "console.log")
    tap = os.path.join(args.vmdir, "results.log")
    for p in (console, tap):
        if os.path.exists(p):
            os.unlink(p)

    args.console = console
    mode = "demo" if args.demo else "test"
    cmd = qemu_cmd(args, initrd, outdir, console, tap, mode, args.suites)
    log(f"booting the test host ({args.mem} MiB, {args.cpus} vCPUs, "
        f"TCG with nested SVM{', ' + args.kernel_args if args.kernel_args else ''}), "
        f"suites: {' '.join(args.suites) or '-'}")
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(args.vmdir,
                                                     "qemu.log"), "w"))
    killed = watch(proc, tap, args, echo=True)
    elapsed = time.time() - t0

    with open(tap, "r", errors="replace") as f:
        sections, flags, dmesg = parse(f.read())
    hits = logscan.scan_file(console) + logscan.scan(dmesg)

    totals = [0, 0, 0]
    failures = []
    suites = {}
    for s in sections:
        p, f, sk, bad = s.results()
        agg = suites.setdefault(s.suite, [0, 0, 0, 0, 0])
        agg[0] += p
        agg[1] += f
        agg[2] += sk
        agg[3] += 1
        agg[4] += s.seconds
        failures += bad
    for name in args.suites:
        if name.split(":")[0] not in suites and not args.demo:
            failures.append(f"{name}: never ran")
            suites[name] = [0, 1, 0, 0, 0]
    if killed:
        failures.append(f"test host: {killed}")
    elif not flags["done"]:
        failures.append("test host: stopped before finishing")
    for n, name, line in hits:
        failures.append(f"kernel log line {n}: {name}: {line}")

    print()
    log(f"summary ({elapsed:.0f}s)")
    for name, (p, f, sk, n, secs) in suites.items():
        print(f"  suite {name}: {p} passed, {f} failed, {sk} skipped "
              f"({n} tests, {secs}s)")
        totals[0] += p
        totals[1] += f
        totals[2] += sk
    clean = not hits
    print(f"  kernel log: {'clean' if clean else f'{len(hits)} problems'}")
    if getattr(args, "kicks", 0):
        print(f"  lost vCPU wakeups repaired: {args.kicks}")
    # The kernel log and the run's own health count as one check each.
    for ok in (clean, not killed and flags["done"]):
        totals[0 if ok else 1] += 1
    for msg in failures:
        print(f"  FAIL {msg}")
    if failures:
        print(f"  logs: {console} {tap}")
    if args.results:
        with open(args.results, "w") as f:
            f.write(f"passed {totals[0]}\nfailed {totals[1]}\n"
                    f"skipped {totals[2]}\n")
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
