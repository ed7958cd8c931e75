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
	bin=$build/bin out=/dev/null runs=${MUMU_BENCH_RUNS:-3}
	median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
	row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }
	median_ratio() {
		local -a a=($1) b=($2)
		local i r=()
		for ((i = 0; i < ${#a[@]}; i++)); do
			r+=("$(awk -v a="${a[i]}" -v b="${b[i]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
		done
		printf '%s (per round: %s)' "$(printf '%s\n' "${r[@]}" | median)" "${r[*]}"
	}
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

# stolen_us CONFIG: the witness's mean stolen time per window (us) over a 4 s run, its
# first two windows aside (start-up).
stolen_us() {
	"$bin/mumu-supervisor" --control none --duration 4 "$1" >"$idir/out" 2>&1 || true
	awk '$1 == "[witness]" && $2 == "witness" && $3 >= 2 { s += $4; n++ }
		END { printf "%.0f", n ? s / n : -1 }' "$idir/out"
}

for place in other same; do
	interference_xml "$idir/quiet-$place.xml" hello.bin "$place"
	for attacker in flood hm_flood restarter; do
		interference_xml "$idir/$attacker-$place.xml" "$attacker.bin" "$place"
		quiet=() attack=()
		for ((i = 0; i < runs; i++)); do
			quiet+=("$(stolen_us "$idir/quiet-$place.xml")")
			attack+=("$(stolen_us "$idir/$attacker-$place.xml")")
		done
		row "witness's stolen us per 45 ms window, $attacker.bin on the $place core" \
			"${attack[*]}" "quiet ${quiet[*]}" \
			"$(median_ratio "${attack[*]}" "${quiet[*]}")" "<= 1.10"
	done
done
