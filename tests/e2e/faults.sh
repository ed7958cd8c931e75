#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Each fault guest is classified; a fatal one is restarted cold by the health monitor (its
# guest boots again); the supervisor and the other partitions keep running.
. "$(dirname "$0")/lib.sh"
check() { # GUEST LOG-PATTERN
	local cfg
	cfg=$(pair "$1" "$1.bin")
	"$SUP" --frames 8 "$cfg" >"$WORK/out" 2>&1 || fail "$1: exit status $?"
	expect "$WORK/out" "^\[$1\] $1: booted"
	expect "$WORK/out" "$2"
	if [ $# -ge 3 ]; then
		expect "$WORK/out" "partition '$1': $3: .*; action COLD_START"
		expect "$WORK/out" "^\[$1\] $1: booted" 2
		[ "$(summary_field "$1" 8)" -ge 1 ] || fail "$1 was not restarted"
	fi
	grep -q "^\[$1\] $1: survived" "$WORK/out" && [ "$1" != bad_hypercall ] &&
		fail "$1: the guest went on after its fault"
	# The others kept getting windows after the fault (a nested VM can be slow enough to
	# cost a tick or two; the trace test checks the timing itself).
	expect "$WORK/out" "^\[witness\] tick 6\$"
	expect "$WORK/out" "^\[after\] tick 6\$"
	echo "ok: $1"
}
# An exception in a guest that registered no upcalls ends it, named (docs/abi.md "Faults").
check invalid_op "partition 'invalid_op': GUEST_CRASH: exception \(vcpu 0\): invalid opcode \(#UD\) at rip 0x1[0-9a-f]{5}; action" GUEST_CRASH
check wild_write "partition 'wild_write': MEMORY_VIOLATION: access to unmapped memory \(vcpu 0\): write to unmapped gpa 0x70000000" MEMORY_VIOLATION
check ro_write "partition 'ro_write': MEMORY_VIOLATION: write to read-only memory \(vcpu 0\): write to read-only gpa 0xc0000008" MEMORY_VIOLATION
# A guest runs in user mode: port I/O and a write to its page tables are exceptions.
check privileged "partition 'privileged': GUEST_CRASH: exception \(vcpu 0\): general protection \(#GP\) at rip 0x1[0-9a-f]{5}; action" GUEST_CRASH
check pt_write "partition 'pt_write': MEMORY_VIOLATION: exception \(vcpu 0\): page fault \(#PF\) at rip 0x1[0-9a-f]{5}: write of address 0x2000; action" MEMORY_VIOLATION
# The hypercall page takes a 4-byte store and nothing else.
check hc_misuse "partition 'hc_misuse': MEMORY_VIOLATION: access to unmapped memory \(vcpu 0\): read of 4 bytes at gpa 0x7ffff000 .* on the hypercall page" MEMORY_VIOLATION
check bad_hypercall "^\[bad_hypercall\] bad_hypercall: results -14 -22 -38 -14 -14 -14 -14\$"
expect "$WORK/out" "partition 'bad_hypercall': ILLEGAL_REQUEST: bad hypercall \(vcpu 0\): hypercall 999: unknown" 1
expect "$WORK/out" "partition 'bad_hypercall': ILLEGAL_REQUEST: bad hypercall \(vcpu 0\): hypercall 8: buffer outside the guest's RAM" 1
[ "$(summary_field bad_hypercall 8)" -eq 0 ] || fail "bad_hypercall: restarted for an error it survives"
expect "$WORK/out" "^\[bad_hypercall\] bad_hypercall: survived"
expect "$WORK/out" "partition 'bad_hypercall': APPLICATION_ERROR: application error 42: sensor stuck\$"
expect "$WORK/out" "^\[bad_hypercall\] bad_hypercall: raised 0\$"
[ "$(hm_faults bad_hypercall)" -eq 8 ] || fail "bad_hypercall: expected 8 reports"
# Its HealthMonitor makes an application error SHUTDOWN the module: exit status 3.
sed -i '0,/<\/CoreAffinity>/s//&\n      <HealthMonitor><ErrorAction Error="APPLICATION_ERROR" Action="SHUTDOWN"\/><\/HealthMonitor>/' \
	"$WORK/bad_hypercall.xml"
rc=0
"$SUP" --frames 50 "$WORK/bad_hypercall.xml" >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 3 ] || fail "SHUTDOWN: exit status $rc, expected 3"
expect "$WORK/out" "partition 'bad_hypercall': APPLICATION_ERROR: application error 42: sensor stuck; action SHUTDOWN: the module stops"
expect "$WORK/out" "^mumu: SHUTDOWN by the health monitor after [0-9]+ major frames"
pgrep -f 'mumu-vmm ' && fail "SHUTDOWN left a VMM"
echo "ok: APPLICATION_ERROR -> SHUTDOWN"
check flood "^\[flood\] flood [0-9]+ \\\\x1b\[2J\$"
expect "$WORK/out" "^\[flood\]\+ " 1
