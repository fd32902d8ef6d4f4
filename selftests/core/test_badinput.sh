#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Garbage written to kvmx_core's files gets a clear errno and changes
# nothing. Every writable file parses strictly: decimal only (a leading
# zero is still decimal), one optional newline, no sign, base prefix,
# blank or NUL, and booleans are exactly 1, y, Y, on, 0, n, N or off. The
# runner fails the run on any kernel warning.
# kvmx-timeout: 200
. "$(dirname "$0")/../lib/tap.sh"

tap_plan 209
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
expect_forms $A attach <<EOF
0x40	EINVAL	-
+204	EINVAL	-
-204	EINVAL	-
\040204	EINVAL	-
204\040	EINVAL	-
\t204	EINVAL	-
204\0junk	EINVAL	-
204\0	EINVAL	-
204\n\n	EINVAL	-
204K	EINVAL	-
2.0	EINVAL	-
99999999999999999999	ERANGE	-
4294967298	ERANGE	-
EOF
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
expect_forms $D detach <<EOF
204-+11	EINVAL	-
+204-11	EINVAL	-
204--11	EINVAL	-
1-2-3	EINVAL	-
0x1-1	EINVAL	-
1-0x1	EINVAL	-
\0401-1	EINVAL	-
1-1\040	EINVAL	-
1\040-1	EINVAL	-
1-\0401	EINVAL	-
1-1\0junk	EINVAL	-
1-1\n\n	EINVAL	-
4294967297-1	ERANGE	-
EOF
expect_forms $D "detach $id" <<EOF
$id\0junk	EINVAL	-
$id\040	EINVAL	-
\040$id	EINVAL	-
$id\n\n	EINVAL	-
${id%-*}-+${id#*-}	EINVAL	-
EOF
check "the guest is still attached" has_vm_of_pid "$p"
expect_errno "detach $id" OK $D "$id"
check "detach removed the entry" no_vms
expect_errno "detach it again" ENOENT $D "$id"
expect_errno "attach it again by pid" OK $A "$p"
expect_errno "detach 0${id%-*}-0${id#*-} (leading zeros are decimal)" OK $D \
	"0${id%-*}-0${id#*-}"
check "that detached $id" no_vms
expect_errno "attach 00$p" OK $A "00$p"
check "that attached $id again" test "$(vm_of_pid "$p")" = "$id"
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

# Every writable file, form by form.
expect_forms $M/thresholds <<EOF
080\040060\040040\040020	OK	80 60 40 20
80\04060\04040\04020\n	OK	80 60 40 20
\04080\04060\04040\04020	EINVAL
80\04060\04040\04020\040	EINVAL
80\040\04060\04040\04020	EINVAL
80\t60\t40\t20	EINVAL
80\04060\04040\040+20	EINVAL
80\04060\04040\0400x14	EINVAL
80\04060\04040\04020\0junk	EINVAL
80\04060\04040\04020\n\n	EINVAL
80\04060\04040\04020K	EINVAL
80\04060\04040\0404294967297	ERANGE
80\04060\04040\04099999999999999999999	ERANGE
EOF
expect_forms $M/hysteresis <<EOF
$(plain_forms 10)
4294967306	ERANGE
EOF
expect_forms $M/poll_ms <<EOF
$(plain_forms 1000)
EOF
S=$KVMX_SYS/sampler
expect_forms $S/period_ms <<EOF
$(plain_forms 30000)
08	ERANGE
0100	OK	100
00000000000000000000000000100	OK	100
30000	OK	30000
EOF
expect_forms $S/pages <<EOF
$(plain_forms 100)
010	OK	10
0x40	EINVAL
100	OK	100
EOF
expect_forms $S/enabled <<EOF
$(bool_forms)
EOF
expect "sampler/enabled, 1737 bytes starting with T" \
	"$(write_form $S/enabled "$(long_junk T)")" EINVAL
expect "sampler/enabled, 1737 bytes starting with 1" \
	"$(write_form $S/enabled "$(long_junk 1)")" EINVAL
expect "sampler knobs after all that" \
	"$(cat $S/period_ms) $(cat $S/pages) $(cat $S/enabled)" "30000 100 0"
# debugfs ksm_timing, a boolean like the others.
expect "ksm_timing is off by default" "$(cat $KVMX_DBG/ksm_timing)" 0
expect_forms $KVMX_DBG/ksm_timing ksm_timing <<EOF
$(bool_forms)
EOF
expect "ksm_timing, 1737 bytes starting with 1" \
	"$(write_form $KVMX_DBG/ksm_timing "$(long_junk 1)")" EINVAL
check "kvmx_core unloads" rmmod kvmx_core
tap_done
