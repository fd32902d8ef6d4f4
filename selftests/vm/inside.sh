#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the test host VM, on the overlay root. It prepares the host (kvm,
# kvm_amd, mounts, the uevent helper), runs the suites named on the kernel
# command line and reports on the second serial port (ttyS1), which the
# runner on the outside reads:
#
#   KVMX-HOST-UP <kernel release>
#   KVMX-BEGIN <suite>/<test>            then the test's TAP output
#   KVMX-END <suite>/<test> rc=<n> seconds=<n>
#   KVMX-DMESG-BEGIN ... KVMX-DMESG-END  the kernel log
#   KVMX-ALL-DONE
#
# The kernel console (ttyS0) is scanned by the runner for kernel warnings.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

arg() {
	local w
	for w in $(cat /proc/cmdline); do
		case "$w" in
		"$1"=*) echo "${w#*=}"; return ;;
		esac
	done
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t hugetlbfs hugetlbfs /dev/hugepages
mkdir -p /kvmx-out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 kvmxout /kvmx-out
hostname kvmx-testhost

KVMX_DIR=$(arg kvmx.dir)
# Fresh /tmp and /run, unless the project itself lives there (the overlay
# already keeps every write in memory).
for d in /tmp /run; do
	case "$KVMX_DIR/" in
	"$d"/*) ;;
	*) mount -t tmpfs tmpfs "$d" ;;
	esac
done
KVMX_KVER=$(uname -r)
KVMX_BUILD=$KVMX_DIR/build
KVMX_OUT=/kvmx-out
export KVMX_DIR KVMX_KVER KVMX_BUILD KVMX_OUT
suites=$(arg kvmx.suites | tr ',' ' ')
mode=$(arg kvmx.mode)
test_timeout=$(arg kvmx.test_timeout)
test_timeout=${test_timeout:-600}

exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null
report() { printf '%s\n' "$*" >&3; }

finish() {
	report "KVMX-DMESG-BEGIN"
	dmesg >&3
	report "KVMX-DMESG-END"
	report "KVMX-ALL-DONE"
	sync
	# PID 1 must outlive the power-off, and nothing can be executed once
	# the 9p root is shut down: wait with builtins only, on a FIFO in
	# /dev/shm that nobody writes.
	mkfifo /dev/shm/kvmx-hold
	echo o >/proc/sysrq-trigger
	while :; do read -r -t 60 _ <>/dev/shm/kvmx-hold; done
}

# The runner sends an NMI to a test host that stops responding: make that
# a panic, so the console shows where it was stuck.
echo 1 >/proc/sys/kernel/unknown_nmi_panic

modprobe kvm_amd || report "KVMX-NOTE modprobe kvm_amd failed"

# KVM's VM-creation uevents go to the same attach helper a real host runs
# from udev (udev/99-kvmx.rules).
busybox uevent "$KVMX_DIR/tools/kvmx-uevent-helper" >/dev/null 2>&1 &

report "KVMX-HOST-UP $KVMX_KVER"

run_one() {
	local suite=$1 t=$2 start rc limit
	limit=$(sed -n 's/^# *kvmx-timeout: *\([0-9]\+\).*/\1/p' "$t" | head -n 1)
	limit=${limit:-$test_timeout}
	report "KVMX-BEGIN $suite/$(basename "$t")"
	start=$(date +%s)
	(cd "$(dirname "$t")" &&
		timeout -k 10 "$limit" bash "$t" 2>&1) </dev/null >&3
	rc=$?
	[ $rc -eq 124 ] && report "KVMX-NOTE timed out after ${limit}s"
	report "KVMX-END $suite/$(basename "$t") rc=$rc seconds=$(($(date +%s) - start))"
}

if [ "$mode" = demo ]; then
	run_one demo "$KVMX_DIR/selftests/vm/demo.sh"
	finish
fi

for spec in $suites; do
	# SUITE, SUITE:NAME+NAME (only test_NAME.sh of the suite) or
	# SUITE:-NAME+NAME (all but those)
	suite=${spec%%:*}
	only=
	but=
	[ "$spec" != "$suite" ] && only=" $(echo "${spec#*:}" | tr '+' ' ') "
	case $only in
	" -"*) but=" ${only# -}"; only= ;;
	esac
	d=$KVMX_DIR/selftests/$suite
	if [ ! -d "$d" ]; then
		report "KVMX-BEGIN $suite/missing"
		report "not ok 1 suite $suite does not exist"
		report "KVMX-END $suite/missing rc=1 seconds=0"
		continue
	fi
	for t in "$d"/test_*.sh; do
		[ -e "$t" ] || continue
		n=$(basename "$t" .sh)
		[ -n "$only" ] && [ "${only#* ${n#test_} }" = "$only" ] && continue
		[ -n "$but" ] && [ "${but#* ${n#test_} }" != "$but" ] && continue
		run_one "$suite" "$t"
		# A test must not leave guests behind for the next one.
		"$KVMX_DIR/selftests/lib/kvmx-guest" stop-all >/dev/null 2>&1
	done
done
finish
