#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every benchmark, run where /dev/kvm works (bench/run.sh arranges that). Prints a table and
# writes it to BUILD/bench/results.md. References are measured in this same invocation.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
bin=$build/bin
out=$build/bench/results.md
runs=${MUMU_BENCH_RUNS:-5}
mkdir -p "$build/bench"

. bench/lib.sh
now_ns() { date +%s%N; }
row() { printf '| %s | %s | %s | %s | %s |\n' "$@" | tee -a "$out"; }

# Wall time of a command in microseconds (its output discarded), median of $runs runs.
wall_us() {
	local i t0 t1
	for ((i = 0; i < runs; i++)); do
		t0=$(now_ns)
		"$@" >/dev/null 2>&1 || true
		t1=$(now_ns)
		echo $(((t1 - t0) / 1000))
	done | median
}

{
	echo "# mumu benchmark run"
	echo
	echo "- when: $(date -u '+%Y-%m-%d %H:%M UTC'), host: $(uname -r), $(nproc) CPUs"
	if [ -n "${MUMU_IN_VM:-}" ]; then
		echo "- KVM nested inside a QEMU TCG VM (this host has no /dev/kvm): absolute times"
		echo "  are those of an emulated CPU; only the ratios within this run mean anything"
	fi
	echo
	echo "| benchmark | mumu | reference | ratio (mumu/ref) | target |"
	echo "| --- | --- | --- | --- | --- |"
} | tee "$out"

# 1. Partition boot: from exec of the supervisor to the first guest instruction of every
#    partition (the trace's first entry of each), against the smallest KVM process whole
#    (bench/bare_kvm: create a VM, run 10 exits, exit) and QEMU microvm booting an equivalent
#    guest to its first port write, whole process (QEMU only when installed). The clock is
#    read right before exec (python3's, CLOCK_MONOTONIC as the trace's).
boot_first_us() {
	local i t0 first
	for ((i = 0; i < runs; i++)); do
		python3 -c 'import os, sys, time
open(sys.argv[1], "w").write(str(time.monotonic_ns()))
os.execv(sys.argv[2], sys.argv[2:])' "$build/bench/t0" "$bin/mumu-supervisor" -q --frames 1 \
			--trace "$build/bench/boot.json" "$@" >/dev/null 2>&1 || true
		t0=$(cat "$build/bench/t0")
		# The latest of the partitions' first entries.
		first=$(grep '"ph":"X"' "$build/bench/boot.json" | grep -v '"cat":"planned"' | awk "$trace_awk"'
		num("start_ns") > 0 && !(str("name") in f) { f[str("name")] = num("start_ns") }
		END { for (p in f) if (f[p] > m) m = f[p]; printf "%.0f\n", m }')
		echo $(((first - t0) / 1000))
	done | median
}
mumu_us=$(boot_first_us bench/boot.xml)
floor_us=$(wall_us "$build/bench/bare_kvm" 10)
row "boot: exec to the first guest instruction (us, median of $runs)" "$mumu_us" \
	"bare_kvm whole process $floor_us" "$(ratio "$mumu_us" "$floor_us")" "<= 1.5"
if command -v qemu-system-x86_64 >/dev/null; then
	qemu_us=$(wall_us qemu-system-x86_64 -M microvm -accel kvm -m 32 -no-user-config \
		-nodefaults -display none -kernel "$build/bench/microvm_guest.elf" \
		-device isa-debug-exit,iobase=0xf4)
	row "boot, same, against QEMU microvm whole process (us)" "$mumu_us" "QEMU microvm $qemu_us" \
		"$(ratio "$mumu_us" "$qemu_us")" "-"
fi
mumu_us=$(wall_us "$bin/mumu-supervisor" -q --frames 1 bench/boot.xml)
row "boot, whole process of one 10 ms frame, exit included (us)" "$mumu_us" \
	"bare_kvm $floor_us" "$(ratio "$mumu_us" "$floor_us")" "-"

# Spawn of a VMM until the guest's first hypercall, as the supervisor logs it.
first_us=$("$bin/mumu-supervisor" -v --frames 1 bench/boot.xml 2>&1 |
	sed -n "s/.*partition 'boot': first hypercall \([0-9]*\) us after spawn.*/\1/p" | head -n 1)
row "spawn to first hypercall (us)" "${first_us:-n/a}" "-" "-" "-"

# 2. Hypercall round trip: guest port write -> VMM -> guest, against a bare KVM_RUN loop on
#    the same core, interleaved and repeated (median) because nested timings are noisy.
# 2b. A guard page (GUARD of a new page, the pages in use touched again) against the
#     hypercall round trip of the same runs: what MUMU_HC_GUARD's forced MMU reload costs.
bare=() hc=() gd=()
for ((i = 0; i < runs; i++)); do
	bare+=("$(taskset -c 1 "$build/bench/bare_kvm" 5000 | sed -n 's/^bare_kvm_exit_ns=//p')")
	line=$("$bin/mumu-supervisor" --frames 1 bench/hypercall.xml 2>/dev/null |
		sed -n 's/^\[bench\] //p' | head -n 1)
	hc+=("$(echo "$line" | sed -n 's/^hypercall_ns=\([0-9]*\).*/\1/p')")
	gd+=("$(echo "$line" | sed -n 's/.* guard_ns=\([0-9]*\).*/\1/p')")
done
bare_ns=$(printf '%s\n' "${bare[@]}" | median)
hc_ns=$(printf '%s\n' "${hc[@]}" | median)
row "hypercall round trip (ns, median of $runs)" "${hc_ns:-n/a}" "bare KVM_RUN $bare_ns" \
	"$(ratio "${hc_ns:-0}" "$bare_ns")" "<= 1.10"
row "GUARD of a new page and the pages in use touched again (ns, p50, median of $runs)" \
	"$(printf '%s\n' "${gd[@]}" | median)" "hypercall $hc_ns" \
	"$(median_ratio "${gd[*]}" "${hc[*]}")" "-"

# 3. VMM resident memory beyond guest RAM and shared regions (anonymous + file-backed pages;
#    guest RAM and regions are memfd pages, counted as RssShmem).
"$bin/mumu-supervisor" -q --duration 3 etc/mumu.xml >/dev/null 2>&1 &
sup=$!
sleep 2
max_kib=0
for pid in $(pgrep -f '^[^ ]*mumu-vmm '); do
	kib=$(awk '/^RssAnon:|^RssFile:/ { s += $2 } END { print s + 0 }' "/proc/$pid/status")
	[ "$kib" -gt "$max_kib" ] && max_kib=$kib
done
wait "$sup" || true
row "VMM RSS beyond guest memory (KiB, max over VMMs)" "$max_kib" "-" "-" "< 2048"

# 4. The sandbox's cost: hypercall round trip and VMM start-up (spawn until READY: namespaces,
#    empty root, ids, caps, seccomp) with the sandbox on and off, interleaved.
on=() off=() ron=() roff=()
for ((i = 0; i < runs; i++)); do
	on+=("$("$bin/mumu-supervisor" --frames 1 bench/hypercall.xml 2>/dev/null |
		sed -n 's/^\[bench\] hypercall_ns=\([0-9]*\).*/\1/p' | head -n 1)")
	off+=("$("$bin/mumu-supervisor" --no-sandbox --frames 1 bench/hypercall.xml 2>/dev/null |
		sed -n 's/^\[bench\] hypercall_ns=\([0-9]*\).*/\1/p' | head -n 1)")
	ron+=("$("$bin/mumu-supervisor" -v --frames 1 bench/boot.xml 2>&1 |
		sed -n 's/.*VMM ready \([0-9]*\) us after spawn.*/\1/p' | head -n 1)")
	roff+=("$("$bin/mumu-supervisor" -v --no-sandbox --frames 1 bench/boot.xml 2>&1 |
		sed -n 's/.*VMM ready \([0-9]*\) us after spawn.*/\1/p' | head -n 1)")
done
hc_on=$(printf '%s\n' "${on[@]}" | median)
hc_off=$(printf '%s\n' "${off[@]}" | median)
row "hypercall, sandbox on vs off (ns, median of $runs)" "$hc_on" "no sandbox $hc_off" \
	"$(ratio "$hc_on" "$hc_off")" "<= 1.05"
st_on=$(printf '%s\n' "${ron[@]}" | median)
st_off=$(printf '%s\n' "${roff[@]}" | median)
row "VMM start-up to READY, sandbox on vs off (us)" "$st_on" "no sandbox $st_off" \
	"$(ratio "$st_on" "$st_off")" "-"

# 5. Schedule precision against cyclictest (bench/sched.sh).
. bench/sched.sh
# 6. Health monitor: kill to recovery, and a kill storm's cost to the others (bench/hm.sh).
. bench/hm.sh
# 7. Ports: throughput and latency against memcpy between two threads (bench/ports.sh).
. bench/ports.sh
# 8. Temporal isolation: what an attacker partition costs a witness (bench/interference.sh).
. bench/interference.sh
# 9. Upcalls: timer latency, context switch, exceptions (bench/upcall.sh).
. bench/upcall.sh
# 10, 11. The partition OS: process switch, release jitter, a call's cost, wake-ups across
# vCPUs (bench/apex.sh).
. bench/apex.sh

echo | tee -a "$out"
echo "written to $out"
