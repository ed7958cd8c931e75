#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The SDK as a user outside the tree has it (docs/sdk.md): make install into a DESTDIR, the
# example (examples/hello-apex) copied elsewhere and built against the installed pkg-config
# files alone, its ELF image checked and run by the installed supervisor.
. "$(dirname "$0")/lib.sh"
src=$(pwd)
root=$WORK/root
make -s -C "$src" install DESTDIR="$root" PREFIX=/usr BUILD_RELEASE="$WORK/release" \
	>"$WORK/install.log" 2>&1 || { tail -20 "$WORK/install.log"; fail "make install"; }
# The SDK's libc.a links to musl-dev's, relative to /usr: a root with musl-dev has it.
mkdir -p "$root/usr/lib"
ln -s /usr/lib/x86_64-linux-musl "$root/usr/lib/x86_64-linux-musl"
for f in usr/bin/mumu-supervisor usr/bin/mumu-vmm usr/bin/mumu-ctl usr/bin/mumu-trace \
	usr/share/mumu/mumu.xsd usr/share/mumu/examples/mumu.xml usr/share/mumu/guests/hello.bin \
	usr/include/mumu-guest/arinc653/apex.h usr/include/mumu-guest/lib/mumu.h; do
	[ -e "$root/$f" ] || fail "not installed: /$f"
done
# The man pages render, without a warning.
for m in man1/mumu-supervisor.1 man1/mumu-vmm.1 man1/mumu-ctl.1 man1/mumu-trace.1 man5/mumu.xml.5; do
	f=$root/usr/share/man/$m
	[ -e "$f" ] || fail "not installed: $m"
	MANWIDTH=80 man -l "$f" >"$WORK/man.txt" 2>"$WORK/man.err" || fail "man -l $m: exit $?"
	[ -s "$WORK/man.err" ] && { cat "$WORK/man.err"; fail "man -l $m warns"; }
	grep -q '^NAME' "$WORK/man.txt" || fail "$m has no NAME"
done
# The systemd unit runs the installed supervisor on SYSCONFDIR/mumu/NAME.xml, checked first.
unit=$root/usr/lib/systemd/system/mumu@.service
grep -qx 'ExecStart=/usr/bin/mumu-supervisor --control /run/mumu/%i.sock /etc/mumu/%i.xml' "$unit" ||
	fail "the unit does not run the installed supervisor"
grep -qx 'ExecStartPre=/usr/bin/mumu-supervisor --check /etc/mumu/%i.xml' "$unit" ||
	fail "the unit does not check the config first"
# Shell completion: the commands and a restart's start modes.
comp=$root/usr/share/bash-completion/completions
got=$(bash -c '. "$1"; COMP_WORDS=(mumu-ctl re); COMP_CWORD=1; _mumu_ctl; echo "${COMPREPLY[*]}"
	COMP_WORDS=(mumu-ctl restart alpha w); COMP_CWORD=3; _mumu_ctl; echo "${COMPREPLY[*]}"
	COMP_WORDS=(mumu-supervisor --ch); COMP_CWORD=1; _mumu_supervisor; echo "${COMPREPLY[*]}"' \
	_ "$comp/mumu-supervisor")
[ "$got" = $'restart\nwarm\n--check' ] || fail "completion: $got"
[ -L "$comp/mumu-ctl" ] && [ -L "$comp/mumu-trace" ] || fail "completion not linked for mumu-ctl, mumu-trace"
# make deb (the same Release tree): unpacked into an empty root, its programs run.
make -s -C "$src" deb BUILD_RELEASE="$WORK/release" BUILD="$WORK" >"$WORK/deb.log" 2>&1 ||
	{ tail -20 "$WORK/deb.log"; fail "make deb"; }
deb=$(ls "$WORK"/mumu_*.deb) || fail "no .deb"
dpkg-deb -I "$deb" >"$WORK/deb.info" || fail "dpkg-deb -I: exit $?"
grep -q '^ Package: mumu$' "$WORK/deb.info" || fail "the .deb's control"
mkdir "$WORK/debroot"
dpkg-deb -x "$deb" "$WORK/debroot"
for b in mumu-supervisor mumu-ctl mumu-trace; do
	"$WORK/debroot/usr/bin/$b" --help >/dev/null || fail "$b --help from the .deb: exit $?"
done
[ -e "$WORK/debroot/usr/share/doc/mumu/copyright" ] || fail "the .deb has no copyright file"
lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$WORK/lintian.out" 2>&1 ||
	{ cat "$WORK/lintian.out"; fail "lintian: the .deb has errors or warnings"; }
pc=$(dirname "$(find "$root" -name mumu-apex.pc)")
[ -n "$pc" ] || fail "no mumu-apex.pc installed"
# A Release build: the installed VMM has no test hooks.
grep -qa MUMU_TEST_ATTEMPT "$root/usr/bin/mumu-vmm" && fail "the installed VMM has test hooks"

cp -r examples/hello-apex "$WORK/ex"
cd "$WORK/ex"
PKG_CONFIG_PATH=$pc make >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "the example does not build"; }
grep -q -- "$src" "$WORK/build.log" && fail "the example's build reaches into the source tree"
"$root/usr/bin/mumu-supervisor" --check system.xml >"$WORK/out" 2>&1 || fail "--check: exit $?"
expect "$WORK/out" 'counter\.elf \(ELF, entry 0x[0-9a-f]+'
expect "$WORK/out" 'monitor\.elf \(ELF, entry 0x[0-9a-f]+'
"$root/usr/bin/mumu-supervisor" --frames 6 system.xml >"$WORK/out" 2>&1 || fail "run: exit $?"
expect "$WORK/out" '^\[counter\] printer: count [0-9]+, sqrt [0-9]+$' 3
# The monitor on the other core reads the counts through the channel.
expect "$WORK/out" '^\[monitor\] monitor: count [0-9]+, sqrt [0-9]+ \(valid\)$' 2
echo "ok: the example built against the installed SDK runs"

# The same with CMake: find_package(mumu) and mumu_add_partition, against the DESTDIR tree.
cmake -S . -B "$WORK/cm" -DCMAKE_PREFIX_PATH="$root/usr" >"$WORK/cmake.log" 2>&1 &&
	cmake --build "$WORK/cm" >>"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log"; fail "CMake build"; }
cp "$WORK/cm/counter.elf" "$WORK/cm/monitor.elf" .
chmod o+r counter.elf monitor.elf
"$root/usr/bin/mumu-supervisor" --frames 4 system.xml >"$WORK/out" 2>&1 || fail "CMake run: exit $?"
expect "$WORK/out" '^\[counter\] printer: count [0-9]+, sqrt [0-9]+$' 2
expect "$WORK/out" '^\[monitor\] monitor: count [0-9]+, sqrt [0-9]+ \(valid\)$'
echo "ok: the same with find_package(mumu)"

# Built with the stack protector (the SDK's flags leave the compiler's default alone): the
# canary is read at %fs:0x28, the information page's stack_guard (docs/abi.md).
make clean >/dev/null
PKG_CONFIG_PATH=$pc make CC="cc -fstack-protector-all" >"$WORK/build.log" 2>&1 ||
	{ cat "$WORK/build.log"; fail "the example does not build with -fstack-protector-all"; }
objdump -d counter.elf >"$WORK/counter.dis" || fail "objdump: exit $?"
grep -q '%fs:0x28' "$WORK/counter.dis" || fail "no stack-protector canary in counter.elf"
"$root/usr/bin/mumu-supervisor" --frames 4 system.xml >"$WORK/out" 2>&1 || fail "SSP run: exit $?"
expect "$WORK/out" '^\[counter\] printer: count [0-9]+, sqrt [0-9]+$' 2
echo "ok: the same with the stack protector"

# C++ out of the tree, as docs/sdk.md says: g++ with the same pkg-config flags; a static
# constructor runs before apex_main.
cat >hello.cpp <<'CPP'
#include "arinc653/apex.h"
#include "lib/mumu.h"
struct Greeting {
	int times;
	Greeting() : times(3) {}
};
static Greeting greeting;
extern "C" void apex_main(void)
{
	RETURN_CODE_TYPE rc;
	for (int i = 0; i < greeting.times; i++)
		mumu_printf("hello from C++ %d\n", i);
	SET_PARTITION_MODE(NORMAL, &rc);
}
CPP
PKG_CONFIG_PATH=$pc g++ -std=gnu++17 -O2 -fno-exceptions -fno-rtti -fno-threadsafe-statics \
	$(PKG_CONFIG_PATH=$pc pkg-config --cflags mumu-apex) -o hello.elf hello.cpp \
	$(PKG_CONFIG_PATH=$pc pkg-config --libs mumu-apex) >"$WORK/build.log" 2>&1 ||
	{ cat "$WORK/build.log"; fail "C++ does not build against the installed SDK"; }
cat >hello.xml <<'XML'
<Module Name="cpp">
  <Partitions>
    <Partition>
      <PartitionDefinition Identifier="1" Name="hello" BinaryPath="hello.elf"/>
      <CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>
    </Partition>
  </Partitions>
  <Schedules MajorFrameDuration="20000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
    <PartitionTimeWindow PartitionNameRef="hello" Duration="10000000" Offset="0"/>
  </Schedules>
</Module>
XML
"$root/usr/bin/mumu-supervisor" --frames 4 hello.xml >"$WORK/out" 2>&1 || fail "C++ run: exit $?"
expect "$WORK/out" '^\[hello\] hello from C\+\+ 2$'
echo "ok: C++ against the installed SDK"
