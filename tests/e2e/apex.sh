#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The partition OS (docs/apex.md) end to end: apex_services.bin checks every service and its
# return codes, apex_sched.bin the process scheduling, each from inside a partition that has
# one vCPU and then two, next to a neighbour on each core that must keep its windows;
# apex_smp.bin processes on both vCPUs. The windows leave the real-time budget free.
. "$(dirname "$0")/lib.sh"
config() { # GUEST VCPUS
	local cores='<CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/>'
	[ "$2" = 2 ] && cores+='<CoreMapping LogicalCoreId="1" PhysicalCoreId="1"/>'
	cat >"$WORK/apex.xml" <<XML
<Module Name="e2e">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="apex" BinaryPath="$1.bin"/>
      <CoreAffinity>$cores</CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="2" Name="n0" BinaryPath="hello.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="3" Name="n1" BinaryPath="hello.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="20000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="apex" Duration="10000000" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="n0" Duration="6000000" Offset="11000000"/>
    <PartitionTimeWindow PartitionNameRef="n1" Duration="6000000" Offset="11000000"/>
  </Schedules>
</Module>
XML
	echo "$WORK/apex.xml"
}
run() { # GUEST VCPUS FRAMES DONE-LINE
	"$SUP" --frames "$3" "$(config "$1" "$2")" >"$WORK/out" 2>&1 || fail "$1: exit status $?"
	grep '^\[apex\] apex: FAIL' "$WORK/out" && fail "$1 on $2 vCPU(s): a check failed"
	expect "$WORK/out" "^\[apex\] apex: $4\$"
	for p in n0 n1; do
		[ "$(summary_field $p 4)" -eq 0 ] || fail "$1: $p missed windows"
		[ "$(summary_field $p 3)" -eq "$3" ] || fail "$1: $p did not get its $3 windows"
	done
	[ "$(summary_field apex 5)" -eq 0 ] || fail "$1: its VMM had to be stopped"
	echo "ok: $1 on $2 vCPU(s)"
}
for v in 1 2; do
	run apex_services $v 60 "services done, 101 ok, 0 failed"
	# The error handler took the raised error; what reached mumu's health monitor is only the
	# refused SET_MODULE_SCHEDULE (this partition has no SetModuleSchedule).
	expect "$WORK/out" "partition 'apex': ILLEGAL_REQUEST: .*schedule 1"
	[ "$(hm_faults apex)" -eq 1 ] || fail "apex_services: $(hm_faults apex) errors reached mumu's health monitor, not 1"
	run apex_sched $v 60 "sched done, 13 ok, 0 failed"
	expect "$WORK/out" "^\[apex\] apex: preemption latency [0-9]+ us, periodic release jitter"
done
# Processes on both vCPUs of a partition (guests/apex_smp.c): each case judged from inside.
run apex_smp 2 80 "smp done, 24 ok, 0 failed"
expect "$WORK/out" "^\[apex\] apex: cross-vCPU wake-up [0-9]+ ns \(idle vCPU\), [0-9]+ ns \(preempting\)\$"
# Ports between two APEX partitions on one core (tests/e2e/apex_ports.xml): each side's checks.
"$SUP" --frames 30 "$(dirname "$0")/apex_ports.xml" >"$WORK/out" 2>&1 || fail "ports: exit status $?"
grep 'apex: FAIL' "$WORK/out" && fail "ports: a check failed"
expect "$WORK/out" "^\[src\] apex: ports src done, 19 ok, 0 failed\$"
expect "$WORK/out" "^\[dst\] apex: ports dst done, 23 ok, 0 failed\$"
echo "ok: sampling and queuing ports"
# A C++ partition program: its global constructor ran before apex_main, virtual calls work.
sed 's/apex_services.bin/apex_cpp.bin/' "$(config apex_services 1)" >"$WORK/cpp.xml"
"$SUP" --frames 5 "$WORK/cpp.xml" >"$WORK/out" 2>&1 || fail "c++: exit status $?"
expect "$WORK/out" "^\[apex\] apex: c\+\+ ok constructor 42 virtual 4 template 24\$"
echo "ok: a C++ partition program"
# A warm start keeps the application's data, and the partition OS starts afresh: the same
# process and semaphore are created again (two vCPUs: the second waits for the new kernel).
sed 's/apex_services.bin/apex_warm.bin/' "$(config apex_services 2)" >"$WORK/warm.xml"
"$SUP" --frames 10 "$WORK/warm.xml" >"$WORK/out" 2>&1 || fail "warm: exit status $?"
expect "$WORK/out" '^\[apex\] apex: warm boot 2 \(mode 2\), count 7 kept, process NO_ERROR, semaphore NO_ERROR$'
echo "ok: a warm start"
