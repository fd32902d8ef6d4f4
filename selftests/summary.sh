#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Add up the results files of make test's stages and print the final line.
dir=$1
passed=0
failed=0
skipped=0
for stage in unit dkms vm vm-debug; do
	f=$dir/$stage.txt
	if [ ! -r "$f" ]; then
		echo "  $stage: no results (the stage did not run to the end)"
		failed=$((failed + 1))
		continue
	fi
	p=$(awk '$1 == "passed" { print $2 }' "$f")
	x=$(awk '$1 == "failed" { print $2 }' "$f")
	s=$(awk '$1 == "skipped" { print $2 }' "$f")
	echo "  $stage: $p passed, $x failed, $s skipped"
	passed=$((passed + p))
	failed=$((failed + x))
	skipped=$((skipped + s))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
