# SPDX-License-Identifier: GPL-2.0
"""Start and drive stock-QEMU guests inside the kvmx test host.

Each guest boots the test host's own kernel with the kvmx initramfs in its
"guest" role: it mounts the test host's root read-only at /host (so test
programs are at /host/<project>/build/bin) and serves shell commands on its
second serial port, which QEMU exposes as a unix socket here. A QMP socket
is there for balloon and shutdown.

State lives in /run/kvmx-guests/<name>/: pid, cmd.sock, qmp.sock,
console.log, qemu.log.
"""
import base64
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid

STATE = "/run/kvmx-guests"
TOP = os.environ.get("KVMX_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KVER = os.environ.get("KVMX_KVER") or os.uname().release


class GuestError(Exception):
    pass


def _initrd():
    return os.path.join(TOP, "build", "vm", f"initramfs-{KVER}.cpio.gz")


class Guest:
    def __init__(self, name):
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", name):
            raise GuestError(f"bad guest name {name!r}")
        self.name = name
        self.dir = os.path.join(STATE, name)

    def path(self, what):
        return os.path.join(self.dir, what)

    # --- lifecycle -------------------------------------------------------

    def start(self, mem=256, cpus=1, backend="ram", balloon=False,
              extra=None, wait=True, timeout=180):
        if self.pid():
            raise GuestError(f"guest {self.name} is already running")
        os.makedirs(self.dir, exist_ok=True)
        for f in ("cmd.sock", "qmp.sock", "console.log", "pid"):
            try:
                os.unlink(self.path(f))
            except FileNotFoundError:
                pass
        append = (f"console=ttyS0 loglevel=4 panic=-1 mitigations=off "
                  f"kvmx.role=guest "
                  f"kvmx.name={self.name} kvmx.balloon={int(balloon)}")
        cmd = ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host",
               "-smp", str(cpus), "-name", self.name,
               "-nodefaults", "-no-user-config", "-display", "none",
               "-no-reboot",
               "-kernel", f"/boot/vmlinuz-{KVER}", "-initrd", _initrd(),
               "-append", append,
               "-serial", f"file:{self.path('console.log')}",
               "-chardev", f"socket,id=cmd,path={self.path('cmd.sock')},"
                           "server=on,wait=off",
               "-serial", "chardev:cmd",
               "-qmp", f"unix:{self.path('qmp.sock')},server=on,wait=off",
               "-virtfs", "local,path=/,mount_tag=hostroot,"
                          "security_model=none,readonly=on,multidevs=remap",
               "-pidfile", self.path("pid")]
        size = f"{mem}M"
        if backend == "ram":
            cmd += ["-m", size]
        elif backend == "thp":
            # Anonymous memory that QEMU marks MADV_HUGEPAGE.
            cmd += ["-m", size, "-object",
                    f"memory-backend-ram,id=mem0,size={size}",
                    "-machine", "memory-backend=mem0"]
        elif backend == "hugetlb":
            cmd += ["-m", size, "-object",
                    f"memory-backend-file,id=mem0,size={size},"
                    "mem-path=/dev/hugepages,prealloc=on",
                    "-machine", "memory-backend=mem0"]
        elif backend == "memfd":
            cmd += ["-m", size, "-object",
                    f"memory-backend-memfd,id=mem0,size={size}",
                    "-machine", "memory-backend=mem0"]
        else:
            raise GuestError(f"unknown memory backend {backend!r}")
        if balloon:
            cmd += ["-device", "virtio-balloon-pci,id=balloon0"]
        cmd += extra or []
        with open(self.path("qemu.log"), "w") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log,
                                    start_new_session=True)
        deadline = time.time() + 30
        while not self.pid():
            if proc.poll() is not None:
                raise GuestError(f"qemu for {self.name} exited: "
                                 + open(self.path("qemu.log")).read()[-2000:])
            if time.time() > deadline:
                raise GuestError(f"qemu for {self.name} wrote no pid file")
            time.sleep(0.05)
        if wait:
            self.wait_ready(timeout)
        return self.pid()

    def pid(self):
        try:
            with open(self.path("pid")) as f:
                pid = int(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return 0
        # A zombie counts as gone.
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return 0
        except FileNotFoundError:
            return 0
        return pid

    def wait_ready(self, timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.pid():
                raise GuestError(f"guest {self.name} died while booting; "
                                 f"console: {self.console_tail()}")
            try:
                rc, out = self.run("echo kvmx-alive", timeout=3)
                if rc == 0 and "kvmx-alive" in out:
                    return
            except (GuestError, OSError):
                pass
            time.sleep(0.5)
        raise GuestError(f"guest {self.name} not ready after {timeout}s; "
                         f"console: {self.console_tail()}")

    def stop(self, kill=False, timeout=30):
        pid = self.pid()
        if not pid:
            return
        if not kill:
            try:
                self.qmp("quit")
            except (OSError, GuestError):
                kill = True
        if kill:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.time() + timeout
        while self.pid():
            if time.time() > deadline:
                os.kill(pid, signal.SIGKILL)
                deadline = time.time() + 10
            time.sleep(0.05)
        # Reap it if it is our child (the CLI is not its parent).
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass

    def console_tail(self, n=2000):
        try:
            with open(self.path("console.log"), errors="replace") as f:
                return f.read()[-n:]
        except FileNotFoundError:
            return ""

    # --- channels --------------------------------------------------------

    def run(self, command, timeout=300):
        """Run a shell command in the guest: (exit status, output)."""
        token = uuid.uuid4().hex[:12]
        enc = base64.b64encode(command.encode()).decode()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.path("cmd.sock"))
            s.sendall(f"\nKVMX-CMD {token} {enc}\n".encode())
            buf = b""
            deadline = time.time() + timeout
            done = re.compile(rb"KVMX-DONE " + token.encode() + rb" (\d+)")
            begin = b"KVMX-BEGIN " + token.encode() + b"\n"
            while True:
                m = done.search(buf)
                if m:
                    break
                left = deadline - time.time()
                if left <= 0:
                    raise GuestError(f"{self.name}: command timed out")
                s.settimeout(left)
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    raise GuestError(f"{self.name}: command timed out")
                if not data:
                    raise GuestError(f"{self.name}: command channel closed")
                buf += data
        finally:
            s.close()
        i = buf.find(begin)
        start = i + len(begin) if i >= 0 else 0
        out = buf[start:m.start()].decode(errors="replace")
        return int(m.group(1)), out

    def qmp(self, command, **arguments):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(self.path("qmp.sock"))
            f = s.makefile("rwb")
            json.loads(f.readline())            # greeting
            f.write(b'{"execute": "qmp_capabilities"}\n')
            f.flush()
            json.loads(f.readline())
            req = {"execute": command}
            if arguments:
                req["arguments"] = arguments
            f.write(json.dumps(req).encode() + b"\n")
            f.flush()
            while True:
                line = f.readline()
                if not line:
                    if command == "quit":
                        return {}
                    raise GuestError(f"{self.name}: QMP closed")
                msg = json.loads(line)
                if "return" in msg:
                    return msg["return"]
                if "error" in msg:
                    raise GuestError(f"{self.name}: QMP {command}: "
                                     f"{msg['error'].get('desc')}")
        finally:
            s.close()


def names():
    try:
        return sorted(os.listdir(STATE))
    except FileNotFoundError:
        return []


def stop_all(kill=False):
    for n in names():
        Guest(n).stop(kill=kill)
