#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench [BENCH=name]: run one benchmark or all. A benchmark is a folder
# bench/<name>/ with test_bench.sh, which runs inside the test host and
# leaves raw records in its output folder /kvmx-out/<name>/, and report.py
# RAWDIR RESULTSDIR, which writes bench/results/<name>.json and the plots.
#
# BENCH_ARGS="NAME=VALUE ...": settings for the benchmarks (for example
# KSM_BENCH_WORKLOADS=C,D). The test host does not inherit this shell's
# environment; it reads them from build/bench_args (bench_args in tap.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
want=${2:-}
mkdir -p "$top/bench/results" "$build/results"
set -f
printf '%s\n' ${BENCH_ARGS:-} >"$build/bench_args"
set +f
# Plots need matplotlib; install it from the archive like the other deps.
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-matplotlib >/dev/null ||
		echo "bench: python3-matplotlib could not be installed: no plots" >&2
fi
found=0
rc=0
for d in "$top"/bench/*/; do
	name=$(basename "$d")
	[ -f "$d/test_bench.sh" ] || continue
	[ -n "$want" ] && [ "$want" != "$name" ] && continue
	found=1
	echo "bench: $name"
	# The whole boot may take the test's own limit and ten minutes more.
	limit=$(sed -n 's/^# *kvmx-timeout: *\([0-9]\+\).*/\1/p' "$d/test_bench.sh")
	python3 "$top/selftests/vm/run.py" --kver "$(cat "$build/kver")" \
		--mem "${VM_MEM:-6144}" --timeout $((${limit:-3000} + 600)) \
		--build "$build" --results "$build/results/bench_$name.txt" \
		"../bench/$name" || { rc=1; continue; }
	# Debian's python3 is the one python3-matplotlib installs into.
	py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	"$py" "$d/report.py" "$build/vm/out/$name" "$top/bench/results" || rc=1
done
if [ $found -eq 0 ]; then
	if [ -n "$want" ]; then
		echo "bench: no benchmark named '$want'" >&2
		exit 1
	fi
	echo "bench: no benchmarks are implemented yet"
fi
exit $rc
