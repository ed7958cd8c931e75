#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make fuzz`: build the policy fuzzer with clang (libFuzzer, ASan, UBSan) and run it for a
# bounded time over the checked-in corpus. Fails on any crash, leak or sanitizer report.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
out=${1:-build-fuzz}
seconds=${2:-60}
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
bin=$out/fuzz_policy
# The guests the configs name: built by the normal build.
[ -f "$repo/build/guests/hello.bin" ] || make -C "$repo" build >/dev/null
clang -g -O1 -std=gnu17 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$repo/include" -I"$repo" $(pkg-config --cflags libxml-2.0) \
	-DMUMU_SOURCE_DIR="\"$repo\"" -DMUMU_BUILD_GUEST_DIR="\"$repo/build/guests\"" \
	-DMUMU_INSTALL_GUEST_DIR="\"/usr/local/share/mumu/guests\"" \
	"$repo/tests/fuzz/fuzz_policy.c" "$repo"/policy/*.c "$repo/common/log.c" \
	$(pkg-config --libs libxml-2.0) -o "$bin"
work=$out/corpus
mkdir -p "$work"
cp "$repo"/tests/fuzz/corpus/* "$work"/
"$bin" -max_total_time="$seconds" -max_len=8192 -timeout=5 -print_final_stats=1 \
	-dict="$repo/tests/fuzz/xml.dict" "$work" 2>&1 | tee "$out/fuzz.log" |
	grep -E '^#[0-9]+.*(DONE|INITED)|stat::number_of_executed_units|ERROR|SUMMARY' || true
grep -q 'stat::number_of_executed_units' "$out/fuzz.log" || { tail -n 40 "$out/fuzz.log"; exit 1; }
echo "fuzz: $(sed -n 's/stat::number_of_executed_units: *//p' "$out/fuzz.log") executions clean in ${seconds}s"
