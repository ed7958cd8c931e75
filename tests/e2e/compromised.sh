#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A compromised VMM talks nonsense to its supervisor (test hook, MUMU_TEST_ATTEMPT=msg_*):
# malformed, oversized, unknown, lying about its size, out of order (READY twice), the
# operator's control protocol, thousands of random messages. Each time the supervisor kills
# that VMM and reports it, and the other partitions keep their windows. A flood of valid
# console messages is absorbed without harm, within the partition's console budget.
. "$(dirname "$0")/lib.sh"

attack() { # HOOK WHAT-THE-SUPERVISOR-SAYS
	local cfg
	cfg=$(pair victim hello.bin)
	MUMU_TEST_ATTEMPT=msg_$1 MUMU_TEST_ATTEMPT_PARTITION=victim "$SUP" --frames 6 \
		--control none "$cfg" >"$WORK/out" 2>&1 || fail "$1: exit status $?"
	expect "$WORK/out" "partition 'victim': VMM_DIED: protocol violation by its VMM \($2\); killed; action COLD_START"
	expect "$WORK/out" '^\[witness\] tick 4$'
	expect "$WORK/out" '^\[after\] tick 4$'
	[ "$(hm_faults witness)" -eq 0 ] || fail "$1: the witness had faults"
	echo "ok: $1"
}
attack garbage 'malformed message'
attack oversized 'malformed message'
attack unknown_type 'malformed message'
attack lying_size 'malformed message'
attack ready_twice 'READY twice'
attack ctl_request 'unexpected message'
attack fuzz '(malformed|unexpected) message'

# A flood of valid console output: printed up to the partition's budget (16 KiB a major
# frame), the rest dropped and counted; nobody killed, the others go on.
cfg=$(pair victim hello.bin)
MUMU_TEST_ATTEMPT=msg_flood MUMU_TEST_ATTEMPT_PARTITION=victim "$SUP" --frames 6 --control none \
	"$cfg" >"$WORK/out" 2>&1 || fail "flood: exit status $?"
expect "$WORK/out" '^\[victim\] flooding the supervisor$' 600
[ "$(grep -c '^\[victim\] flooding the supervisor$' "$WORK/out")" -lt 5000 ] ||
	fail "flood: all 5000 messages printed, over the budget"
[ "$(summary_field victim 15)" -gt 0 ] || fail "flood: no dropped bytes counted"
# ... and it is not read past 1024 messages a major frame (SUP_MSGS_PER_FRAME).
expect "$WORK/out" "partition 'victim': its VMM sent more than 1024 messages in a major frame"
expect "$WORK/out" '^\[witness\] tick 4$'
expect "$WORK/out" '^\[after\] tick 4$'
grep -q 'VMM_DIED' "$WORK/out" && fail "flood: a VMM died"
echo "ok: flood"
