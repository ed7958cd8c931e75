#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the end-to-end tests (ctest label e2e) where /dev/kvm works: see with-kvm.sh.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
if [ ! -c /dev/kvm ]; then
	echo "e2e: no /dev/kvm on this host: running the end-to-end tests on real KVM" \
		"nested in a QEMU VM (tests/vm/README.md)"
fi
exec tests/vm/with-kvm.sh ctest --test-dir "$build" -L e2e --output-on-failure -j 2
