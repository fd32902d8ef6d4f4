#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The advice channel (/dev/kvmx_advice) and kvmxd.
#  a. The danger is real: do_madvise's first bytes are objtool's seal
#     poison, so an indirect call to it is a #CP on an IBT CPU; kvmx_core
#     looks up no symbol by name except the KSM hook's.
#  b. Without kvmxd, page-out is refused with ENOTCONN at once, sysfs says
#     none and the log names kvmxd once.
#  c. With kvmxd, page-out, huge page splits (MADV_COLD on one 4 KiB page)
#     and collapses really happen, the data verifies, the counters count.
#  d. A daemon that never reads: the queue stops at 256, more is refused
#     at once, memory stays flat, a waiter times out, nothing hangs.
#  e. Garbage on the device gets the right errno.
#  f. One daemon at a time; root with CAP_SYS_ADMIN only.
#  g. A request of a VM that exited never reaches the process that gets
#     its pid next.
#  h. rmmod with kvmxd attached and requests in flight is clean.
# kvmx-timeout: 900
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 85
kvmx_unload_all
H=$KVMX_DIR/selftests/lib/kvmx-advice-helper
TA=$KVMX_DBG/test_advise
ADV=$KVMX_SYS/advice
WORK=$(mktemp -d /tmp/kvmx-advice.XXXXXX)
KVMXD_LOG=$WORK/kvmxd.log
MADV_COLD=20
MADV_PAGEOUT=21
M2=$((2 << 20))

# ta_val KEY: a value of the test client's test_advise file
ta_val() { awk -v k="$1" '$1 == k { print $2 }' "$TA"; }
ta_results() { sed -n 's/^results *//p' "$TA"; }
# the kernel log since mark MARK
log_since() { dmesg | sed -n "/kvmx-test-mark $1\$/,\$p"; }
mark() { echo "kvmx-test-mark $1" >/dev/kmsg; }
ahp_kib() { awk '/^AnonHugePages:/ { print $2 }' "/proc/$1/smaps_rollup"; }
slab_objs() { awk '$1 == "kvmx_advice" { print $3 }' /proc/slabinfo; }
itax_dbg() { awk -v k="$1" '$1 == k { print $2 }' "$KVMX_DBG/idle_tax"; }
ms_since() { echo $(($(ms_now) - $1)); }

# --- a. the seal, and what kvmx_core looks up --------------------------------
kptr=$(cat /proc/sys/kernel/kptr_restrict)
echo 0 >/proc/sys/kernel/kptr_restrict
check "the kernel is built with IBT" \
	grep -q '^CONFIG_X86_KERNEL_IBT=y' "/boot/config-$(uname -r)"
seal=$("$H" kcore do_madvise)
expect "do_madvise (address never taken) starts with the seal poison" "$seal" "66 0f 1f 00"
endbr=$("$H" kcore xxh64)
expect "xxh64 (exported, address taken) starts with ENDBR64" "$endbr" "f3 0f 1e fa"
echo "$kptr" >/proc/sys/kernel/kptr_restrict
lookups=$(nm -u "$KVMX_DIR/core/kvmx_core.ko" |
	grep -E -w 'kallsyms_[a-z_]+|sprint_symbol[a-z_]*|lookup_symbol_[a-z]+|__symbol_get|__print_symbol')
expect "kvmx_core.ko imports no symbol lookup" "${lookups:-none}" none
check "kvmx_core.ko names no do_madvise" \
	sh -c "! strings '$KVMX_DIR/core/kvmx_core.ko' | grep -q do_madvise"

# Every kprobe kvmx registers, through load, the KSM hook and unload.
T=/sys/kernel/tracing
echo 'f:kvmxtest/kp register_kprobe p->symbol_name:string' >>$T/dynamic_events
echo 1 >$T/events/kvmxtest/enable
echo >$T/trace
kvmx_load_core
insmod "$KVMX_DIR/ksm_cmd/ksm_cmd.ko"
insmod "$KVMX_DIR/idle_tax/idle_tax.ko"
rmmod idle_tax ksm_cmd kvmx_core
echo 0 >$T/events/kvmxtest/enable
probed=$(sed -n 's/.*kp: .*arg1="\(.*\)"$/\1/p' $T/trace | sort -u | tr '\n' ' ')
echo '-:kvmxtest/kp' >>$T/dynamic_events
expect "the only kprobe kvmx registers is the KSM hook's on xxh64" "$probed" "xxh64 "

# --- b. no kvmxd ----------------------------------------------------------------
check "zram swap on" zram_swap_on 2048
mark b
check "kvmx_core, idle_tax and the test client load" \
	eval 'kvmx_load_idle_tax && kvmx_load_test_client'
check "/dev/kvmx_advice is root's alone (crw-------)" \
	test "$(stat -c '%A %U' /dev/kvmx_advice)" = "crw------- root"
expect "sysfs: daemon" "$(advice_daemon)" none
guest start a1 --mem 256 --backend thp >/dev/null
p1=$(guest_pid a1)
wait_for 10 has_vm_of_pid "$p1"
vm=$(vm_of_pid "$p1")
fill_start a1 64M unique 7 >/dev/null
read -r hva len gfn npages <<<"$("$H" slot "$vm")"
diag "$vm: guest RAM at $hva, $(mib "$len") MiB from gfn $gfn"
# "At once": well before a waiter's 5 s limit; the time includes the
# helper's Python start, which takes up to a second under TCG.
t0=$(ms_now)
expect_errno "page-out without kvmxd" ENOTCONN "$TA" "$vm pageout $gfn 512"
check "refused at once ($(ms_since "$t0") ms)" test "$(ms_since "$t0")" -lt 3000
expect_errno "a huge page split without kvmxd" ENOTCONN "$TA" "$vm cold $hva $M2"
# idle_tax wants page-out: it is refused, and tried once per interval.
echo 200 >$ITAX/interval_ms
echo $((64 << 20)) >$ITAX/pool_bytes
_itax_refused() { [ "$(itax_dbg pageout_last_error)" = -107 ]; }
check "idle_tax's page-out is refused with ENOTCONN" wait_for 20 _itax_refused
c0=$(itax_dbg pageout_calls)
sleep 2
calls=$(($(itax_dbg pageout_calls) - c0))
check "idle_tax tries once per 200 ms interval, not once per region ($calls calls in 2 s)" \
	test "$calls" -le 20
echo 0 >$ITAX/pool_bytes
echo 1000 >$ITAX/interval_ms
check "the refusals are counted ($(advice_stat refused))" test "$(advice_stat refused)" -ge 3
n=$(log_since b | grep -c 'kvmxd is not running')
expect "the log names kvmxd, once" "$n" 1

# --- c. with kvmxd ----------------------------------------------------------------
mark c
check "kvmxd attaches" kvmxd_start
expect "sysfs: daemon" "$(advice_daemon)" connected
check "the log says so" sh -c "dmesg | sed -n '/kvmx-test-mark c\$/,\$p' | grep -q 'kvmxd attached'"
r0=$(advice_stat requests)
ahp0=$(ahp_kib "$p1")
check "the guest's memory is in huge pages ($((ahp0 / 1024)) MiB)" test "$ahp0" -ge $((32 * 1024))
regions=$((len / M2))
expect_errno "MADV_COLD on one 4 KiB page of each of $regions 2 MiB regions" OK "$TA" "$vm cold $hva $len"
expect "every one advised" "$(ta_val ok)/$(ta_val bytes)" "$regions/$((regions * 4096))"
ahp1=$(ahp_kib "$p1")
check "the huge pages are split ($((ahp0 / 1024)) -> $((ahp1 / 1024)) MiB)" \
	test "$ahp1" -le $((ahp0 / 4))
write_errno "$TA" "$vm collapse $hva $len" >/dev/null
ahp2=$(ahp_kib "$p1")
diag "collapse: $(ta_val ok) regions collapsed, $(ta_val failed) not (first error $(ta_val first_error))"
check "MADV_COLLAPSE makes huge pages again ($((ahp1 / 1024)) -> $((ahp2 / 1024)) MiB)" \
	test "$ahp2" -ge $((ahp0 / 2))
rss0=$(rss_bytes "$p1")
t0=$(ms_now)
r=
for ((g = gfn; g < gfn + npages; g += 4096)); do
	r="$r$(write_errno "$TA" "$vm pageout $g 4096") "
done
expect "page-out of all guest RAM, 16 MiB at a time" "$(echo $r | tr ' ' '\n' | sort -u)" OK
rss1=$(rss_bytes "$p1")
diag "page-out of $(mib "$len") MiB: $(ms_since "$t0") ms, QEMU RSS $(mib "$rss0") -> $(mib "$rss1") MiB"
check "QEMU's RSS really dropped (by $(mib $((rss0 - rss1))) MiB)" \
	test $((rss0 - rss1)) -ge $((48 << 20))
out=$(fill_verify a1)
diag "$out"
check "the guest's data verifies after split, collapse and page-out" \
	test -n "$(echo "$out" | grep 'mismatches=0 ')"
diag "advice: $(tr '\n' ' ' <"$ADV/stats")"
check "kvmxd's work is counted: requests, done, bytes" \
	test $(($(advice_stat requests) - r0)) -ge $((2 * regions)) -a \
	"$(advice_stat done)" -ge $((regions + 1)) -a "$(advice_stat bytes)" -ge "$len"
expect "nothing in flight" "$(advice_stat in_flight)" 0
check "kvmxd exits 0 on SIGTERM" kvmxd_stop
expect "sysfs: daemon" "$(advice_daemon)" none

# --- d. a daemon that never reads ---------------------------------------------------
"$H" hold "$WORK/held" &
hold_pid=$!
check "a reader that never reads attaches" wait_for 5 test -e "$WORK/held"
expect_errno "300 requests at once" OK "$TA" "$vm queue 300 $MADV_COLD $hva 4096"
expect "256 accepted, 44 refused with EBUSY" \
	"$(ta_val accepted) $(ta_val refused) $(ta_val first_error)" "256 44 -16"
expect "in flight" "$(advice_stat in_flight)" 256
t0=$(ms_now)
expect_errno "page-out while the channel is full" EBUSY "$TA" "$vm pageout $gfn 512"
check "refused at once ($(ms_since "$t0") ms)" test "$(ms_since "$t0")" -lt 3000
objs=$(advice_dbg objects)
slab0=$(slab_objs)
for i in 1 2 3 4 5; do
	write_errno "$TA" release >/dev/null
	write_errno "$TA" "$vm queue 300 $MADV_COLD $hva 4096" >/dev/null
	o=$(advice_dbg objects)
	[ "$o" -gt "$objs" ] && objs=$o
done
check "five more floods: at most 256 requests live ($objs), slab flat ($slab0 -> $(slab_objs) objects)" \
	test "$objs" -le 256 -a "$(slab_objs)" -le "$slab0"
write_errno "$TA" release >/dev/null
expect "released requests that were never read are gone" \
	"$(advice_stat in_flight) $(advice_dbg objects)" "0 0"
t0=$(ms_now)
expect_errno "page-out that the reader never takes" ETIMEDOUT "$TA" "$vm pageout $gfn 512"
dt=$(ms_since "$t0")
check "it gives up after the 5 s timeout ($dt ms)" test "$dt" -ge 4500 -a "$dt" -lt 9000
expect "and leaves nothing queued" "$(advice_stat in_flight)" 0
write_errno "$TA" "$vm queue 5 $MADV_COLD $hva 4096" >/dev/null
echo "$vm" >"$KVMX_SYS/detach"
expect "the VM detaches: its 5 queued requests fail with ESRCH" \
	"$(ta_results) $(advice_stat in_flight)" "-3:5 0"
write_errno "$TA" release >/dev/null
echo "$p1" >"$KVMX_SYS/attach"
vm=$(vm_of_pid "$p1")
write_errno "$TA" "$vm queue 10 $MADV_COLD $hva 4096" >/dev/null
mark d
kill "$hold_pid"
wait "$hold_pid" 2>/dev/null
check "the reader exits: the device is free" wait_for 5 advice_none
expect "its 10 requests failed with ENOTCONN" "$(ta_results) $(advice_stat in_flight)" "-107:10 0"
check "the log says how many" sh -c "dmesg | sed -n '/kvmx-test-mark d\$/,\$p' | grep -q 'detached; 10 requests failed'"
write_errno "$TA" release >/dev/null

# --- e. garbage ---------------------------------------------------------------------
"$H" badinput "$WORK/go" "$p1" >"$WORK/bad" &
bad_pid=$!
_bad_ready() { grep -q '^ready=1' "$WORK/bad"; }
wait_for 5 _bad_ready
bv() { sed -n "s/^$1=//p" "$WORK/bad"; }
expect "open read-only" "$(bv open_ro)" EINVAL
expect "a second open" "$(bv open_second)" EBUSY
expect "read into a buffer smaller than a request" "$(bv read_short)" EINVAL
expect "read with nothing queued (O_NONBLOCK)" "$(bv read_empty)" EAGAIN
expect "write of 0 bytes" "$(bv write_empty)" 0
expect "writes of 15 and 17 bytes" "$(bv write_15) $(bv write_17)" "EINVAL EINVAL"
expect "results for id 0 and an id never issued" "$(bv id_0) $(bv id_unknown)" "ENOENT ENOENT"
expect "lseek" "$(bv lseek)" ESPIPE
write_errno "$TA" "$vm queue 1 $MADV_COLD $hva 4096" >/dev/null
touch "$WORK/go"
wait "$bad_pid"
expect "poll wakes the reader; one request of 40 bytes" "$(bv poll) $(bv read_bytes)" "in 40"
expect "it names the VM's process: pid and pidfs inode match" "$(bv identity)" ok
expect "advice and length" "$(bv advice)" "$MADV_COLD:4096"
expect "a result above the length" "$(bv result_too_big)" EINVAL
expect "a result below -4095" "$(bv result_bad_errno)" EINVAL
expect "a good result then an unknown id: the write stops after the first" "$(bv two_records)" 16
expect "an id answered twice" "$(bv answered_again)" EALREADY
expect "the module got the answer" "$(ta_results)" "4096:1"
write_errno "$TA" release >/dev/null
r=
for bad in "advise 4 $hva 4096" "advise $MADV_COLD $((hva + 100)) 4096" \
	   "advise $MADV_COLD $hva 0" "advise $MADV_COLD 4096 4096" \
	   "advise $MADV_COLD $((hva + len)) $M2"; do
	r="$r $(write_errno "$TA" "$vm $bad")"
done
expect "kernel API: MADV_DONTNEED, unaligned, empty, outside guest RAM (twice)" \
	"$r" " EINVAL EINVAL EINVAL EINVAL EINVAL"
expect "nothing leaked" "$(advice_stat in_flight) $(advice_dbg objects)" "0 0"

# --- f. who may open it ------------------------------------------------------------
r=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$H" open)
expect "a user (uid 65534)" "$r" EACCES
r=$(setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin "$H" open)
expect "root without CAP_SYS_ADMIN" "$r" EPERM
kvmxd_start
r=$("$H" open)
expect "root while kvmxd is attached" "$r" EBUSY
"$KVMX_BIN/kvmxd" 2>"$WORK/second.err"
expect "second kvmxd: exit status and message" \
	"$? $(grep -c 'another kvmxd is attached' "$WORK/second.err")" "1 1"
kvmxd_stop
guest stop a1

# --- g. an exited VM and its reused pid -------------------------------------------
kvmxd_start --hold-ms 8000
guest start g2 --mem 256 >/dev/null
p2=$(guest_pid g2)
wait_for 10 has_vm_of_pid "$p2"
vm2=$(vm_of_pid "$p2")
read -r hva2 _ _ _ <<<"$("$H" slot "$vm2")"
late0=$(advice_stat late)
write_errno "$TA" "$vm2 queue 1 $MADV_PAGEOUT $hva2 $M2" >/dev/null
_sent() { grep -q ' sent ' "$KVMX_DBG/advice"; }
check "kvmxd has read the request (and holds it 8 s)" wait_for 3 _sent
guest stop g2 --kill
_p2_gone() { [ ! -e "/proc/$p2" ]; }
check "the VM's QEMU exited and detached" eval 'wait_for 10 _p2_gone && wait_for 5 no_vm_of_pid $p2'
expect "the module learns at once: ESRCH" "$(ta_results)" "-3:1"
"$H" impostor "$p2" "$hva2" "$M2" >"$WORK/imp" &
imp_parent=$!
_imp() { grep -q '^ready ' "$WORK/imp"; }
wait_for 5 _imp
imp=$(awk '{ print $2 }' "$WORK/imp")
expect "another process now has pid $p2 and memory at the same address" \
	"$(awk '{ print $1 }' "$WORK/imp") $imp" "ready $p2"
rss_imp0=$(rss_bytes "$imp")
_answered() { [ "$(advice_stat late)" -gt "$late0" ]; }
check "kvmxd answers the request" wait_for 15 _answered
rss_imp1=$(rss_bytes "$imp")
check "kvmxd refused: the pid is no longer the VM's process" \
	grep -q "pid $p2 is no longer the VM's process" "$KVMXD_LOG"
check "the impostor's memory was not paged out ($(mib "$rss_imp0") -> $(mib "$rss_imp1") MiB)" \
	test "$rss_imp1" -ge "$rss_imp0"
r=$("$H" pageout "$imp" "$hva2" "$M2")
check "(a page-out of it would have shown: $r bytes, RSS $(mib "$(rss_bytes "$imp")") MiB)" \
	test "$r" = "$M2" -a "$(rss_bytes "$imp")" -lt "$rss_imp0"
kill -KILL "$imp"
wait "$imp_parent" 2>/dev/null
write_errno "$TA" release >/dev/null
check "kvmxd exits 0" kvmxd_stop

# --- h. unload with kvmxd attached and requests in flight ------------------------
guest start h1 --mem 256 >/dev/null
p3=$(guest_pid h1)
wait_for 10 has_vm_of_pid "$p3"
vm3=$(vm_of_pid "$p3")
fill_start h1 96M unique 9 >/dev/null
read -r hva3 len3 gfn3 _ <<<"$("$H" slot "$vm3")"
kvmxd_start --hold-ms 1500
echo $((64 << 20)) >$ITAX/pool_bytes
write_errno "$TA" "$vm3 queue 20 $MADV_PAGEOUT $hva3 $M2" >/dev/null
_busy() { [ "$(advice_stat in_flight)" -gt 0 ] && _sent; }
check "requests in flight at kvmxd" wait_for 5 _busy
t0=$(ms_now)
check "idle_tax unloads with its page-out in flight" rmmod idle_tax
diag "rmmod idle_tax took $(ms_since "$t0") ms"
check "the test client unloads with 20 requests held" rmmod kvmx_test_client
r=$(rmmod kvmx_core 2>&1)
check "kvmx_core stays while kvmxd holds the device (in use)" \
	test -d /sys/module/kvmx_core -a -n "$r"
check "kvmxd exits 0 on SIGTERM" kvmxd_stop
check "kvmx_core unloads once kvmxd is gone" rmmod kvmx_core
out=$(fill_verify h1)
diag "$out"
check "the guest runs on and its data verifies" \
	test -n "$(echo "$out" | grep 'mismatches=0 ')"
guest stop h1
diag "kvmxd's log:"
sed 's/^/#   /' "$KVMXD_LOG" | head -n 30
zram_swap_off
rm -rf "$WORK"
tap_done
