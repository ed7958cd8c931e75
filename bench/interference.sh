#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sourced by bench/all.sh (helpers row, median_ratio; variables bin, build, out, runs), or run
# alone: bench/interference.sh BUILD.
# 8. Temporal isolation: the time taken from a witness partition inside its own windows
#    (witness.bin: TSC jumps of 20 us..5 ms) next to an attacker, against a quiet partition in
#    the same place, in the same invocation, rounds interleaved. Two places: the attacker on
#    the other core at the same time, and on the same core right before the witness.
if ! declare -F row >/dev/null; then # alone
	set -euo pipefail
	build=${1:-build}
	cd "$(dirname "$0")/.."
	bin=$build/bin runs=${MUMU_BENCH_RUNS:-3}
	. bench/lib.sh
	row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }
fi
idir=$build/bench/interference
mkdir -p "$idir"

# interference_xml FILE GUEST PLACE: a 100 ms frame; the witness has [45, 90) ms on core 1;
# the attacker GUEST [0, 90) ms on core 0 (PLACE other) or [0, 45) ms on core 1 (same).
# Restarts are not limited (a restart storm must go on for the whole run).
interference_xml() {
	local core=0 dur=90000000
	[ "$3" = same ] && core=1 dur=45000000
	cat >"$1" <<XML
<Module Name="interference">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="attacker" BinaryPath="$2"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="$core"/></CoreAffinity>
      <HealthMonitor RestartLimit="1000" RestartPeriod="1000000000"/>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="2" Name="witness" BinaryPath="witness.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="100000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="attacker" Duration="$dur" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="witness" Duration="45000000" Offset="45000000"/>
  </Schedules>
</Module>
XML
}

# stolen_us CONFIG: the witness's median stolen time per window (us) over a 5 s run, its
# first two windows aside (start-up). The median: an attacker takes from every window, the
# machine's own stalls from a few. (Quiet, the host's timer tick alone takes ~30 us a
# millisecond from a spinning guest here: about 1.3 ms per 45 ms window.)
stolen_us() {
	"$bin/mumu-supervisor" --control none --duration 5 "$1" >"$idir/out" 2>&1 || true
	awk '$1 == "[witness]" && $2 == "witness" && $3 >= 2 { print $4 }' "$idir/out" |
		sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : -1 }'
}

# Each round runs the quiet layout and then each attacker once, so that every attacker's
# figure has a quiet one from the same minute; the ratio is the median of the rounds'.
attackers="flood hm_flood restarter upcall_storm guard_storm"
for place in other same; do
	interference_xml "$idir/quiet-$place.xml" hello.bin "$place"
	declare -A got=()
	for attacker in $attackers; do
		interference_xml "$idir/$attacker-$place.xml" "$attacker.bin" "$place"
	done
	for ((i = 0; i < runs; i++)); do
		got[quiet]+="$(stolen_us "$idir/quiet-$place.xml") "
		for attacker in $attackers; do
			got[$attacker]+="$(stolen_us "$idir/$attacker-$place.xml") "
		done
	done
	for attacker in $attackers; do
		row "witness's stolen us per 45 ms window (median), $attacker.bin on the $place core" \
			"${got[$attacker]% }" "quiet ${got[quiet]% }" \
			"$(median_ratio "${got[$attacker]}" "${got[quiet]}")" "<= 1.10"
	done
	unset got
done

# The machine's own floor: the smallest KVM process making exits as fast as it can (a
# hypercall's exit, bench/bare_kvm) on core 0, next to the witness in the quiet layout.
floor=() quiet=()
for ((i = 0; i < runs; i++)); do
	quiet+=("$(stolen_us "$idir/quiet-other.xml")")
	taskset -c 0 "$build/bench/bare_kvm" 1000000 >/dev/null 2>&1 &
	bare=$!
	floor+=("$(stolen_us "$idir/quiet-other.xml")")
	kill "$bare" 2>/dev/null || true
	wait "$bare" 2>/dev/null || true
done
row "witness's stolen us per 45 ms window (median), bare KVM exits on the other core" \
	"${floor[*]}" "quiet ${quiet[*]}" "$(median_ratio "${floor[*]}" "${quiet[*]}")" "-"

# What a guard page's memory slot change costs the other core, done bare: cyclictest on core 1
# (SCHED_FIFO 80, 500 us) for 5 s, quiet and while bench/slot_churn on core 0 adds and
# deletes a memory slot as fast as it can or 64 times a second, rounds interleaved. The
# reason for MUMU_GUARDS_MAX (docs/abi.md "Guard pages").
cyc() { # prints "AVG MAX" in us
	cyclictest -q -m -a 1 -p 80 -i 500 -D 5 2>/dev/null |
		sed -n 's/.*Avg: *\([0-9]*\) *Max: *\([0-9]*\).*/\1 \2/p' | head -n 1
}
churn() { # RATE (0: flat out): cyc while slot_churn runs
	taskset -c 0 "$build/bench/slot_churn" 6 "$1" >/dev/null &
	local pid=$!
	sleep 0.2
	cyc
	wait "$pid" || true
}
cq_avg=() cq_max=() cf_avg=() cf_max=() cr_avg=() cr_max=()
for ((i = 0; i < runs; i++)); do
	set -- $(cyc)
	cq_avg+=("${1:-0}") cq_max+=("${2:-0}")
	set -- $(churn 0)
	cf_avg+=("${1:-0}") cf_max+=("${2:-0}")
	set -- $(churn 64)
	cr_avg+=("${1:-0}") cr_max+=("${2:-0}")
done
row "cyclictest on core 1, max (us), memory slots changed flat out on core 0" "${cf_max[*]}" \
	"quiet ${cq_max[*]}" "$(median_ratio "${cf_max[*]}" "${cq_max[*]}")" "-"
row "same, average (us)" "${cf_avg[*]}" "quiet ${cq_avg[*]}" \
	"$(median_ratio "${cf_avg[*]}" "${cq_avg[*]}")" "-"
row "cyclictest on core 1, max (us), 64 slot changes a second on core 0" "${cr_max[*]}" \
	"quiet ${cq_max[*]}" "$(median_ratio "${cr_max[*]}" "${cq_max[*]}")" "-"
row "same, average (us)" "${cr_avg[*]}" "quiet ${cq_avg[*]}" \
	"$(median_ratio "${cr_avg[*]}" "${cq_avg[*]}")" "-"
