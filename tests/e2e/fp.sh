#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Floating point is each partition's own: two partitions on one core run the same long
# double-precision series, each in its own rounding mode, across many window switches, twice,
# and compare bit for bit; then each restarts itself warm and computes it once more against
# the result it kept in RAM.
. "$(dirname "$0")/lib.sh"
cat >"$WORK/fp.xml" <<XML
<Module Name="fp">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="fp1" BinaryPath="fp.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
    <Partition>
      <PartitionDefinition Identifier="2" Name="fp2" BinaryPath="fp.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="20000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="fp1" Duration="8000000" Offset="0"/>
    <PartitionTimeWindow PartitionNameRef="fp2" Duration="8000000" Offset="10000000"/>
  </Schedules>
</Module>
XML
"$SUP" --frames 200 --control none "$WORK/fp.xml" >"$WORK/out" 2>&1 || fail "exit status $?"
grep -q MISMATCH "$WORK/out" && fail "a result changed"
expect "$WORK/out" '^\[fp1\] fp: pass 1 ok [0-9a-f]+ mxcsr 1f[89ab][0-9a-f]$'
expect "$WORK/out" '^\[fp2\] fp: pass 1 ok [0-9a-f]+ mxcsr 7f[89ab][0-9a-f]$'
expect "$WORK/out" '^\[fp1\] fp: after a warm restart ok '
expect "$WORK/out" '^\[fp2\] fp: after a warm restart ok '
# Different rounding, different bits: the modes really were each partition's own.
[ "$(sed -n 's/^\[fp1\] fp: pass 1 ok \([0-9a-f]*\).*/\1/p' "$WORK/out")" != \
	"$(sed -n 's/^\[fp2\] fp: pass 1 ok \([0-9a-f]*\).*/\1/p' "$WORK/out")" ] ||
	fail "both partitions computed the same bits"
echo "ok: floating point"
# The math library (musl's libm, docs/abi.md) on both vCPUs of a partition, in two windows:
# its functions, built with the stack protector, find their canary at %fs:0x28.
cat >"$WORK/libm.xml" <<XML
<Module Name="m">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="libm" BinaryPath="libm.bin"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/>
        <CoreMapping LogicalCoreId="1" PhysicalCoreId="1"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="20000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="libm" Duration="10000000" Offset="0"/>
  </Schedules>
</Module>
XML
"$SUP" --frames 5 "$WORK/libm.xml" >"$WORK/out" 2>&1 || fail "libm: exit status $?"
expect "$WORK/out" '^\[libm\] libm: vcpu 0 done 46 ok, 0 failed$'
expect "$WORK/out" '^\[libm\] libm: vcpu 1 done 46 ok, 0 failed$'
echo "ok: libm"
