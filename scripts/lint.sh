#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: checkpatch.pl --no-tree (from Debian's linux-source-6.12) over
# every kernel source file, then a W=1 + sparse build for the test kernel.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
cp=$build/checkpatch/scripts/checkpatch.pl
kver=$(cat "$build/kver")

if [ ! -x "$cp" ]; then
	dpkg-query -W -f='${Status}\n' linux-source-6.12 2>/dev/null |
		grep -q 'install ok installed' ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends linux-source-6.12 >/dev/null
	tarball=$(ls /usr/src/linux-source-6.12*.tar.* | head -n 1)
	mkdir -p "$build/checkpatch"
	tar -xf "$tarball" -C "$build/checkpatch" --strip-components=1 \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi

files=$(cd "$top" && git ls-files '*.c' '*.h' | grep -v '^selftests/lib/\|^selftests/unit/')
rc=0
(cd "$top" && "$cp" --no-tree --quiet --show-types -f $files) || rc=1
make -C "/lib/modules/$kver/build" M="$top" W=1 C=1 modules 2>&1 |
	grep -E 'warning|error' && rc=1
[ $rc -eq 0 ] && echo "lint: checkpatch, W=1 and sparse are clean"
exit $rc
