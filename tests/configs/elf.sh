#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ELF partition images at --check (no KVM needed): a good one passes and says so; bad ones
# (wrong class, machine or type, a segment outside the user area, overlapping segments, a
# truncated file, a huge p_memsz, the entry in no segment, a dynamic one) are each refused with
# FILE:LINE and the reason. elf.sh SUPERVISOR GOOD_ELF
set -uo pipefail
sup=$1 good=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
# mk NAME PYTHON-EXPR-ON-b: a copy of the good image with the bytes b changed (struct offsets
# of an ELF64 header: e_ident[4] class, e_type 16, e_machine 18, e_entry 24, e_phoff 32;
# program header k at phoff + 56 k: p_type 0, p_offset 8, p_vaddr 16, p_paddr 24, p_filesz 32,
# p_memsz 40).
mk() {
	python3 - "$good" "$work/$1.elf" "$2" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
phoff = struct.unpack_from('<Q', b, 32)[0]
phnum = struct.unpack_from('<H', b, 56)[0]
loads = [phoff + 56 * k for k in range(phnum) if struct.unpack_from('<I', b, phoff + 56 * k)[0] == 1]
def q(off, v): struct.pack_into('<Q', b, off, v)
exec(sys.argv[3])
open(sys.argv[2], 'wb').write(b)
PY
	chmod 644 "$work/$1.elf"
	cat >"$work/$1.xml" <<XML
<Module Name="t">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="a" BinaryPath="$1.elf"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="1000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="a" Duration="500000" Offset="0"/>
  </Schedules>
</Module>
XML
}
refused() { # NAME REASON
	local out rc
	out=$("$sup" --check "$work/$1.xml" 2>&1)
	rc=$?
	if [ $rc -ne 2 ] || ! grep -qF -- "$work/$1.xml:4: partition 'a': ELF image" <<<"$out" ||
		! grep -qF -- "$2" <<<"$out"; then
		echo "FAIL: $1: exit $rc, expected 2 and '...$2'"
		echo "$out"
		fails=$((fails + 1))
	else
		echo "ok: $1 refused: $2"
	fi
}
mk good 'pass'
out=$("$sup" --check "$work/good.xml" 2>&1) || { echo "FAIL: a good ELF refused"; echo "$out"; exit 1; }
grep -q "ELF, entry 0x" <<<"$out" || { echo "FAIL: --check does not say it found an ELF"; echo "$out"; exit 1; }
echo "ok: a good ELF image passes, said so"
mk class 'b[4] = 1'
refused class "not a 64-bit little-endian ELF file"
mk machine "struct.pack_into('<H', b, 18, 183)"
refused machine "built for machine 183, not x86-64"
mk dyn "struct.pack_into('<H', b, 16, 3)"
refused dyn "not a static executable (ET_EXEC)"
mk outside 'q(loads[0] + 16, 0x1000)'
refused outside "is outside the user area"
# The other program header (PT_GNU_STACK) made a second load over the first's start.
mk overlap 'o = [phoff + 56 * k for k in range(phnum) if phoff + 56 * k not in loads][0]; b[o:o + 56] = b[loads[0]:loads[0] + 56]; q(o + 16, struct.unpack_from("<Q", b, loads[0] + 16)[0] + 16)'
refused overlap "overlap"
mk truncated 'del b[len(b) // 2:]'
refused truncated "truncated or malformed"
mk huge 'q(loads[0] + 40, 1 << 40)'
refused huge "is outside the user area"
mk entry 'q(24, 0x7000000)'
refused entry "its entry 0x7000000 is in no loadable segment"
[ $fails -eq 0 ] || exit 1
