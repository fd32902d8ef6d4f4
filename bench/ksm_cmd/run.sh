#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench BENCH=ksm_cmd: boot the test host, run test_bench.sh in it
# (stock KSM and every classifier on workloads A and B, same boot), then
# write bench/results/ksm_cmd.json and the PNG plots.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$1
results=$2
python3 "$top/selftests/vm/run.py" --kver "$(cat "$build/kver")" \
	--mem "${VM_MEM:-6144}" --timeout 6000 --build "$build" \
	--results "$build/results/bench_ksm_cmd.txt" ../bench/ksm_cmd
# Debian's python3 is the one python3-matplotlib installs into.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" "$here/report.py" "$build/vm/out/ksm_cmd" "$results"
