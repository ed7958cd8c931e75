#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Module schedules: a partition with SetModuleSchedule switches between schedules of different
# major frames; every core switches at the same frame boundary; another partition's request is
# refused and reported; ScheduleChangeAction COLD_START restarts a partition at the switch and
# IDLE stops one for good. pawn keeps running across switches (IGNORE) so that it reaches its
# fourth window however slowly the machine boots it; phoenix starts again at every switch.
# Frames are long (150 and 225 ms) so that a restart, 0.2-0.4 s under emulation, completes
# within the four frames between switches.
. "$(dirname "$0")/lib.sh"
cat >"$WORK/s.xml" <<XML
<Module Name="modes">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="boss" BinaryPath="switcher.bin"
          SetModuleSchedule="true" SystemPartition="true" ScheduleChangeAction="IGNORE"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="2" Name="pawn" BinaryPath="switcher.bin"
          ScheduleChangeAction="IGNORE"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="4" Name="phoenix" BinaryPath="switcher.bin"
          ScheduleChangeAction="COLD_START"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="3" Name="idler" BinaryPath="hello.bin"
          ScheduleChangeAction="IDLE"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="150000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="boss" Duration="50000000" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="pawn" Duration="50000000" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="phoenix" Duration="25000000" Offset="50000000"/>
    <PartitionTimeWindow PartitionNameRef="idler" Duration="50000000" Offset="75000000"/>
  </Schedules>
  <Schedules MajorFrameDuration="225000000" ScheduleIdentifier="2">
    <PartitionTimeWindow PartitionNameRef="boss" Duration="50000000" Offset="25000000"/>
    <PartitionTimeWindow PartitionNameRef="phoenix" Duration="50000000" Offset="25000000"/>
    <PartitionTimeWindow PartitionNameRef="pawn" Duration="50000000" Offset="100000000"/>
    <PartitionTimeWindow PartitionNameRef="idler" Duration="50000000" Offset="160000000"/>
  </Schedules>
</Module>
XML
"$SUP" --frames 14 --trace "$WORK/s.json" "$WORK/s.xml" >"$WORK/out" 2>&1 || fail "exit $?"
expect "$WORK/out" '^\[boss\] window 4: request schedule 2: 0$'
expect "$WORK/out" "partition 'boss' requests schedule 2 from the next major frame"
expect "$WORK/out" '^\[boss\] window [0-9]+: schedule 2$'
expect "$WORK/out" '^\[boss\] window [0-9]+: request schedule 1: 0$'
expect "$WORK/out" '^\[boss\] window [0-9]+: schedule 1$' 2
# pawn may not: its guest hears EPERM, the health monitor logs it, nothing switches for it.
expect "$WORK/out" '^\[pawn\] window 4: request schedule [12]: -1$'
expect "$WORK/out" "partition 'pawn': ILLEGAL_REQUEST: schedule [12] refused: the partition may not set schedules"
# At every switch phoenix starts again from its image (COLD_START), and knows why; pawn does not.
expect "$WORK/out" "partition 'phoenix': ScheduleChangeAction COLD_START" 2
expect "$WORK/out" '^\[phoenix\] phoenix: COLD_START, start condition 1, restarts 1, boot 1$'
! grep -q "partition 'pawn': ScheduleChangeAction" "$WORK/out" || fail "pawn (IGNORE) was acted on"
# idler goes IDLE at the first switch and gets no window after it.
expect "$WORK/out" "partition 'idler': ScheduleChangeAction IDLE"
[ "$(grep -c "partition 'idler': ScheduleChangeAction" "$WORK/out")" -eq 1 ] ||
	fail "an IDLE partition was acted on again"
[ "$(summary_field idler 6)" -ge 5 ] || fail "idler: expected idle windows after the switch"
expect "$WORK/out" '^mumu: --frames reached after 14 major frames; schedule [12] \([2-9] switches\)'

# The trace: each frame has one schedule on both cores, and its windows start at that frame's
# boundary plus their offset; boundaries follow each schedule's own major frame.
awk '
function num(k,   i) { i = index($0, "\"" k "\":"); return i ? substr($0, i + length(k) + 3) + 0 : -1 }
/"ph":"X"/ && !/"cat":"planned"/ {
	f = num("frame"); s = num("schedule"); b = num("planned_start_ns") - num("offset_ns")
	if ((f in sched) && (sched[f] != s || start[f] != b)) { print "frame " f " disagrees: " $0; bad++ }
	sched[f] = s; start[f] = b
}
END {
	for (f = 1; f in sched; f++) {
		want = start[f - 1] + (sched[f - 1] == 1 ? 150000000 : 225000000)
		if (start[f] != want) { print "frame " f " starts at " start[f] ", want " want; bad++ }
		if (sched[f] != sched[f - 1]) switches++
	}
	if (switches < 2) { print "only " switches " switches in the trace"; bad++ }
	exit bad > 0
}' "$WORK/s.json" || fail "frame boundaries in the trace"
echo "ok"
