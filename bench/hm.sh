# SPDX-License-Identifier: MIT
# Sourced by bench/all.sh after bench/sched.sh (helpers row, ratio, spread; variables bin,
# bdir, out).
# 6. The health monitor: how long from kill -9 of a VMM until its replacement runs guest code
#    in a window, and what a kill storm costs the partition on the other core, against a
#    quiet run of the same system.
storm=tests/e2e/storm.xml # the kill-storm test's system
# The witness's start lateness p99 in us, from the end-of-run table in $bdir/out.
witness_p99() { awk '$1 == "witness" && NF >= 14 { printf "%.0f", $10 }' "$bdir/out"; }

# Quiet: the same system for as long, nobody killed.
"$bin/mumu-supervisor" -q --control none --duration 10 "$storm" >"$bdir/out" 2>&1 || true
quiet=$(witness_p99)
# Storm: a random victim killed every 0.3 s after a 2 s start; the kill times (CLOCK_MONOTONIC,
# the trace's clock) come from python3 so that they can be matched to the trace. The killer
# (python3 and a pgrep per kill) runs on the victims' core 0: the figure is what mumu's
# restarts cost the other core, not what the benchmark's own processes do.
"$bin/mumu-supervisor" --control none --duration 10 --trace "$bdir/storm.json" "$storm" \
	>"$bdir/out" 2>&1 &
hm_sup=$!
taskset -c 0 python3 - "$bdir/kills" <<'PY'
import os, random, signal, subprocess, sys, time
time.sleep(2.5)
with open(sys.argv[1], "w") as log:
    end = time.monotonic() + 6
    while time.monotonic() < end:
        v = random.choice(["v1", "v2"])
        pids = subprocess.run(["pgrep", "-f", "mumu-vmm %s$" % v], capture_output=True,
                              text=True).stdout.split()
        if pids:
            t = time.monotonic_ns()
            os.kill(int(pids[0]), signal.SIGKILL)
            log.write("%s %d\n" % (v, t))
        time.sleep(0.3)
PY
wait "$hm_sup" || true
storm_late=$(witness_p99)
n_kills=$(wc -l <"$bdir/kills")
# Each kill against the victim's windows in the trace: from the kill to its replacement's
# first guest entry (us), the windows the victim lost meanwhile, and whether the kill landed a
# VMM start-up (5 ms) or more before the victim's next window (then it should get that one).
kills=$({
	grep '"ph":"X"' "$bdir/storm.json" | grep -v '"cat":"planned"'
	sed 's/^/K /' "$bdir/kills"
} | awk "$trace_awk"'
/"ph":"X"/ && !/"cat":"planned"/ { n++; who[n] = str("name"); ps[n] = num("planned_start_ns"); at[n] = num("start_ns"); next }
$1 == "K" {
	nxt = 0; back = 0
	for (k = 1; k <= n; k++) if (who[k] == $2 && ps[k] > $3) {
		if (!nxt || ps[k] < nxt) nxt = ps[k]
		if (at[k] > $3 && (!back || ps[k] < back)) { back = ps[k]; entry = at[k] }
	}
	if (!back) next
	m = 0
	for (k = 1; k <= n; k++) if (who[k] == $2 && ps[k] > $3 && ps[k] < back) m++
	print entry - $3, m, (nxt - $3 >= 5000000)
}')
row "kill -9 of a VMM to its guest running again, p50/p99/max (us, $n_kills kills)" \
	"$(awk '{ print $1 }' <<<"$kills" | spread)" "frame 50000 us" "-" "-"
row "kills 5 ms or more before the victim's next window whose replacement ran in it" \
	"$(awk '$3 { e++; ok += $2 == 0 } END { print ok + 0 " of " e + 0 }' <<<"$kills")" "-" "-" "-"
row "victim's windows lost per kill, p50/p99/max" \
	"$(awk '{ print $2 * 1000 }' <<<"$kills" | spread)" "-" "-" "-"
row "other core's start lateness p99 during the storm vs quiet (us)" "$storm_late" \
	"quiet $quiet" "$(ratio "$storm_late" "$quiet")" "-"
