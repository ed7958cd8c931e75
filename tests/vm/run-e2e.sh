#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the end-to-end tests (ctest label e2e) where /dev/kvm works: see with-kvm.sh. Each test
# gets a VM of its own (it boots in seconds): nested KVM under TCG emulation has, rarely,
# frozen a whole VM until its timeout. Such a VM failure (exit 125) is no test's verdict, so
# that test alone runs once more in a fresh VM; a test that fails is never retried.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
if [ ! -c /dev/kvm ]; then
	echo "e2e: no /dev/kvm on this host: running the end-to-end tests on real KVM" \
		"nested in a QEMU VM each (tests/vm/README.md)"
fi
tests=$(ctest --test-dir "$build" -L e2e -N | sed -n 's/^ *Test *#[0-9]*: \(e2e\.[a-z_]*\)$/\1/p')
[ -n "$tests" ] || { echo "e2e: no tests found in $build" >&2; exit 1; }
failed=() n=0
for t in $tests; do
	for try in 1 2; do
		rc=0
		tests/vm/with-kvm.sh --timeout 480 \
			ctest --test-dir "$build" -R "^$t\$" --output-on-failure || rc=$?
		[ $rc -eq 125 ] && [ $try -eq 1 ] && [ ! -c /dev/kvm ] || break
		echo "e2e: $t: the KVM VM failed (not a test failure); once more in a fresh VM"
	done
	n=$((n + 1))
	if [ $rc -eq 0 ]; then
		echo "e2e: $t passed"
	else
		echo "e2e: $t FAILED (exit $rc)"
		failed+=("$t")
	fi
done
echo "e2e: $((n - ${#failed[@]})) of $n passed${failed:+; failed: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
