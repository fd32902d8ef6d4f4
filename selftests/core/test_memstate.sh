#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host memory states: thresholds move the state, hysteresis holds a worse
# state until memory clears it, and clients hear every change through the
# notifier chain. Thresholds are set around the test host's real available
# memory, so every state is reached without starving the machine.
# kvmx-timeout: 120
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 13
kvmx_unload_all
check "kvmx_core loads" kvmx_load_core
check "test client loads" kvmx_load_test_client
M=$KVMX_SYS/memstate
echo 20 >$M/poll_ms

state_is() { [ "$(cat $M/state)" = "$1" ]; }
# Available memory in per mille of RAM, as kvmx_core computes it.
pm() {
	awk -v a="$(cat $M/available_bytes)" '$1 == "MemTotal:" {
		printf "%d\n", a * 1000 / ($2 * 1024) }' /proc/meminfo
}

check "a mostly idle test host is high" wait_for 2 state_is high
check "available_bytes is close to MemAvailable" python3 -c '
import sys
a = int(open(sys.argv[1]).read())
m = [l for l in open("/proc/meminfo") if l.startswith("MemAvailable:")][0]
m = int(m.split()[1]) * 1024
sys.exit(abs(a - m) > m // 20)' $M/available_bytes

# Ballast in tmpfs, so available memory sits well below 100%.
total_mb=$(awk '$1 == "MemTotal:" { print int($2 / 1024) }' /proc/meminfo)
dd if=/dev/zero of=/dev/shm/ballast bs=1M count=$((total_mb / 8)) 2>/dev/null
sleep 0.2
p=$(pm)
diag "available: $p per mille"
ev0=$(awk '$1 == "events" { print $2 }' "$KVMX_DBG/test_client")
echo "$((p + 20)) $((p - 20)) $((p - 40)) $((p - 60))" >$M/thresholds
check "thresholds just above: clear" wait_for 2 state_is clear
echo "999 $((p + 20)) $((p - 20)) $((p - 40))" >$M/thresholds
check "soft" wait_for 2 state_is soft
echo "999 998 $((p + 20)) $((p - 20))" >$M/thresholds
check "hard" wait_for 2 state_is hard
echo "999 998 997 $((p + 20))" >$M/thresholds
check "low" wait_for 2 state_is low

# Back up by less than the hysteresis: stays low.
echo 100 >$M/hysteresis
echo "999 998 997 $((p - 50))" >$M/thresholds
sleep 0.5
check "hysteresis holds low when memory is only 50 per mille above hard" \
	state_is low
echo 0 >$M/hysteresis
check "without hysteresis it becomes hard" wait_for 2 state_is hard
echo 80 60 40 20 >$M/thresholds
echo 10 >$M/hysteresis
check "defaults again: high" wait_for 2 state_is high
ev=$(awk '$1 == "events" { print $2 }' "$KVMX_DBG/test_client")
last=$(awk '$1 == "last_state" { print $2 }' "$KVMX_DBG/test_client")
check "the notifier saw the 6 changes ($((ev - ev0))), last high ($last)" \
	test $((ev - ev0)) = 6 -a "$last" = high
echo 1000 >$M/poll_ms
rm -f /dev/shm/ballast
kvmx_unload_all
check "modules unload" test ! -d /sys/module/kvmx_core
tap_done
