#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM registry with real guests: automatic attach from KVM's uevent, the
# per-VM directory's facts and its modes (root only), and detach when QEMU
# exits (killed or quit).
# kvmx-timeout: 300
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 18
kvmx_unload_all
check "kvmx_core loads" kvmx_load_core

mib=384
guest start r1 --mem $mib >/dev/null
p1=$(guest_pid r1)
check "guest with $mib MiB boots" test -n "$p1"
check "it is attached automatically" wait_for 5 has_vm_of_pid "$p1"
id=$(vm_of_pid "$p1")
diag "entry $id"
fd=${id#*-}
check "entry is named <pid>-<fd> of the VM file" \
	test "$(readlink /proc/"$p1"/fd/"$fd")" = "anon_inode:kvm-vm"
check "pid file shows $p1" test "$(cat "$KVMX_SYS/vms/$id/pid")" = "$p1"
bytes=$(cat "$KVMX_SYS/vms/$id/memory_bytes")
check "memory_bytes is $((mib << 20)) (got $bytes)" test "$bytes" = $((mib << 20))
slots=$(cat "$KVMX_SYS/vms/$id/memslots")
dslots=$(awk -v id="$id" '$1 == id { on = 1; next } /^[^ ]/ { on = 0 }
	on && $1 == "slot" { n++ } END { print n + 0 }' "$KVMX_DBG/vms")
check "memslots ($slots) matches the debugfs slot map ($dslots)" \
	test "$slots" -ge 2 -a "$slots" = "$dslots"
# The slot map, added up, is the RAM plus read-only firmware.
rw=$(awk -v id="$id" '$1 == id { on = 1; next } /^[^ ]/ { on = 0 }
	on && $1 == "slot" && $NF == "rw" { n += $6 } END { print n * 4096 }' \
	"$KVMX_DBG/vms")
check "writable slots in debugfs add up to memory_bytes" test "$rw" = "$bytes"

# A tenant's memory figures and settings are the operator's alone: every
# per-VM file, the modules' groups included, is root's only.
kvmx_load_ksm_cmd && kvmx_load_idle_tax
nfiles=$(find "$KVMX_SYS/vms/$id/" -type f | wc -l)
loose=$(find "$KVMX_SYS/vms/$id/" -type f -perm /077 -printf '%P ')
check "per-VM files with ksm_cmd and idle_tax: $nfiles files" test "$nfiles" -ge 10
expect "no per-VM file is readable or writable by others" "$loose" ""
rmmod idle_tax
rmmod ksm_cmd

guest start r2 --mem 256 --backend memfd >/dev/null
p2=$(guest_pid r2)
check "a second guest (memfd backend) attaches too" wait_for 5 has_vm_of_pid "$p2"
id2=$(vm_of_pid "$p2")
check "its memory_bytes is 256 MiB" \
	test "$(cat "$KVMX_SYS/vms/$id2/memory_bytes")" = $((256 << 20))

# Killed QEMU: the entry must go within 2 seconds, and the VM must be freed.
t0=$(ms_now)
kill -9 "$p1"
wait_for 5 no_vm_of_pid "$p1"
dt=$(($(ms_now) - t0))
check "entry of a killed guest is gone in ${dt} ms (<= 2000)" test $dt -le 2000
check "KVM freed the killed guest's VM" wait_for 5 kvm_gone "$p1"

# Measured from QEMU's exit: how long QEMU takes to quit is QEMU's.
tq=$(ms_now)
guest stop r2
t0=$(ms_now)
wait_for 5 no_vm_of_pid "$p2"
dt=$(($(ms_now) - t0))
check "entry of a guest that quit is gone ${dt} ms after QEMU exited (<= 2000; $((t0 - tq)) ms to quit)" \
	test $dt -le 2000
check "KVM freed that VM too" wait_for 5 kvm_gone "$p2"
check "no VM objects left (debugfs stats)" test "$(dbg_stat vm_objects)" = 0
check "kvmx_core unloads" rmmod kvmx_core
tap_done
