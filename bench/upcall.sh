# SPDX-License-Identifier: MIT
# Sourced by bench/all.sh (its helpers row, ratio, median, median_ratio; its variables bin,
# build, out, runs).
# 9. Upcalls (ABI 3): bench_upcall.bin on core 1 measures, from inside the guest, a timer's
#    deadline to its handler's first instruction, the handler to the other thread running
#    (a user-level context switch, no exit) and an exception (#UD) to its handler; against
#    bench/timer_ref, the same timer done bare (a POSIX timer on the vCPU thread, KVM_RUN
#    returns, the registers pointed at a handler, KVM_RUN again) at mumu's vCPU policy, on the
#    same core, interleaved round by round.
up_ref=() up_lat=() up_sw=() up_exc=() up_ref99=() up_lat99=()
for ((i = 0; i < runs; i++)); do
	set -- $(taskset -c 0 "$build/bench/timer_ref" 1 400 50 | sed -n 's/^timer_ref_ns=//p')
	up_ref+=("${1:-0}") up_ref99+=("${2:-0}")
	line=$("$bin/mumu-supervisor" --frames 14 bench/upcall.xml 2>/dev/null |
		sed -n 's/^\[bench\] //p' | head -n 1)
	set -- $(echo "$line" | tr '=' ' ')
	# upcall_ns P50 P99 MAX switch_ns P50 P99 MAX exception_ns P50 P99 MAX n N
	up_lat+=("${2:-0}") up_lat99+=("${3:-0}") up_sw+=("${6:-0}") up_exc+=("${10:-0}")
done
row "upcall latency, deadline to the handler's first instruction (ns, p50, median of $runs)" \
	"$(printf '%s\n' "${up_lat[@]}" | median)" \
	"bare timer exit $(printf '%s\n' "${up_ref[@]}" | median)" \
	"$(median_ratio "${up_lat[*]}" "${up_ref[*]}")" "<= 1.3"
row "upcall latency p99 (ns, median of $runs)" "$(printf '%s\n' "${up_lat99[@]}" | median)" \
	"bare $(printf '%s\n' "${up_ref99[@]}" | median)" \
	"$(median_ratio "${up_lat99[*]}" "${up_ref99[*]}")" "-"
row "context switch through an upcall, handler to the other thread (ns, p50)" \
	"$(printf '%s\n' "${up_sw[@]}" | median)" "-" "-" "-"
row "exception (#UD) to its handler, through the CPL-0 stub (ns, p50)" \
	"$(printf '%s\n' "${up_exc[@]}" | median)" \
	"bare timer exit $(printf '%s\n' "${up_ref[@]}" | median)" \
	"$(median_ratio "${up_exc[*]}" "${up_ref[*]}")" "-"
