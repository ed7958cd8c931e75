#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Ports and shared memory between partitions on two cores: sampling messages with their
# sequence numbers and validity, a queue that loses nothing (also across a restart of the
# reader), overflow reported to both ends, a killed writer's last message kept and marked
# invalid, and read-only access enforced by KVM (guest) and by the kernel (VMM).
. "$(dirname "$0")/lib.sh"
# ports WRITER_ACTION QUEUE_DEPTH SENSOR_WINDOWS READER_GUEST: a sensor on core 0 and a
# display on core 1, 40 ms frames, RefreshPeriod 100 ms.
ports() {
	local win="" off=0
	for _ in $(seq "$3"); do
		win="$win<PartitionTimeWindow PartitionNameRef=\"sensor\" Duration=\"4000000\" Offset=\"${off}000000\"/>"
		off=$((off + 8))
	done
	cat >"$WORK/p.xml" <<XML
<Module Name="ports">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="sensor" BinaryPath="sensor.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
      <HealthMonitor><ErrorAction Error="VMM_DIED" Action="$1"/></HealthMonitor>
      <SamplingPort Name="speed_out" Direction="SOURCE" MaxMessageSize="64" RefreshPeriod="100000000"/>
      <QueuingPort Name="cmd_out" Direction="SOURCE" MaxMessageSize="64" MaxNbMessages="$2"/>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="2" Name="display" BinaryPath="$4"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>
      <SamplingPort Name="speed_in" Direction="DESTINATION" MaxMessageSize="64" RefreshPeriod="100000000"/>
      <QueuingPort Name="cmd_in" Direction="DESTINATION" MaxMessageSize="64" MaxNbMessages="$2"/>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="40000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    $win
    <PartitionTimeWindow PartitionNameRef="display" Duration="10000000" Offset="20000000"/>
  </Schedules>
  <Channels>
    <Channel Name="speed">
      <Source PartitionNameRef="sensor" PortNameRef="speed_out"/>
      <Destination PartitionNameRef="display" PortNameRef="speed_in"/>
    </Channel>
    <Channel Name="cmd">
      <Source PartitionNameRef="sensor" PortNameRef="cmd_out"/>
      <Destination PartitionNameRef="display" PortNameRef="cmd_in"/>
    </Channel>
  </Channels>
  <SharedMemories>
    <SharedMemory Name="map" Size="8192">
      <Access PartitionNameRef="sensor" Mode="WRITE"/>
      <Access PartitionNameRef="display" Mode="READ"/>
    </SharedMemory>
  </SharedMemories>
</Module>
XML
	echo "$WORK/p.xml"
}

# cmd_seqs FILE: the queue's sequence numbers display printed, in order.
cmd_seqs() { sed -nE 's/^\[display\] cmd seq=([0-9]+).*/\1/p' "$1"; }
# one_to_n LIST: LIST (a number a line) is exactly 1, 2, ... n.
one_to_n() { [ "$(tr '\n' ' ' <<<"$1")" = "$(seq -s ' ' 1 "$(wc -l <<<"$1")") " ]; }

# kill_one CONFIG VICTIM BEFORE DIED AFTER: run CONFIG; once $WORK/out has a line matching
# BEFORE, SIGKILL VICTIM's VMM; wait for DIED, then AFTER; stop the supervisor (SIGTERM).
kill_one() {
	"$SUP" --control none --duration 60 "$1" >"$WORK/out" 2>&1 &
	sup=$!
	wait_for "$WORK/out" "$3"
	kill -KILL "$(pgrep -f "mumu-vmm $2 ")"
	wait_for "$WORK/out" "$4"
	wait_for "$WORK/out" "$5"
	kill -TERM $sup
	wait $sup || fail "supervisor exit $?"
}

# 1. Messages flow; the reader's VMM cannot make its read-only mapping writable.
cfg=$(ports COLD_START 16 1 display.bin)
MUMU_TEST_ATTEMPT=mprotect_region MUMU_TEST_ATTEMPT_PARTITION=display "$SUP" --control none \
	--frames 15 "$cfg" >"$WORK/out" 2>&1 || fail "exit $?"
expect "$WORK/out" "test hook: 'mprotect_region' returned -1 \(Permission denied\)"
expect "$WORK/out" '^\[display\] speed seq=[0-9]+ valid=1 age=[0-9]+ us: speed [0-9]+ km/h$' 8
expect "$WORK/out" '^\[display\] cmd seq=[0-9]+: cmd [0-9]+$' 4
expect "$WORK/out" '^\[display\] map [1-9][0-9]*$' 8
seqs=$(sed -nE 's/^\[display\] speed seq=([0-9]+) .*/\1/p' "$WORK/out")
sort -n -C <<<"$seqs" || fail "sampling sequence numbers went back: $seqs"
one_to_n "$(cmd_seqs "$WORK/out")" ||
	fail "queue: not every message once in order: $(cmd_seqs "$WORK/out" | tr '\n' ' ')"
for p in sensor display; do [ "$(hm_faults $p)" -eq 0 ] || fail "$p faulted"; done

# 2. The reader restarts: the queue resumes where it was, the sampling port still holds.
kill_one "$cfg" display '^\[display\] cmd seq=3:' "partition 'display': VMM_DIED" \
	'^\[display\] cmd seq=8:'
expect "$WORK/out" '^\[display\] display: listening$' 2
got=$(cmd_seqs "$WORK/out" | sort -n -u)
one_to_n "$got" || fail "queue lost messages across the reader's restart: $(tr '\n' ' ' <<<"$got")"

# 3. The writer dies for good: its last message stays readable and turns invalid.
cfg=$(ports IDLE 16 1 display.bin)
kill_one "$cfg" sensor '^\[display\] speed seq=3 valid=1' \
	"partition 'sensor': VMM_DIED: .*IDLE" '^\[display\] speed seq=[0-9]+ valid=0 '
last=$(sed -nE 's/^\[display\] speed seq=([0-9]+) valid=0 .*/\1/p' "$WORK/out" | tail -1)
expect "$WORK/out" "^\\[display\\] speed seq=$last valid=1 "
expect "$WORK/out" "^\\[display\\] speed seq=$last valid=0 .*: speed [0-9]+ km/h\$"

# 4. A full queue: the sender is told, the receiver sees the overflow.
cfg=$(ports COLD_START 1 4 display.bin)
"$SUP" --control none --frames 10 "$cfg" >"$WORK/out" 2>&1 || fail "exit $?"
expect "$WORK/out" "^\[sensor\] cmd_out: queue full, 'cmd [0-9]+' not sent$"
expect "$WORK/out" '^\[display\] cmd seq=[0-9]+ overflow: cmd [0-9]+$'

# 5. A reader guest that writes to its read-only shared memory: MEMORY_VIOLATION, restarted
# (it sees the writer's newer values), the writer goes on.
cfg=$(ports COLD_START 16 1 ro_write.bin)
"$SUP" --control none --frames 12 "$cfg" >"$WORK/out" 2>&1 || fail "exit $?"
expect "$WORK/out" "partition 'display': MEMORY_VIOLATION: .*write to read-only gpa 0x80000000" 2
expect "$WORK/out" '^\[display\] ro_write: map reads [1-9][0-9]*; writing to it$'
grep -q '^\[display\] ro_write: survived' "$WORK/out" && fail "a write to a read-only region went through"
[ "$(hm_faults sensor)" -eq 0 ] || fail "sensor faulted"
echo "ok"
