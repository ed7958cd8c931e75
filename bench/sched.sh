# SPDX-License-Identifier: MIT
# Sourced by bench/all.sh (its helpers row, ratio, median_ratio; its variables bin, build, out).
# 5. Schedule precision: window start lateness and end overrun against their floor, the same
#    windows done bare (bench/floor: KVM vCPU threads, one VM each, a POSIX timer on the thread
#    itself for the end, a spin to the start, one thread after the other), in this run.
#    mumu's figures come from the supervisor (VMM entry and exit around KVM_RUN) and from
#    probe.bin inside the guest (its first and last instruction of every window); the
#    floor's from the same two places.

# sched_xml FILE FRAME_NS WINDOW_NS PER_CORE GUEST: PER_CORE partitions on each of cores 0
# and 1, evenly spread over the frame, each with one window; c1p0 runs probe.bin (the
# in-guest figures), the others GUEST.
sched_xml() {
	local c j g
	{
		echo "<Module Name=\"bench\"><Partitions>"
		for c in 0 1; do
			for ((j = 0; j < $4; j++)); do
				echo "<Partition><PartitionDefinition Identifier=\"$((c * $4 + j + 1))\""
				g=$5
				[ "$c$j" != 10 ] || g=probe.bin
				echo " Name=\"c${c}p$j\" BinaryPath=\"$g\"/><CoreAffinity>"
				echo "<CoreMapping LogicalCoreId=\"0\" PhysicalCoreId=\"$c\"/>"
				echo "</CoreAffinity></Partition>"
			done
		done
		echo "</Partitions><Schedules MajorFrameDuration=\"$2\" ScheduleIdentifier=\"1\""
		echo " InitialModuleSchedule=\"true\">"
		for c in 0 1; do
			for ((j = 0; j < $4; j++)); do
				echo "<PartitionTimeWindow PartitionNameRef=\"c${c}p$j\" Duration=\"$3\""
				echo " Offset=\"$(($2 / $4 * j))\"/>"
			done
		done
		echo "</Schedules></Module>"
	} >"$1"
}

# Percentile P of the numbers on stdin (nearest rank).
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); print NR ? v[i < 1 ? 1 : i] : "n/a" }'; }
# p50/p99/max in us of the ns on stdin.
spread() {
	local f
	f=$(mktemp)
	cat >"$f"
	printf '%s/%s/%s' "$(pct 50 <"$f" | us)" "$(pct 99 <"$f" | us)" "$(pct 100 <"$f" | us)"
	rm -f "$f"
}
us() { awk '{ printf ($1 == "n/a" ? "n/a" : "%.0f"), $1 / 1000 }'; }
p99_of() { echo "$1" | cut -d/ -f2; }

# cyclictest on core 1 at priority 80, LOOPS wakeups every INTERVAL us: p50/p99/max in us.
cyclic() {
	cyclictest -m -q -p 80 -a 1 -t 1 -i "$1" -l "$2" -h 100000 | awk '
	/^[0-9]+ [0-9]+$/ { for (k = 0; k < $2 + 0; k++) print $1 * 1000 }' | spread
}

# mumu_run CONFIG FRAMES: run, leaving the summary in $bdir/out and the trace in $bdir/t.json.
bdir=$build/bench/sched
mkdir -p "$bdir"
mumu_run() {
	"$bin/mumu-supervisor" -q --frames "$2" --trace "$bdir/t.json" "$1" >"$bdir/out" 2>&1 || true
}
# Supervisor figures: the p99 over every window on core 1 that the guest entered (the trace:
# VMM entry into and exit from KVM_RUN), start lateness (LATE=1) or end overrun (0), in us.
# Pooled, not the worst of the partitions' own p99s: with 32 partitions of 30 windows each,
# a partition's p99 is its maximum.
sup_spread() { # LATE
	grep '"ph":"X"' "$bdir/t.json" | grep -v '"cat":"planned"' | grep '"core":1,' | awk -v late="$1" "$trace_awk"'
	num("start_ns") > 0 {
		d = late ? num("start_ns") - num("planned_start_ns") : num("end_ns") - num("planned_end_ns")
		print (d > 0 ? d : 0)
	}' | pct 99 | us
}
# In-guest figures of partition NAME: first instruction - planned start, or last - planned end.
guest_spread() {
	{
		grep "\"name\":\"$1\"" "$bdir/t.json" | grep '"ph":"X"' | grep -v '"cat":"planned"'
		sed -n "s/^\[$1\] probe \([0-9].*\)/P \1/p" "$bdir/out"
	} | awk -v late="$2" "$trace_awk"'
	/"ph":"X"/ && !/"cat":"planned"/ { n++; ps[n] = num("planned_start_ns"); pe[n] = num("planned_end_ns"); next }
	$1 == "P" {
		for (k = n; k > 0 && ps[k] > $3 + 1000000; k--)
			;
		if (k > 0) print late ? $3 - ps[k] : ($4 > pe[k] ? $4 - pe[k] : 0)
	}' | spread
}

# floor_run PRIORITY NVMS WINDOW_US PERIOD_US WINDOWS: the same windows done bare (bench/floor)
# on both cores at once, as mumu runs them, at the policy of mumu's vCPUs on core 1 (vcpu_prio);
# core 1's figures in $bdir/floor.
floor_run() {
	"$build/bench/floor" 0 "${@:2}" "$1" >/dev/null &
	"$build/bench/floor" 1 "${@:2}" "$1" >"$bdir/floor" || true
	wait
}
# vcpu_prio CONFIG: SCHED_FIFO 50, mumu's real-time vCPUs, unless the supervisor says core 1's
# windows leave the kernel's real-time budget no room (then 0, the normal policy).
vcpu_prio() {
	if "$bin/mumu-supervisor" --frames 1 --control none "$1" 2>&1 |
		grep -q "core 1: its windows leave less"; then
		echo 0
	else
		echo 50
	fi
}
# floor_p99 COLUMN: p99 in us of a column of $bdir/floor (3: entry into KVM_RUN after the
# planned start, 4: the guest's first instruction, 5: KVM_RUN's return after the planned end,
# 6: the guest's last instruction), negative values as 0.
floor_p99() { awk -v c="$1" '{ print ($c > 0 ? $c : 0) }' "$bdir/floor" | pct 99 | us; }
# at_least_1 "A B ..": each at least 1 (us, the figures' resolution), so that a ratio of two
# figures under a microsecond (a spin enters on time, a guest's last instruction is at its
# timer) reads 1, not 0 or infinity.
at_least_1() { for v in $1; do echo $((v < 1 ? 1 : v)); done | tr '\n' ' '; }

# sched_case LABEL CONFIG FRAMES FLOOR_ARGS PROBE: $srounds rounds, each mumu and then the
# floor (the same windows bare: NVMS WINDOW_US PERIOD_US) right after it, so that both see the
# same stretch of this shared, noisy machine; the ratio is the median of the rounds' ratios,
# every round shown (the machine stalls a few times a minute, and one stall lands in one
# round's p99 or the other's). PROBE: the partition on core 1 running probe.bin, for the
# in-guest figures. cyclictest (on core 1, waking as often as windows start there) is a row
# of its own, a familiar figure, not the target's reference.
srounds=${MUMU_BENCH_SCHED_ROUNDS:-3}
sched_case() {
	local k n lates="" overs="" glates="" govers="" fl="" fo="" fgl="" fgo="" cycs="" g prio
	n=$(($3 * $(grep -c '"c1p' "$2") / 2))
	prio=$(vcpu_prio "$2")
	for ((k = 0; k < srounds; k++)); do
		mumu_run "$2" "$3"
		lates+="$(sup_spread 1) " overs+="$(sup_spread 0) "
		g=$(guest_spread "$5" 1)
		glates+="$(p99_of "$g") "
		g=$(guest_spread "$5" 0)
		govers+="$(p99_of "$g") "
		# shellcheck disable=SC2086 # FLOOR_ARGS are words
		floor_run "$prio" $4 "$n"
		fl+="$(floor_p99 3) " fgl+="$(floor_p99 4) " fo+="$(floor_p99 5) " fgo+="$(floor_p99 6) "
	done
	cycs=$(p99_of "$(cyclic "${4##* }" "$n")")
	row "$1: start lateness p99, supervisor (us, per round)" "${lates% }" \
		"bare entry p99 ${fl% }" \
		"$(median_ratio "$(at_least_1 "$lates")" "$(at_least_1 "$fl")")" "<= 1.2"
	row "same rounds, in-guest start lateness p99 (us, probe.bin)" "${glates% }" \
		"bare first instruction p99 ${fgl% }" "$(median_ratio "$glates" "$fgl")" "<= 1.2"
	row "same rounds, end overrun p99, supervisor (us)" "${overs% }" \
		"bare KVM_RUN return p99 ${fo% }" "$(median_ratio "$overs" "$fo")" "<= 1.2"
	row "same rounds, in-guest end overrun p99 (us, probe.bin)" "${govers% }" \
		"bare last instruction p99 ${fgo% }" \
		"$(median_ratio "$(at_least_1 "$govers")" "$(at_least_1 "$fgo")")" "<= 1.2"
	row "cyclictest p99 on core 1 at the same rate (us), after the rounds" "-" "$cycs" "-" "-"
	row "vCPU policy on core 1 (0: normal, else SCHED_FIFO priority), mumu and floor" "$prio" \
		"-" "-" "-"
}

sched_xml "$bdir/one.xml" 10000000 5000000 1 probe.bin
sched_case "1 partition per core, 5 ms windows" "$bdir/one.xml" 200 "1 5000 10000" c1p0

sched_xml "$bdir/two.xml" 10000000 5000000 2 probe.bin
sched_case "2 partitions per core, 5 ms windows back to back" "$bdir/two.xml" 200 "2 5000 5000" c1p0
# The hand-over itself, last round: the leaving vCPU's exit from KVM_RUN to the entering one's
# entry, back to back on core 1 (mumu: the trace; the floor: its next window's entry less this
# one's exit, both after the same planned instant).
mumu_gap=$(grep '"ph":"X"' "$bdir/t.json" | grep -v '"cat":"planned"' | grep '"core":1,' | awk "$trace_awk"'
	{ ps[NR] = num("planned_start_ns"); pe[NR] = num("planned_end_ns")
	  s[NR] = num("start_ns"); e[NR] = num("end_ns") }
	END { for (i = 1; i <= NR; i++) for (j = 1; j <= NR; j++)
		if (ps[j] == pe[i] && e[i] && s[j]) print s[j] - e[i] }' | spread)
floor_gap=$(awk 'NR > 1 { print $3 - end } { end = $5 }' "$bdir/floor" | spread)
row "same case, last round: hand-over gap p50/p99/max (us)" "$mumu_gap" \
	"bare $floor_gap" "$(ratio "$(p99_of "$mumu_gap")" "$(p99_of "$floor_gap")") (p99)" "-"
cpu_ms=$(sed -n 's/^mumu: supervisor CPU \([0-9.]*\) ms .* for \([0-9]*\) windows$/\1 \2/p' "$bdir/out")
row "supervisor CPU per 1000 windows (ms), last round" \
	"$(echo "$cpu_ms" | awk '{ printf "%.1f", $2 ? $1 * 1000 / $2 : 0 }')" "-" "-" "-"

sched_xml "$bdir/short.xml" 4000000 1000000 2 probe.bin
sched_case "2 partitions per core, 1 ms windows" "$bdir/short.xml" 500 "2 1000 2000" c1p0
row "last round, windows run / missed (all partitions)" "$(awk 'NF >= 14 && $1 ~ /^c/ {
	r += $2 + $3 + $5; m += $4 } END { print r "/" m }' "$bdir/out")" "-" "-" "-"

sched_xml "$bdir/many.xml" 64000000 1800000 32 hello.bin
sched_case "64 partitions on 2 cores, 1.8 ms windows" "$bdir/many.xml" 30 "32 1800 2000" c1p0
row "last round, windows run / missed (all partitions)" "$(awk 'NF >= 14 && $1 ~ /^c/ {
	r += $2 + $3 + $5; m += $4 } END { print r "/" m }' "$bdir/out")" "-" "-" "-"
