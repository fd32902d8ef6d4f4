#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: userspace unit tests (policy code, the log detector, the
# workload program). Writes passed/failed counts to BUILD/results/unit.txt.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
out=$build/unit
mkdir -p "$out" "$build/results"
passed=0
failed=0

# count LOG: add the ok / not ok lines of a TAP log to the totals.
count() {
	local p f
	p=$(grep -c '^ok ' "$1")
	f=$(grep -c '^not ok ' "$1")
	passed=$((passed + p))
	failed=$((failed + f))
	echo "  $2: $p passed, $f failed"
}

CFLAGS="-O2 -g -Wall -Wextra -Werror -std=gnu11 -I$top/include -I$top/selftests/unit -fsanitize=address,undefined"
for t in "$top"/selftests/unit/test_*.c; do
	name=$(basename "$t" .c)
	# the code under test lives in one of the module folders
	src=
	for d in core ksm_cmd idle_tax largepage_break balloon_alb tools tools/lib; do
		[ -f "$top/$d/${name#test_}.c" ] && src=$top/$d/${name#test_}.c
	done
	if [ -z "$src" ]; then
		echo "  $name: no ${name#test_}.c in any module folder"
		failed=$((failed + 1))
		continue
	fi
	bin=$out/$name
	if ! gcc $CFLAGS -I"$(dirname "$src")" -o "$bin" "$t" "$src" 2>"$out/$name.cc.log"; then
		cat "$out/$name.cc.log"
		echo "  $name: does not build"
		failed=$((failed + 1))
		continue
	fi
	"$bin" >"$out/$name.log" 2>&1 || grep -q '^not ok' "$out/$name.log" ||
		echo "not ok - $name crashed" >>"$out/$name.log"
	count "$out/$name.log" "$name"
done

for t in "$top"/selftests/unit/test_*.py; do
	name=$(basename "$t" .py)
	python3 "$t" >"$out/$name.log" 2>&1
	rc=$?
	p=$(grep -c ' \.\.\. ok$' "$out/$name.log")
	f=$(grep -cE ' \.\.\. (FAIL|ERROR)$' "$out/$name.log")
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
	echo "  $name: $p passed, $f failed"
done

for t in "$top"/selftests/unit/test_*.sh; do
	name=$(basename "$t" .sh)
	BUILD_DIR=$out bash "$t" >"$out/$name.log" 2>&1 ||
		grep -q '^not ok' "$out/$name.log" ||
		echo "not ok - $name exited with an error" >>"$out/$name.log"
	count "$out/$name.log" "$name"
done

[ $failed -ne 0 ] && grep -h '^not ok' "$out"/*.log | sed 's/^/  FAIL /'
printf 'passed %d\nfailed %d\nskipped 0\n' $passed $failed >"$build/results/unit.txt"
echo "unit: $passed passed, $failed failed"
[ $failed -eq 0 ]
