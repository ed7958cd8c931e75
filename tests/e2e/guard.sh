#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Guard pages end to end (docs/abi.md "Guard pages"): guard.bin on two vCPUs guards pages
# it has used, on both vCPUs, and says from inside that each access then faults where it
# should; bad requests are refused and reported; spare tables run out with -ENOSPC; an
# overflow of vCPU 0's stack ends at the guard page under it, a MEMORY_VIOLATION named a
# stack overflow; after the restart the page tables are new. Its neighbours lose nothing.
. "$(dirname "$0")/lib.sh"
"$SUP" --frames 40 "$(duo guard guard.bin 67108864)" >"$WORK/out" 2>&1 || fail "exit status $?"
line() { expect "$WORK/out" "^\[guard\] guard: $1\$"; }
# Misaligned, beyond RAM, a page table, the information page: refused and reported.
line "bad -22 -14 -14 -14"
expect "$WORK/out" "partition 'guard': ILLEGAL_REQUEST: bad hypercall \(vcpu 0\): hypercall 12: " 4
# Not a guard: each vCPU's %gs:0 is its own logical core id (ABI 3, mumu_vcpu_self).
line "self 0 1"
line "guard 0"
# Not present (bit 0 clear), from user mode (bit 2), a write (bit 1).
page=$(sed -n 's/^\[guard\] guard: read #PF at \(0x[0-9a-f]*\) error 4$/\1/p' "$WORK/out")
[ -n "$page" ] || fail "no read fault at the guard page"
line "write #PF at $page error 6"
line "again 0"
# vCPU 1 had read the page before vCPU 0 guarded it: KVM's copy of the tables went too.
line "vcpu 1 #PF at 0x[0-9a-f]+"
# 64 MiB: 32 pieces of 2 MiB; the image's has its own table, the stacks' took a spare, the
# first and the second are not asked for: 15 of the 28 got the other spares.
line "15 regions, then -28; again 0"
# At most MUMU_GUARDS_MAX (64) from a start (each costs the host's other cores a little):
# 2 before, 15 regions, 1 more in a split region; the -ENOSPC of the 16th region counted none.
line "budget spent after 46 more, then -28"
line "overflow"
expect "$WORK/out" "partition 'guard': MEMORY_VIOLATION: exception \(vcpu 0\): page fault \(#PF\) at rip 0x[0-9a-f]+: stack overflow: write of vCPU 0's guard page 0x3ff0000; action"
line "restarted, page mapped yes"
for p in n0 n1; do
	[ "$(summary_field $p 3)" -eq 40 ] || fail "$p gave away $(summary_field $p 3) of 40 windows"
	[ "$(summary_field $p 4)" -eq 0 ] || fail "$p missed windows"
done
echo "ok: guard"
