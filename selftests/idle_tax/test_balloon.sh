#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Balloon path: a stock virtio-balloon guest whose memory was all touched
# once. idle_tax publishes a 256 MiB target, kvmx-balloon-relay applies it
# through QMP, the guest inflates its balloon, QEMU's host RSS drops
# accordingly, and the guest's data still verifies. Page-out is off, so the
# balloon alone does it. Raising the target deflates the balloon again.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 10
kvmx_unload_all
thp_set never
check "kvmx_core and idle_tax load" kvmx_load_idle_tax
echo off >$ITAX/pageout

guest start b1 --mem 512 --balloon >/dev/null
pid=$(guest_pid b1)
wait_for 10 has_vm_of_pid "$pid"
vm=$(vm_of_pid "$pid")
size=$(cat "$KVMX_SYS/vms/$vm/memory_bytes")
# Touch most of the guest's memory once, free it, then hold 120 MiB.
guest run b1 -- "/host$KVMX_BIN/kvmx-fill hold --size 380M --pattern unique --seed 1 --ready-file /tmp/r1 >/dev/null 2>&1 &" \
	'i=0; while [ ! -e /tmp/r1 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; kill $(pidof kvmx-fill); sleep 1' >/dev/null
fill_start b1 120M unique 5 >/dev/null
sleep 2
rss0=$(rss_bytes "$pid")
diag "QEMU RSS before: $(mib "$rss0") MiB"

"$KVMX_BIN/kvmx-balloon-relay" --interval 500 "$vm=$(guest_dir b1)/qmp.sock" \
	>/tmp/relay.log 2>&1 &
relay=$!
_reported() { [ "$(itax $vm balloon_actual_bytes)" = "$size" ]; }
check "the relay reports the guest's balloon (no inflation yet)" wait_for 20 _reported

target=$((256 << 20))
echo $target >$ITAX/pool_bytes
_published() { [ "$(itax $vm balloon_target_bytes)" = $target ]; }
check "idle_tax publishes the 256 MiB balloon target" wait_for 10 _published
_inflated() { [ "$(itax $vm balloon_actual_bytes)" -le $((target + (4 << 20))) ]; }
check "the guest's balloon reaches the target" wait_for 120 _inflated
sleep 2
rss1=$(rss_bytes "$pid")
diag "balloon actual $(mib "$(itax $vm balloon_actual_bytes)") MiB; QEMU RSS $(mib "$rss0") -> $(mib "$rss1") MiB"
check "QEMU's host RSS dropped by at least 180 MiB" test $((rss0 - rss1)) -ge $((180 << 20))
check "nothing was paged out (balloon only)" test "$(itax $vm reclaimed_bytes)" = 0
out=$(fill_verify b1)
diag "$out"
check "the guest's data verifies with the balloon inflated" \
	test -n "$(echo "$out" | grep 'mismatches=0 ')"

echo 0 >$ITAX/pool_bytes
_deflated() { [ "$(itax $vm balloon_actual_bytes)" = "$size" ]; }
check "with room again the balloon deflates" wait_for 60 _deflated
kill $relay 2>/dev/null
wait $relay 2>/dev/null
guest stop b1
check "idle_tax unloads" rmmod idle_tax
check "kvmx_core unloads" rmmod kvmx_core
thp_restore
tap_done
