#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A guest that never yields loses its core at the end of every window: the partition after it
# on the same core gets every window, and the spinning one is stopped each time.
. "$(dirname "$0")/lib.sh"
cfg=$(pair spin spin.bin)
"$SUP" --frames 10 "$cfg" >"$WORK/out" 2>&1 || fail "exit status $?"
expect "$WORK/out" "^\[spin\] spin: booted"
expect "$WORK/out" "^\[after\] tick 8\$"
[ "$(summary_field after 4)" -le 1 ] || fail "'after' missed windows"
ran=$(summary_field spin 2)
enforced=$(summary_field spin 5)
[ $((ran + enforced)) -ge 10 ] || fail "spin: $ran windows ended by the timer, $enforced enforced"
[ "$(summary_field spin 3)" -eq 0 ] || fail "spin never yields"
echo "ok"
