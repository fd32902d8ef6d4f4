#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench BENCH=idle_tax: boot the test host, run test_bench.sh in it
# (the idle-memory tax experiment with tax rates 0 and 0.75), then
# write bench/results/idle_tax.json and the PNG plots.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$1
results=$2
python3 "$top/selftests/vm/run.py" --kver "$(cat "$build/kver")" \
	--mem "${VM_MEM:-6144}" --timeout 3600 --build "$build" \
	--results "$build/results/bench_idle_tax.txt" ../bench/idle_tax
# Debian's python3 is the one python3-matplotlib installs into.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" "$here/report.py" "$build/vm/out/idle_tax" "$results"
