#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench [BENCH=name]: run bench/<name>/run.sh for one benchmark or all.
# Each writes bench/results/<name>.json and its PNG plots.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
want=${2:-}
mkdir -p "$top/bench/results" "$build/results"
# Plots need matplotlib; install it from the archive like the other deps.
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-matplotlib >/dev/null ||
		echo "bench: python3-matplotlib could not be installed: no plots" >&2
fi
found=0
rc=0
for d in "$top"/bench/*/; do
	name=$(basename "$d")
	[ -x "$d/run.sh" ] || continue
	[ -n "$want" ] && [ "$want" != "$name" ] && continue
	found=1
	echo "bench: $name"
	"$d/run.sh" "$build" "$top/bench/results" || rc=1
done
if [ $found -eq 0 ]; then
	if [ -n "$want" ]; then
		echo "bench: no benchmark named '$want'" >&2
		exit 1
	fi
	echo "bench: no benchmarks are implemented yet"
fi
exit $rc
