# SPDX-License-Identifier: MIT
# Shared by the end-to-end tests: they run real guests on real KVM with the real binaries.
set -euo pipefail
BUILD=${1:?usage: $0 BUILD_DIR}
SUP=$BUILD/bin/mumu-supervisor
if [ ! -c /dev/kvm ]; then
	echo "SKIPPED: no /dev/kvm here (run through tests/vm/run-e2e.sh)"
	exit 77
fi
WORK=$(mktemp -d)
# A failed test must not leave its background supervisor (and its control socket) behind
# for the next one: on a host with /dev/kvm the tests run one after another on this host.
# Its VMMs first (its children, never another run's), then it.
sup=
trap '[ -z "$sup" ] || { pkill -KILL -P "$sup" 2>/dev/null; kill -KILL "$sup" 2>/dev/null; } || true
rm -rf "$WORK"' EXIT

fail() {
	echo "FAIL: $*"
	[ -f "$WORK/out" ] && { echo "--- output:"; tail -n 60 "$WORK/out"; }
	exit 1
}

# expect FILE PATTERN [MIN_COUNT]: at least MIN_COUNT (default 1) lines match the ERE.
expect() {
	local n
	n=$(grep -cE -- "$2" "$1" || true)
	[ "$n" -ge "${3:-1}" ] || fail "expected ${3:-1}+ lines matching '$2', found $n"
}

# pair NAME GUEST: a config with partition NAME running GUEST and two hello partitions:
# 'witness' on the other core at the same time, 'after' on the same core after it.
pair() {
	cat >"$WORK/$1.xml" <<XML
<Module Name="e2e">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="$1" BinaryPath="$2"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="2" Name="witness" BinaryPath="hello.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="3" Name="after" BinaryPath="hello.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="100000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="$1" Duration="40000000" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="witness" Duration="40000000" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="after" Duration="40000000" Offset="50000000"/>
  </Schedules>
</Module>
XML
	echo "$WORK/$1.xml"
}

# duo NAME GUEST [MEMORY_BYTES]: a config with partition NAME running GUEST on two vCPUs
# (cores 0 and 1) for 20 ms of each 50 ms frame, and a hello partition on each core after it
# (n0, n1). Prints its path.
duo() {
	local mem=
	[ -z "${3:-}" ] || mem=" MemorySize=\"$3\""
	cat >"$WORK/$1.xml" <<XML
<Module Name="e2e">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="$1" BinaryPath="$2"$mem/>
      <CoreAffinity>
        <CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/>
        <CoreMapping LogicalCoreId="1" PhysicalCoreId="1"/>
      </CoreAffinity>
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
  <Schedules MajorFrameDuration="50000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="$1" Duration="20000000" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="n0" Duration="20000000" Offset="25000000"/>
    <PartitionTimeWindow PartitionNameRef="n1" Duration="20000000" Offset="25000000"/>
  </Schedules>
</Module>
XML
	echo "$WORK/$1.xml"
}

# start_bg CONFIG OUT [ARGS...]: run the supervisor in the background (pid in $sup) until the
# last line of the default system shows up in OUT.
start_bg() {
	local cfg=$1 out=$2
	shift 2
	"$SUP" --duration 60 "$@" "$cfg" >"$out" 2>&1 &
	sup=$!
	wait_for "$out" '^\[gamma\] window 4: '
}

# wait_for FILE ERE [COUNT]: up to 20 s for COUNT (default 1) lines matching ERE.
wait_for() {
	for _ in $(seq 100); do
		[ "$(grep -cE -- "$2" "$1" || true)" -ge "${3:-1}" ] && return 0
		sleep 0.2
	done
	fail "no ${3:-1} lines matching '$2' in $1"
}

# summary_field PARTITION COLUMN: a number from the end-of-run table (2 = ran, 3 = yield,
# 4 = missed, 5 = enforced, 6 = idle, 7 = faults, 8 = restarts).
summary_field() {
	awk -v p="$1" -v c="$2" '$1 == p && NF >= 14 { v = $c } END { print v + 0 }' "$WORK/out"
}

# hm_faults PARTITION: its health-monitor events in $WORK/out's table, DEADLINE_MISSED aside:
# the emulated machine can make any partition miss a deadline now and then, and tests never
# assert timing.
hm_faults() {
	local late
	late=$(grep -c "partition '$1': DEADLINE_MISSED" "$WORK/out" || true)
	echo $(($(summary_field "$1" 7) - late))
}
