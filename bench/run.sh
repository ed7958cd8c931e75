#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: run every benchmark where /dev/kvm works (here, or nested in a QEMU VM) and
# write the figures to BUILD/bench/results.md. Every figure is a ratio against a reference
# measured in the same invocation, because these machines are shared and noisy.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
# Two vCPUs that run at once (one TCG thread each): cross-core figures need it.
MUMU_VM_TCG=multi exec tests/vm/with-kvm.sh --timeout 2400 bench/all.sh "$build"
