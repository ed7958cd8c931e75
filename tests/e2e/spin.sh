#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A guest that never yields loses its core at the end of every window: the partition after it
# on the same core gets every window, and the spinning one is stopped each time.
. "$(dirname "$0")/lib.sh"
cfg=$(pair spin spin.bin)
"$SUP" --frames 10 "$cfg" >"$WORK/out" 2>&1 || fail "exit status $?"
expect "$WORK/out" "^\[spin\] spin: booted"
expect "$WORK/out" "^\[after\] tick 8\$"
ran=$(summary_field spin 2)
enforced=$(summary_field spin 5)
missed=$(summary_field spin 4)
# Every window of the spinning guest ended by its timer or by enforcement (or was missed
# altogether when the nested VM stalled): none was given away, none went on.
[ $((ran + enforced + missed)) -eq 10 ] || fail "spin: $ran by timer, $enforced enforced, $missed missed"
[ "$(summary_field spin 3)" -eq 0 ] || fail "spin never yields"
echo "ok: spin"

# A VMM that ignores the end of its windows (test hook: its vCPU never arms the end timer)
# is stopped by the supervisor all the same, reported as a DEADLINE overrun, and the
# partition after it on the same core keeps its windows.
cfg=$(pair rogue spin.bin)
MUMU_TEST_ATTEMPT=ignore_window_end MUMU_TEST_ATTEMPT_PARTITION=rogue "$SUP" --frames 8 "$cfg" \
	>"$WORK/out" 2>&1 || fail "rogue: exit status $?"
expect "$WORK/out" "partition 'rogue': DEADLINE_MISSED: a vCPU was still in its window 2000 us after its end; the VMM was stopped" 4
enforced=$(summary_field rogue 5)
missed=$(summary_field rogue 4)
[ "$(summary_field rogue 2)" -eq 0 ] || fail "rogue: a window ended by itself"
[ $((enforced + missed)) -eq 8 ] && [ "$enforced" -ge 4 ] ||
	fail "rogue: $enforced windows enforced, $missed missed"
expect "$WORK/out" "^\[after\] tick 6\$"
echo "ok: rogue VMM enforced"

# A VMM that overruns the same way and writes on its status page that every window ended on
# time: the kernel's count of its CPU time tells otherwise, and it is enforced all the same.
MUMU_TEST_ATTEMPT=lie_window_end MUMU_TEST_ATTEMPT_PARTITION=rogue "$SUP" --frames 8 "$cfg" \
	>"$WORK/out" 2>&1 || fail "liar: exit status $?"
expect "$WORK/out" "partition 'rogue': DEADLINE_MISSED: a vCPU was still in its window" 4
# (The last window's check may come after the end of the run stopped the VMM, when its CPU
# time can no longer be read: then the page is all there is.)
[ "$(summary_field rogue 2)" -le 1 ] || fail "liar: $(summary_field rogue 2) windows believed"
[ "$(summary_field rogue 5)" -ge 4 ] || fail "liar: $(summary_field rogue 5) windows enforced"
expect "$WORK/out" "^\[after\] tick 6\$"
echo "ok: a VMM lying about its window's end is enforced"

# Its HealthMonitor table makes a missed deadline fatal: the first overrun leaves it IDLE, and
# the partition after it keeps its windows.
sed -i '0,/<\/CoreAffinity>/s//&\n      <HealthMonitor><ErrorAction Error="DEADLINE_MISSED" Action="IDLE"\/><\/HealthMonitor>/' "$cfg"
grep -q 'DEADLINE_MISSED' "$cfg" || fail "the HealthMonitor table did not go into $cfg"
MUMU_TEST_ATTEMPT=ignore_window_end MUMU_TEST_ATTEMPT_PARTITION=rogue "$SUP" --frames 10 "$cfg" \
	>"$WORK/out" 2>&1 || fail "rogue IDLE: exit status $?"
expect "$WORK/out" "partition 'rogue': DEADLINE_MISSED: .*; action IDLE, the other partitions go on"
[ "$(grep -c "partition 'rogue': DEADLINE_MISSED" "$WORK/out")" -eq 1 ] || fail "rogue overran again"
[ "$(summary_field rogue 6)" -ge 4 ] || fail "rogue: $(summary_field rogue 6) idle windows"
expect "$WORK/out" "^\[after\] tick 6\$"
echo "ok: DEADLINE_MISSED -> IDLE from the HealthMonitor table"
