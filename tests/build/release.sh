#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A release build's VMM has no test hooks (the attacks tests/e2e/compromised.sh asks of a test
# build's VMM): release.sh SOURCE_DIR TEST_BUILD_DIR. Builds mumu-vmm alone, Release, in a
# scratch directory, and looks for the hooks' environment variable in both binaries.
set -euo pipefail
src=$1 test_build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake -S "$src" -B "$work" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work" --target mumu-vmm -j "$(nproc)" >/dev/null
grep -q MUMU_TEST_HOOKS:BOOL=OFF "$work/CMakeCache.txt" ||
	{ echo "FAIL: a Release build keeps MUMU_TEST_HOOKS on"; exit 1; }
if grep -qa MUMU_TEST_ATTEMPT "$work/bin/mumu-vmm"; then
	echo "FAIL: the release mumu-vmm has the test hooks"
	exit 1
fi
# The check can fail: the test build's VMM has them.
grep -qa MUMU_TEST_ATTEMPT "$test_build/bin/mumu-vmm" ||
	{ echo "FAIL: the test build's mumu-vmm has no hooks: the check above proves nothing"; exit 1; }
echo "ok: a release mumu-vmm has no test hooks, a test build's has"
