#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The client API feature modules use: a client registered after VMs are
# attached gets them all, new VMs reach it, its per-VM attributes appear in
# each VM's directory and vanish with it, and unregistering detaches all.
# kvmx-timeout: 200
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 12
kvmx_unload_all
check "kvmx_core loads" kvmx_load_core
guest start k1 --mem 128 >/dev/null
p1=$(guest_pid k1)
wait_for 5 has_vm_of_pid "$p1"
id1=$(vm_of_pid "$p1")
check "no client attribute before the client loads" \
	test ! -e "$KVMX_SYS/vms/$id1/test_seq"
check "test client loads" kvmx_load_test_client
check "the VM attached earlier got the client's attributes" \
	test -r "$KVMX_SYS/vms/$id1/test_seq"
guest start k2 --mem 128 >/dev/null
p2=$(guest_pid k2)
wait_for 5 has_vm_of_pid "$p2"
id2=$(vm_of_pid "$p2")
check "a new VM gets them on attach" test -r "$KVMX_SYS/vms/$id2/test_seq"
check "attach order: $id1 then $id2" \
	test "$(cat "$KVMX_SYS/vms/$id1/test_seq") $(cat "$KVMX_SYS/vms/$id2/test_seq")" = "1 2"
expect_errno "client attribute rejects 101" ERANGE "$KVMX_SYS/vms/$id1/test_value" 101
expect_errno "client attribute takes 42" OK "$KVMX_SYS/vms/$id1/test_value" 42
check "and reads it back" test "$(cat "$KVMX_SYS/vms/$id1/test_value")" = 42
guest stop k2
wait_for 5 no_vm_of_pid "$p2"
check "detach of an exited VM reached the client" \
	test "$(awk '$1 == "detached" { print $2 }' "$KVMX_DBG/test_client")" = 1
check "test client unloads" rmmod kvmx_test_client
check "its attributes are gone from the remaining VM" \
	test ! -e "$KVMX_SYS/vms/$id1/test_seq" -a -d "$KVMX_SYS/vms/$id1"
guest stop k1
kvmx_unload_all
tap_done
