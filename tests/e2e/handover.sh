#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Who holds a core at a window boundary (docs/scheduling.md "Hand-over"): where a core's windows
# leave the kernel's real-time budget room, every vCPU on it runs SCHED_FIFO and its VMM's
# other threads do not; on a core filled with windows back to back the vCPUs run at the normal
# policy, the supervisor says so, and partitions hand the core over with batons: every window
# is entered and no leaving partition is blamed for the hand-over. A VMM that withholds its
# batons costs the next partition the hand-over bound (1 ms) at each start, never a window.
. "$(dirname "$0")/lib.sh"

# policy PID COMM: "POLICY PRIORITY" of the thread of PID named COMM (/proc/PID/task/*/stat).
policy() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm")" = "$2" ] && awk '{ print $41, $40 }' "$t/stat" && return
	done
	echo "none"
}

# 1. The demo: both cores have room; every vCPU is real-time, nothing else of a VMM is.
start_bg etc/mumu.xml "$WORK/out"
for name in alpha beta gamma sensor display; do
	pid=$(pgrep -f "mumu-vmm $name ")
	[ "$(policy "$pid" vcpu0)" = "1 50" ] || fail "$name vcpu0: policy $(policy "$pid" vcpu0)"
	[ "$(policy "$pid" mumu-vmm)" = "0 0" ] || fail "$name main thread: $(policy "$pid" mumu-vmm)"
done
[ "$(policy "$(pgrep -f 'mumu-vmm gamma ')" vcpu1)" = "1 50" ] || fail "gamma vcpu1 not real-time"
if grep -q "real-time budget" "$WORK/out"; then fail "the demo's cores were refused real time"; fi
kill -TERM "$sup"
wait "$sup" || fail "demo: exit status $?"
sup=
echo "ok: real-time vCPUs where the budget allows"

# 2. Core 0 full: a and b back to back, 5 ms each of a 10 ms frame; core 1 half used.
cat >"$WORK/full.xml" <<XML
<Module Name="full">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="a" BinaryPath="hello.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="2" Name="b" BinaryPath="spin.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="3" Name="c" BinaryPath="hello.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="10000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="a" Duration="5000000" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="b" Duration="5000000" Offset="5000000"/>
    <PartitionTimeWindow PartitionNameRef="c" Duration="5000000" Offset="0"/>
  </Schedules>
</Module>
XML
"$SUP" --duration 60 "$WORK/full.xml" >"$WORK/out" 2>&1 &
sup=$!
wait_for "$WORK/out" '^\[a\] tick 3$'
[ "$(policy "$(pgrep -f 'mumu-vmm a ')" vcpu0)" = "0 0" ] || fail "a: a real-time vCPU on a full core"
[ "$(policy "$(pgrep -f 'mumu-vmm c ')" vcpu0)" = "1 50" ] || fail "c: not real-time"
# Batons where they are needed only: a and b hold a->b and b->a beside their go and done
# eventfds; c, alone on a real-time core, none.
for v in a:4 b:4 c:2; do
	n=$(for f in /proc/"$(pgrep -f "mumu-vmm ${v%:*} ")"/fd/*; do readlink "$f"; done |
		grep -c '^anon_inode:\[eventfd\]$' || true)
	[ "$n" -eq "${v#*:}" ] || fail "${v%:*}: $n eventfds, not ${v#*:}"
done
kill -TERM "$sup"
wait "$sup" || fail "full: exit status $?"
sup=
expect "$WORK/out" "core 0: its windows leave less than the kernel's real-time budget free"
if grep -q "core 1: its windows leave less" "$WORK/out"; then fail "core 1 has room"; fi
# b spins through every window: its VMM leaves only by its end timer, and a, after it, waits
# for that (its baton). Neither is ever enforced.
[ "$(summary_field a 5)" -eq 0 ] || fail "a: $(summary_field a 5) windows enforced"
[ "$(summary_field b 5)" -eq 0 ] || fail "b: $(summary_field b 5) windows enforced"
[ "$(summary_field b 2)" -ge 10 ] || fail "b: $(summary_field b 2) windows ran"
echo "ok: a full core hands over with batons"

# 3. b withholds its batons: a still gets every window it is given, later by the bound.
MUMU_TEST_ATTEMPT=hold_batons MUMU_TEST_ATTEMPT_PARTITION=b "$SUP" --frames 100 "$WORK/full.xml" \
	>"$WORK/out" 2>&1 || fail "hold_batons: exit status $?"
expect "$WORK/out" "test hook: attempting 'hold_batons'"
[ "$(summary_field a 5)" -eq 0 ] || fail "a: $(summary_field a 5) windows enforced"
[ "$(summary_field a 3)" -ge 90 ] || fail "a: $(summary_field a 3) windows of 100 entered"
# Entered only at the bound, a millisecond after its start (the table's start p50, in us):
# the wait is the baton's, not the core thread's.
awk '$1 == "a" && NF >= 14 { exit !($9 >= 900) }' "$WORK/out" ||
	fail "a: start p50 $(awk '$1 == "a" && NF >= 14 { print $9 }' "$WORK/out") us"
echo "ok: a withheld baton costs the next partition the bound only"
