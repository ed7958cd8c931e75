# SPDX-License-Identifier: MIT
# Sourced by bench/all.sh (its helpers row, ratio, median, median_ratio; its variables bin,
# build, out, runs).
# 7. Ports between two partitions on cores 0 and 1 (bench_port.bin), against plain memcpy
#    between two threads through shared memory on the same cores, in this run: the guests'
#    own memcpy through a SharedMemory (the same code and machine, no port protocol: the
#    target's reference) and host threads (bench/shm_ref; nested emulation slows guest code,
#    so this ratio shows that cost too). Throughput of the writer while the reader reads
#    (sampling) or of the receiver (queuing); one-way latency as half a round trip (ping on
#    one channel, pong on another). For sampling also the writer alone (no reader polling its
#    cache lines) against the guest memcpy alone: what the protocol itself costs.
pdir=$build/bench/ports
pruns=${MUMU_BENCH_PORT_RUNS:-5} # rounds per size and kind, each a port run and its reference
mkdir -p "$pdir"

# ports_xml FILE A_PORTS B_PORTS CHANNELS [SHARED_MEMORIES]: partitions a (core 0) and b (core 1),
# both in a 300 ms window at the start of a 400 ms frame.
port() { # NAME DIRECTION KIND SIZE
	if [ "$3" = sampling ]; then
		echo "<SamplingPort Name=\"$1\" Direction=\"$2\" MaxMessageSize=\"$4\" RefreshPeriod=\"1000000000\"/>"
	else
		echo "<QueuingPort Name=\"$1\" Direction=\"$2\" MaxMessageSize=\"$4\" MaxNbMessages=\"64\"/>"
	fi
}
ports_xml() {
	local file=$1 a=$2 b=$3 channels=$4 shm=${5:-}
	cat >"$file" <<XML
<Module Name="bench"><Partitions>
<Partition><PartitionDefinition Identifier="1" Name="a" BinaryPath="bench_port.bin"/>
<CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>$a</Partition>
<Partition><PartitionDefinition Identifier="2" Name="b" BinaryPath="bench_port.bin"/>
<CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="1"/></CoreAffinity>$b</Partition>
</Partitions>
<Schedules MajorFrameDuration="400000000" ScheduleIdentifier="1" InitialModuleSchedule="true">
<PartitionTimeWindow PartitionNameRef="a" Duration="300000000" Offset="0"/>
<PartitionTimeWindow PartitionNameRef="b" Duration="300000000" Offset="0"/>
</Schedules><Channels>$channels</Channels><SharedMemories>$shm</SharedMemories></Module>
XML
}
channel() { echo "<Channel Name=\"$1\"><Source PartitionNameRef=\"$2\" PortNameRef=\"$1\"/><Destination PartitionNameRef=\"$3\" PortNameRef=\"$1\"/></Channel>"; }
# field LINE KEY: the number after KEY= in LINE.
field() { sed -nE "s/.* $2=([0-9]+).*/\1/p" <<<"$1"; }
# per_us LINE: messages per microsecond.
per_us() { awk -v m="$(field "$1" msgs)" -v t="$(field "$1" ns)" 'BEGIN { printf "%.3f", (t > 0 ? m * 1000 / t : 0) }'; }

# What one timestamp costs the writer (every message carries one): mumu_now_ns and rdtsc.
printf '%s\n' '<Module Name="bench"><Partitions><Partition>' \
	'<PartitionDefinition Identifier="1" Name="a" BinaryPath="bench_port.bin"/>' \
	'<CoreAffinity><CoreMapping LogicalCoreId="0" PhysicalCoreId="0"/></CoreAffinity>' \
	'</Partition></Partitions><Schedules MajorFrameDuration="400000000" ScheduleIdentifier="1"' \
	' InitialModuleSchedule="true"><PartitionTimeWindow PartitionNameRef="a"' \
	' Duration="300000000" Offset="0"/></Schedules></Module>' >"$pdir/c.xml"
line=$("$bin/mumu-supervisor" --control none --frames 2 "$pdir/c.xml" 2>&1 | grep -m1 '^\[a\] clock ' || true)
row "guest timestamp mumu_now_ns (ns)" "$(field "$line" now_ns)" "bare rdtsc $(field "$line" rdtsc_ns)" \
	"$(ratio "$(field "$line" now_ns)" "$(field "$line" rdtsc_ns)")" "-"

for size in ${MUMU_BENCH_PORT_SIZES:-64 1024 4096}; do
	for kind in sampling queuing; do
		ports_xml "$pdir/t.xml" "$(port tx SOURCE $kind $size)" "$(port tx DESTINATION $kind $size | sed 's/"tx"/"rx"/')" \
			"<Channel Name=\"c\"><Source PartitionNameRef=\"a\" PortNameRef=\"tx\"/><Destination PartitionNameRef=\"b\" PortNameRef=\"rx\"/></Channel>"
		ports_xml "$pdir/l.xml" "$(port ping SOURCE $kind $size)$(port pong DESTINATION $kind $size)" \
			"$(port ping DESTINATION $kind $size)$(port pong SOURCE $kind $size)" \
			"$(channel ping a b)$(channel pong b a)"
		ports_xml "$pdir/r.xml" "" "" "" "<SharedMemory Name=\"raw$size\" Size=\"8192\">
			<Access PartitionNameRef=\"a\" Mode=\"WRITE\"/>
			<Access PartitionNameRef=\"b\" Mode=\"READ\"/></SharedMemory>"
		# The same with a timestamp in each message, as a sampling message has one.
		sed "s/raw$size/rawt$size/" "$pdir/r.xml" >"$pdir/rt.xml"
		# The writer alone (the reader's window after its own): what the code costs without
		# a reader polling the same cache lines.
		alone='s/"b" Duration="300000000" Offset="0"/"b" Duration="50000000" Offset="320000000"/'
		sed "$alone" "$pdir/t.xml" >"$pdir/ta.xml"
		sed "$alone" "$pdir/r.xml" >"$pdir/ra.xml"
		sed "$alone" "$pdir/rt.xml" >"$pdir/rta.xml"
		tput=() rput=() gput=() lat=() rlat=() aput=() raput=() tgput=() rtaput=()
		for ((i = 0; i < pruns; i++)); do
			if [ $kind = sampling ]; then
				o=$("$bin/mumu-supervisor" --control none --frames 2 "$pdir/ta.xml" 2>&1 || true)
				aput+=("$(per_us "$(grep -m1 '^\[a\] sampling tx ' <<<"$o" || true)")")
				o=$("$bin/mumu-supervisor" --control none --frames 2 "$pdir/ra.xml" 2>&1 || true)
				raput+=("$(per_us "$(grep -m1 '^\[a\] raw tx ' <<<"$o" || true)")")
				o=$("$bin/mumu-supervisor" --control none --frames 2 "$pdir/rta.xml" 2>&1 || true)
				rtaput+=("$(per_us "$(grep -m1 '^\[a\] rawt tx ' <<<"$o" || true)")")
			fi
			o=$("$bin/mumu-supervisor" --control none --frames 2 "$pdir/t.xml" 2>&1 || true)
			if [ $kind = sampling ]; then
				line=$(grep -m1 '^\[a\] sampling tx ' <<<"$o" || true)
			else
				line=$(grep -m1 '^\[b\] queuing rx ' <<<"$o" || true)
			fi
			tput+=("$(per_us "$line")")
			o=$("$bin/mumu-supervisor" --control none --frames 2 "$pdir/r.xml" 2>&1 || true)
			gput+=("$(per_us "$(grep -m1 "^\[$([ $kind = sampling ] && echo a || echo b)\] raw " <<<"$o" || true)")")
			if [ $kind = sampling ]; then
				o=$("$bin/mumu-supervisor" --control none --frames 2 "$pdir/rt.xml" 2>&1 || true)
				tgput+=("$(per_us "$(grep -m1 '^\[a\] rawt tx ' <<<"$o" || true)")")
			fi
			rput+=("$(per_us "$("$build/bench/shm_ref" throughput "$size" |
				grep "^ref $([ $kind = sampling ] && echo tx || echo rx)")")")
			o=$("$bin/mumu-supervisor" --control none --frames 2 "$pdir/l.xml" 2>&1 || true)
			line=$(grep -m1 "^\[a\] $kind rtt " <<<"$o" || true)
			lat+=("$(($(field "$line" p50_ns) / 2))")
			line=$("$build/bench/shm_ref" pingpong "$size")
			rlat+=("$(($(field "$line" p50_ns) / 2))")
		done
		t=$(printf '%s\n' "${tput[@]}" | median)
		g=$(printf '%s\n' "${gput[@]}" | median)
		r=$(printf '%s\n' "${rput[@]}" | median)
		# The target's ratio pairs each port run with the reference run right after it: the
		# machine's speed for cross-core traffic drifts between rounds, by 2x at times.
		row "$kind port throughput, $size B (msgs/us, median of $pruns)" "$t" "guest memcpy $g" \
			"$(median_ratio "${tput[*]}" "${gput[*]}")" "-"
		if [ $kind = sampling ]; then
			g=$(printf '%s\n' "${tgput[@]}" | median)
			row "sampling port throughput, $size B, against memcpy + timestamp" "$t" \
				"guest memcpy + mumu_now_ns $g" "$(median_ratio "${tput[*]}" "${tgput[*]}")" \
				"$([ "$size" = 64 ] && echo '>= 0.80' || echo '>= 0.90')"
		fi
		row "$kind port throughput, $size B, against host threads" "$t" "host memcpy $r" \
			"$(ratio "$t" "$r")" "-"
		if [ $kind = sampling ]; then
			t=$(printf '%s\n' "${aput[@]}" | median)
			g=$(printf '%s\n' "${raput[@]}" | median)
			row "sampling port throughput, $size B, writer alone" "$t" "guest memcpy alone $g" \
				"$(median_ratio "${aput[*]}" "${raput[*]}")" "-"
			g=$(printf '%s\n' "${rtaput[@]}" | median)
			row "sampling port throughput, $size B, writer alone, against memcpy + timestamp" \
				"$t" "guest memcpy + mumu_now_ns alone $g" \
				"$(median_ratio "${aput[*]}" "${rtaput[*]}")" "-"
		fi
		l=$(printf '%s\n' "${lat[@]}" | median)
		r=$(printf '%s\n' "${rlat[@]}" | median)
		row "$kind port latency, $size B (ns one way, p50, median of $pruns)" "$l" \
			"host memcpy $r" "$(ratio "$l" "$r")" "-"
	done
done
