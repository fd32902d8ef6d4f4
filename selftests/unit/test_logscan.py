# SPDX-License-Identifier: GPL-2.0
"""Unit tests of the kernel-log detector the VM runner fails runs with."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "vm"))
import logscan  # noqa: E402

SAMPLES = {
    "bug": "[   12.3] BUG: kernel NULL pointer dereference, address: 0000000000000008",
    "bug-sleep": "[    1.0] BUG: sleeping function called from invalid context at mm/slub.c:1",
    "warning": "[   99.1] WARNING: CPU: 1 PID: 231 at mm/ksm.c:1234 foo+0x1/0x2 [kvmx_core]",
    "lockdep": "[    5.5] WARNING: possible circular locking dependency detected",
    "oops": "[   17.4] Oops: general protection fault, probably for non-canonical address",
    "oops-int3": "[  177.4] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI",
    "call-trace": "[   17.5] Call Trace:",
    "soft-lockup": "[   80.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [ksmd:40]",
    "hard-lockup": "[   80.0] NMI watchdog: Watchdog detected hard LOCKUP on cpu 1",
    "hung-task": "[  240.0] INFO: task kworker/0:1:12 blocked for more than 120 seconds.",
    "hung-task2": "[  240.0] Kernel panic - not syncing: hung_task: blocked tasks",
    "rcu-stall": "[  300.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
    "panic": "[    3.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b",
    "kasan": "[   10.0] BUG: KASAN: slab-use-after-free in kvmx_vm_detach+0x10/0x20",
    "ubsan": "[   10.0] UBSAN: shift-out-of-bounds in core/registry.c:10:2",
    "list": "[   10.0] list_del corruption. prev->next should be ffff, but was dead",
    "slub": "[   42.0] BUG kmalloc-2k (Tainted: G           O      ): Poison overwritten",
    "slub-redzone": "[   42.0] INFO: Redzone overwritten 0xffff8881 -0xffff8882 @offset=8",
    "kfence": "[   42.0] BUG: KFENCE: use-after-free read in kvmx_sampler_mark+0x3/0x90",
    "leak": "kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
}

CLEAN = """\
[    0.000000] Linux version 6.12.117+deb12-amd64
[    6.478068] kvmx_core: loading out-of-tree module taints kernel.
[    6.495170] kvmx_core: loaded
[   12.921256] kvm: kvm [212]: vcpu0, guest rIP: 0xffffffffb7c9e458 Unhandled WRMSR(0xc0010007) = 0xffff
[   13.000000] kvmx_core: attached VM 212-11
[   13.100000] kvmx_core: memory state high -> low (available 10 MiB of 6000 MiB)
[   18.948235] kvmx_core: unloaded
"""


class LogScanTest(unittest.TestCase):
    def test_each_pattern_is_caught(self):
        for name, line in SAMPLES.items():
            with self.subTest(name=name):
                hits = logscan.scan(CLEAN + line + "\n")
                self.assertEqual(len(hits), 1, f"{name}: {hits}")
                self.assertEqual(hits[0][0], CLEAN.count("\n") + 1)

    def test_clean_log_passes(self):
        self.assertEqual(logscan.scan(CLEAN), [])

    def test_every_line_reported_once(self):
        text = SAMPLES["warning"] + "\n" + SAMPLES["call-trace"] + "\n"
        self.assertEqual([h[1] for h in logscan.scan(text)],
                         ["warning", "call-trace"])

    def test_missing_file_is_clean(self):
        self.assertEqual(logscan.scan_file("/nonexistent/kvmx.log"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
