#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# From inside the guest: probe.bin spins and records the first and last instruction of every
# window it gets. Each record must lie inside its own planned window (plus the enforcement
# grace) and inside the execution the supervisor traced for it, and never meet a window of the
# other partition on its core: a spinning guest never runs outside its windows.
. "$(dirname "$0")/lib.sh"
GRACE_NS=2000000 # SUP_ENFORCE_GRACE_NS
# A window the supervisor had to enforce (SIGSTOP after the grace), or one whose times from
# the VMM it found implausible, has no actual interval in the trace: it is held to its planned
# end plus the grace and the stop, which the emulated machine may take long to land.
STOP_NS=3000000

cat >"$WORK/probe.xml" <<XML
<Module Name="e2e">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="probe" BinaryPath="probe.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="2" Name="other" BinaryPath="spin.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="3" Name="witness" BinaryPath="hello.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="60000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="probe" Duration="10000000" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="other" Duration="10000000" Offset="15000000"/>
    <PartitionTimeWindow PartitionNameRef="probe" Duration="10000000" Offset="30000000"/>
    <PartitionTimeWindow PartitionNameRef="witness" Duration="30000000" Offset="0"/>
  </Schedules>
</Module>
XML

frames=25
"$SUP" --frames $frames --trace "$WORK/t.json" "$WORK/probe.xml" >"$WORK/out" 2>&1 ||
	fail "exit $?"
expect "$WORK/out" '^\[probe\] probe: tsc [0-9]+ kHz'
# window k is reported at the start of k+1; windows disturbed during its hypercalls are not
expect "$WORK/out" '^\[probe\] probe [0-9]+ [0-9]+ [0-9]+ [0-9]+$' $frames

# Trace windows first (name, planned and actual interval), then the probe's records.
{
	grep '"ph":"X"' "$WORK/t.json" | grep -v '"cat":"planned"'
	sed -n 's/^\[probe\] \(probe [0-9].*\)/\1/p' "$WORK/out"
} | awk -v grace=$GRACE_NS -v stop=$STOP_NS '
function num(k,   i) { i = index($0, "\"" k "\":"); return i ? substr($0, i + length(k) + 3) + 0 : -1 }
/"ph":"X"/ && !/"cat":"planned"/ {
	w = index($0, "\"name\":\"probe\"") ? "p" : index($0, "\"name\":\"other\"") ? "o" : ""
	# enforced, or ran with times the supervisor found implausible: planned bounds only
	forced = index($0, "\"outcome\":\"enforced\"") > 0 ||
		 (index($0, "\"outcome\":\"ran\"") > 0 && num("start_ns") == 0)
	if (w == "" || (num("start_ns") == 0 && !forced)) next
	k = ++n[w]
	ps[w, k] = num("planned_start_ns"); pe[w, k] = num("planned_end_ns")
	s[w, k] = num("start_ns"); e[w, k] = num("end_ns")
	if (forced) { s[w, k] = ps[w, k]; e[w, k] = pe[w, k] + grace + stop }
	next
}
$1 == "probe" {
	first = $3; last = $4; tol = $5 + 100000 + (last - first) / 100
	records++
	if (last < first) { print "record ends before it starts: " $0; bad++; next }
	inside = 0
	for (k = 1; k <= n["p"]; k++)
		if (first + tol >= s["p", k] && last - tol <= e["p", k] &&
		    first + tol >= ps["p", k] && last - tol <= pe["p", k] + grace + stop)
			inside = 1
	if (!inside) { print "probe ran outside its windows: " $0; bad++ }
	for (k = 1; k <= n["o"]; k++)
		if (first + tol < e["o", k] && last - tol > s["o", k]) {
			print "probe ran during other window " k ": " $0; bad++
		}
}
END {
	printf "%d records, %d probe windows, %d other windows\n", records, n["p"], n["o"]
	if (!records || !n["o"]) bad++
	exit bad > 0
}' >"$WORK/check" || { cat "$WORK/check"; fail "the probe ran outside its windows"; }
cat "$WORK/check"
echo "ok"
