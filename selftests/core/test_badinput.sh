#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Garbage written to kvmx_core's files gets a clear errno and changes
# nothing. The runner fails the run on any kernel warning.
# kvmx-timeout: 200
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 36
kvmx_unload_all
check "kvmx_core loads" kvmx_load_core
A=$KVMX_SYS/attach
D=$KVMX_SYS/detach
M=$KVMX_SYS/memstate

# A pid that does not exist.
nopid=4000000
while [ -e /proc/$nopid ]; do nopid=$((nopid + 1)); done

expect_errno "attach empty line" EINVAL $A $'\n'
expect_errno "attach abc" EINVAL $A abc
expect_errno "attach -1" EINVAL $A -1
expect_errno "attach 0" EINVAL $A 0
expect_errno "attach 99999999999" ERANGE $A 99999999999
expect_errno "attach 12abc" EINVAL $A 12abc
expect_errno "attach non-existent pid $nopid" ESRCH $A $nopid
expect_errno "attach a process without KVM (self)" ENOENT $A $$
expect_errno "attach a kernel thread (kthreadd)" ENOENT $A 2
check "nothing got attached" no_vms

guest start b1 --mem 128 >/dev/null
p=$(guest_pid b1)
check "a guest attaches" wait_for 5 has_vm_of_pid "$p"
id=$(vm_of_pid "$p")
expect_errno "attach an attached VM again" EEXIST $A "$p"
check "still exactly one entry" test "$(vm_count)" = 1

expect_errno "detach empty line" EINVAL $D $'\n'
expect_errno "detach abc" EINVAL $D abc
expect_errno "detach 12-" EINVAL $D 12-
expect_errno "detach -5" EINVAL $D -5
expect_errno "detach 0-3" ERANGE $D 0-3
expect_errno "detach 99999999999-1" ERANGE $D 99999999999-1
expect_errno "detach unknown id 1-1" ENOENT $D 1-1
check "the guest is still attached" has_vm_of_pid "$p"
expect_errno "detach $id" OK $D "$id"
check "detach removed the entry" no_vms
expect_errno "detach it again" ENOENT $D "$id"
expect_errno "attach it again by pid" OK $A "$p"
guest stop b1

t0=$(cat $M/thresholds)
expect_errno "thresholds out of range" ERANGE $M/thresholds "2000 60 40 20"
expect_errno "thresholds out of order" EINVAL $M/thresholds "20 40 60 80"
expect_errno "thresholds with a duplicate" EINVAL $M/thresholds "80 60 60 20"
expect_errno "thresholds not a number" EINVAL $M/thresholds "abc"
expect_errno "three thresholds" EINVAL $M/thresholds "80 60 40"
expect_errno "five thresholds" EINVAL $M/thresholds "80 60 40 20 10"
expect_errno "negative threshold" EINVAL $M/thresholds "80 60 40 -1"
check "thresholds unchanged ($t0)" test "$(cat $M/thresholds)" = "$t0"
{
	r1=$(write_errno $M/hysteresis 101)
	r2=$(write_errno $M/hysteresis x)
	r3=$(write_errno $M/poll_ms 0)
	r4=$(write_errno $M/poll_ms 600001)
	r5=$(write_errno $M/poll_ms abc)
}
check "hysteresis 101/x, poll_ms 0/600001/abc: ERANGE EINVAL ERANGE ERANGE EINVAL" \
	test "$r1 $r2 $r3 $r4 $r5" = "ERANGE EINVAL ERANGE ERANGE EINVAL"
check "kvmx_core unloads" rmmod kvmx_core
tap_done
