# SPDX-License-Identifier: MIT
# Sourced by bench/all.sh (its helpers row, ratio, median, median_ratio; its variables bin,
# build, out, runs).
# 10. The partition OS (APEX): bench_apex.bin alone on core 1 (bench/apex.xml) measures, in
#     the guest, a high-priority process's release (its TIMED_WAIT's end) to its first
#     instruction while a low one spins, a 1 ms periodic process's job start against its
#     release point, and an APEX call (SIGNAL_SEMAPHORE, WAIT_SEMAPHORE that does not block)
#     against the same work as a plain function call; against bench/timer_ref (the bare
#     self-timer KVM exit) on the same core at mumu's vCPU policy, round by round.
ax_ref=() ax_sw=() ax_jit=() ax_jit99=() ax_call=() ax_plain=()
for ((i = 0; i < runs; i++)); do
	set -- $(taskset -c 0 "$build/bench/timer_ref" 1 300 50 | sed -n 's/^timer_ref_ns=//p')
	ax_ref+=("${1:-0}")
	line=$("$bin/mumu-supervisor" --frames 12 bench/apex.xml 2>/dev/null |
		sed -n 's/^\[bench\] //p' | head -n 1)
	set -- $(echo "$line" | tr '=' ' ')
	# switch_ns P50 P99 MAX jitter_ns P50 P99 MAX call_ns C plain_ps P n N
	ax_sw+=("${2:-0}") ax_jit+=("${6:-0}") ax_jit99+=("${7:-0}") ax_call+=("${10:-0}")
	ax_plain+=("${12:-0}")
done
row "APEX process switch, release to the process's first instruction (ns, p50, median of $runs)" \
	"$(printf '%s\n' "${ax_sw[@]}" | median)" \
	"bare timer exit $(printf '%s\n' "${ax_ref[@]}" | median)" \
	"$(median_ratio "${ax_sw[*]}" "${ax_ref[*]}")" "-"
row "APEX PERIODIC_WAIT release jitter, 1 ms period (ns, p50; p99 $(printf '%s\n' "${ax_jit99[@]}" | median))" \
	"$(printf '%s\n' "${ax_jit[@]}" | median)" \
	"bare timer exit $(printf '%s\n' "${ax_ref[@]}" | median)" \
	"$(median_ratio "${ax_jit[*]}" "${ax_ref[*]}")" "-"
ax_c=$(printf '%s\n' "${ax_call[@]}" | median)
ax_p=$(printf '%s\n' "${ax_plain[@]}" | median)
row "APEX call (SIGNAL_SEMAPHORE or WAIT_SEMAPHORE, no wait), against a plain call (ns)" \
	"$ax_c" "plain call $(awk -v p="$ax_p" 'BEGIN { printf "%.2f", p / 1000 }')" \
	"$(ratio "$((ax_c * 1000))" "$ax_p")" "-"
