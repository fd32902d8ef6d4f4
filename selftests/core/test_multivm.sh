#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A process with two VMs: the KSM hook tells VMs apart by their process's
# memory, so two VMs of one process would share a KSM domain whichever
# each is given. kvmx attaches one of them and refuses the other with
# EBUSY, by hand and from KVM's uevent, and says so in the log. A process
# that closes its VM's file and lives on does not keep the VM pinned.
# kvmx-timeout: 120
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 9
kvmx_unload_all
check "kvmx_core loads" kvmx_load_core

rm -f /tmp/mv.ready
python3 - <<'PY' &
import fcntl, os, time
KVM_CREATE_VM = 0xAE01
kvm = os.open("/dev/kvm", os.O_RDWR)
vms = [fcntl.ioctl(kvm, KVM_CREATE_VM, 0) for _ in range(2)]
open("/tmp/mv.ready", "w").write(" ".join(map(str, vms)))
time.sleep(120)
PY
pid=$!
wait_for 20 test -s /tmp/mv.ready
count_of_pid() { vm_entries | grep -c "^$pid-"; }
one_vm() { [ "$(count_of_pid)" -eq 1 ]; }
check "one of its two VMs is attached from KVM's uevent" wait_for 10 one_vm
expect_errno "attaching the process again: EBUSY" EBUSY "$KVMX_SYS/attach" "$pid"
expect "still exactly one of its VMs" "$(count_of_pid)" 1
check "the log says why" eval 'dmesg | grep -q "process $pid has another VM attached"'
kill "$pid"
wait "$pid" 2>/dev/null
gone() { [ "$(count_of_pid)" -eq 0 ]; }
check "it is detached when the process exits" wait_for 10 gone

# Close the VM's file, keep the process.
rm -f /tmp/mv.ready /tmp/mv.closed
python3 - <<'PY' &
import fcntl, os, time
kvm = os.open("/dev/kvm", os.O_RDWR)
vm = fcntl.ioctl(kvm, 0xAE01, 0)
open("/tmp/mv.ready", "w").write(str(vm))
while not os.path.exists("/tmp/mv.close"):
    time.sleep(0.1)
os.close(vm)
open("/tmp/mv.closed", "w").write("closed")
time.sleep(60)
PY
pid=$!
rm -f /tmp/mv.close
wait_for 20 test -s /tmp/mv.ready
check "a VM of a process that will close it is attached" wait_for 10 one_vm
touch /tmp/mv.close
wait_for 10 test -e /tmp/mv.closed
check "once the process closed it, it is detached (the process lives)" \
	eval 'wait_for 15 gone && kill -0 $pid'
check "and KVM destroyed it" eval '! ls -d /sys/kernel/debug/kvm/$pid-* >/dev/null 2>&1'
kill "$pid"
wait "$pid" 2>/dev/null
kvmx_unload_all
tap_done
