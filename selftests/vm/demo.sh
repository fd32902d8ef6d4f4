#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo, inside the test host: load kvmx_core, start two stock-QEMU
# guests, watch them attach on their own, print the registry, let idle_tax
# divide scarce memory between a busy and an idle guest (kvmx-idle-top),
# shut down.
. "$KVMX_DIR/selftests/lib/tap.sh"
set -u

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\n!! %s\n' "$*"; kvmx_unload_all; exit 1; }

step "test host: $(uname -r), $(nproc) vCPU, $(awk '$1 == "MemTotal:" { print int($2 / 1024) }' /proc/meminfo) MiB"
echo "kvm_amd nested paging: $(cat /sys/module/kvm_amd/parameters/npt)"

step "loading kvmx_core"
kvmx_load_core || fail "kvmx_core did not load"
echo "host memory state: $(cat $KVMX_SYS/memstate/state)" \
	"(available $(($(cat $KVMX_SYS/memstate/available_bytes) >> 20)) MiB," \
	"thresholds $(cat $KVMX_SYS/memstate/thresholds) per mille)"

step "starting two guests with stock qemu-system-x86_64 -enable-kvm"
guest start demo1 --mem 384 >/dev/null || fail "demo1 did not boot"
echo "demo1: pid $(guest_pid demo1), 384 MiB, booted"
guest start demo2 --mem 256 --backend memfd >/dev/null || fail "demo2 did not boot"
echo "demo2: pid $(guest_pid demo2), 256 MiB (memfd backend), booted"

step "they were attached by KVM's creation uevent, no manual step"
for g in demo1 demo2; do
	pid=$(guest_pid $g)
	wait_for 5 has_vm_of_pid "$pid" || fail "$g was not attached"
	id=$(vm_of_pid "$pid")
	echo "/sys/kernel/kvmx/vms/$id/  ($g)"
	for f in pid memory_bytes memslots; do
		printf '    %-13s %s\n' "$f" "$(cat "$KVMX_SYS/vms/$id/$f")"
	done
done

step "slot maps (/sys/kernel/debug/kvmx/vms)"
cat "$KVMX_DBG/vms"

step "the guests are alive"
for g in demo1 demo2; do
	echo "$g: $(guest run $g -- 'echo $(hostname): kernel $(uname -r), $(free -m | awk "/Mem:/ { print \$2 }") MiB visible')"
done

step "idle_tax: demo1 keeps touching 200 MiB, demo2 idles"
kvmx_load_idle_tax || fail "idle_tax did not load"
zram_swap_on 1024 || fail "no zram swap"
echo 1000 >$ITAX/period_ms
echo 200 >$ITAX/sample_pages
guest run demo1 -- "/host$KVMX_BIN/kvmx-touch 200 /tmp/t.ready >/dev/null 2>&1 &" \
	'i=0; while [ ! -e /tmp/t.ready ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done' >/dev/null
sleep 8
"$KVMX_BIN/kvmx-idle-top" --once | cat
step "idle_tax: only 360 MiB for both (pool_bytes); the idle guest pays the tax"
echo $((360 << 20)) >$ITAX/pool_bytes
sleep 20
"$KVMX_BIN/kvmx-idle-top" --once | cat
echo 0 >$ITAX/pool_bytes
rmmod idle_tax

step "shutting the guests down"
for g in demo1 demo2; do
	pid=$(guest_pid $g)
	guest stop $g
	wait_for 5 no_vm_of_pid "$pid" && echo "$g quit; its entry is gone"
done
echo "registry now: $(vm_count) VMs"
cat "$KVMX_DBG/stats" | sed 's/^/    /'

step "unloading kvmx_core"
rmmod kvmx_core && echo "done"
zram_swap_off
