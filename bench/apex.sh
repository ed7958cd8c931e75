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

# 11. Across the vCPUs of a partition: bench_apex_smp.bin (bench/apex_smp.xml, cores 0 and 1)
#     measures in the guest SIGNAL_SEMAPHORE on vCPU 0 to the waiter's first instruction on
#     vCPU 1: idle there (it polls a word: no exit) against a one-way notification between
#     two host threads on the two cores (half of bench/shm_ref's 8-byte round trip); running
#     a process there (a kick) against bench/timer_ref with a thread on core 0 signalling the
#     vCPU thread on core 1 (the bare kick: its KVM_RUN returns, the handler's first
#     instruction), round by round.
sx_idle=() sx_kick=() sx_kick99=() sx_nref=() sx_kref=()
for ((i = 0; i < runs; i++)); do
	set -- $(taskset -c 1 "$build/bench/timer_ref" 1 300 50 0 | sed -n 's/^kick_ref_ns=//p')
	sx_kref+=("${1:-0}")
	rtt=$("$build/bench/shm_ref" pingpong 8 | sed -n 's/.*p50_ns=\([0-9]*\).*/\1/p')
	sx_nref+=("$((${rtt:-0} / 2))")
	line=$("$bin/mumu-supervisor" --frames 12 bench/apex_smp.xml 2>/dev/null |
		sed -n 's/^\[bench\] //p' | head -n 1)
	set -- $(echo "$line" | tr '=' ' ')
	# smp_idle_ns P50 P99 MAX smp_kick_ns P50 P99 MAX n N
	sx_idle+=("${2:-0}") sx_kick+=("${6:-0}") sx_kick99+=("${7:-0}")
done
row "APEX wake-up across vCPUs, the target idle (ns, p50, median of $runs)" \
	"$(printf '%s\n' "${sx_idle[@]}" | median)" \
	"one-way notification between cores $(printf '%s\n' "${sx_nref[@]}" | median)" \
	"$(median_ratio "${sx_idle[*]}" "${sx_nref[*]}")" "-"
row "APEX wake-up across vCPUs, preempting a process there (ns, p50; p99 $(printf '%s\n' "${sx_kick99[@]}" | median))" \
	"$(printf '%s\n' "${sx_kick[@]}" | median)" \
	"bare kick $(printf '%s\n' "${sx_kref[@]}" | median)" \
	"$(median_ratio "${sx_kick[*]}" "${sx_kref[*]}")" "-"
