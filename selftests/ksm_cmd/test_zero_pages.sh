#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# With use_zero_pages=1, KSM maps a VM's all-zero pages to the kernel's zero
# page as under stock KSM, under every classifier and in a non-zero domain:
# comparisons with the zero page are decided by content alone. The zero
# pages must show in ksm_zero_pages, not become KSM pages of their own.
# kvmx-timeout: 600
. "$(dirname "$0")/../lib/tap.sh"

PAGES=4096	# 16 MiB of zero pages
CONFIGS="stock none address write_count subpage checksum checksum:7"
tap_plan 9
kvmx_unload_all
ksm_unmerge_all
check "ksm_cmd loads" kvmx_load_ksm_cmd
K=$KVMX_SYS/ksm_cmd
zp0=$(ksm_stat use_zero_pages)
echo 1 >"$KSM/use_zero_pages"
declare -A got

zero_pages_in() {
	[ $(($(ksm_stat ksm_zero_pages) - z0)) -ge $((PAGES * 95 / 100)) ]
}
bad=0
for c in $CONFIGS; do
	cfg=${c%%:*}
	dom=0
	[ "$c" != "$cfg" ] && dom=${c#*:}
	echo 0 >"$KSM/run"
	ksm_unmerge_all
	if [ "$cfg" = stock ]; then
		rmmod ksm_cmd 2>/dev/null
	else
		kvmx_load_ksm_cmd
		echo "$cfg" >$K/classifier
	fi
	rm -f /tmp/zp.ready /tmp/zp.status
	"$KVMX_BIN/kvmx-fill" hold --size $((PAGES * 4))K --pattern zero \
		--mergeable --nothp --kvm --ready-file /tmp/zp.ready \
		--status-file /tmp/zp.status >/tmp/zp.log 2>&1 &
	pid=$!
	wait_for 60 test -e /tmp/zp.ready
	echo "$pid" >"$KVMX_SYS/attach"
	[ "$dom" != 0 ] && echo "$dom" >"$KVMX_SYS/vms/$(vm_of_pid "$pid")/ksm_domain"
	z0=$(ksm_stat ksm_zero_pages)
	s0=$(ksm_stat pages_sharing)
	f0=$(ksm_stat full_scans)
	ksm_start 4000 10
	if wait_for 240 zero_pages_in; then
		got[$c]="$(($(ksm_stat full_scans) - f0)) passes"
	else
		got[$c]="not within 240 s ($(($(ksm_stat ksm_zero_pages) - z0)) zero pages)"
	fi
	got[$c]="${got[$c]}, $(($(ksm_stat pages_sharing) - s0)) new KSM sharing"
	kill -TERM "$pid"
	wait "$pid"
	grep -q "mismatches=0 " /tmp/zp.status || bad=$((bad + 1))
done
for c in $CONFIGS; do
	check "$c: the zero pages go to the zero page (${got[$c]})" \
		eval 'case "${got[$c]}" in *passes,\ 0\ new*) true ;; *) false ;; esac'
done
expect "every page verifies" $bad 0
echo 0 >"$KSM/run"
echo "$zp0" >"$KSM/use_zero_pages"
kvmx_unload_all
ksm_unmerge_all
tap_done
