#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Kill storm: SIGKILL a random one of two VMMs 100 times while the system runs. Their
# HealthMonitor allows 1000 restarts, so every victim comes back (cold: it says hello again),
# the supervisor keeps running, and the partition on the other core is never touched.
. "$(dirname "$0")/lib.sh"
KILLS=${MUMU_KILLS:-100}

"$SUP" --duration 600 --trace "$WORK/t.json" tests/e2e/storm.xml >"$WORK/out" 2>&1 &
sup=$!
wait_for "$WORK/out" '^\[witness\] tick 3$'
wait_for "$WORK/out" '^\[v2\] tick 3$'
witness=$(pgrep -f 'mumu-vmm witness ') || fail "no witness VMM"
ticks0=$(grep -c '^\[witness\] tick' "$WORK/out")
declare -A killed=([v1]=0 [v2]=0)
for ((i = 0; i < KILLS; i++)); do
	v=v$((RANDOM % 2 + 1))
	pid=
	# Until the victim is back from its last kill and ran guest code (one hello per start):
	# a VMM killed before its first window would never say hello, and the count below would
	# not tell a lost restart from a quick kill.
	for _ in $(seq 800); do # 40 s: longer than the 20 s READY timeout (see below)
		[ "$(grep -c "^\[$v\] hello from $v\$" "$WORK/out")" -gt "${killed[$v]}" ] &&
			pid=$(pgrep -f "mumu-vmm $v ") && break
		sleep 0.05
	done
	[ -n "$pid" ] || fail "$v did not come back after ${killed[$v]} kills"
	kill -KILL "$pid" || fail "kill $pid"
	killed[$v]=$((killed[$v] + 1))
	for _ in $(seq 200); do # its replacement, a new process
		p2=$(pgrep -f "mumu-vmm $v ") && [ "$p2" != "$pid" ] && break
		sleep 0.05
	done
	kill -0 "$sup" 2>/dev/null || fail "the supervisor died after $i kills"
	sleep 0.1 # let the emulated machine breathe: a storm, not a fork bomb
done
echo "killed v1 ${killed[v1]} times, v2 ${killed[v2]} times"
# Every victim runs guest code again: one hello per start.
for v in v1 v2; do
	wait_for "$WORK/out" "^\\[$v\\] hello from $v\$"
	for _ in $(seq 250); do
		[ "$(grep -c "^\[$v\] hello from $v\$" "$WORK/out")" -gt "${killed[$v]}" ] && break
		sleep 0.2
	done
	n=$(grep -c "^\[$v\] hello from $v\$" "$WORK/out")
	[ "$n" -eq $((killed[$v] + 1)) ] || fail "$v started $n times after ${killed[$v]} kills"
done
[ "$(pgrep -f 'mumu-vmm witness ')" = "$witness" ] || fail "the witness's VMM changed"
[ "$(grep -c '^\[witness\] tick' "$WORK/out")" -gt $((ticks0 + 10)) ] ||
	fail "the witness stopped ticking during the storm"
kill -TERM "$sup"
wait "$sup" || fail "exit status $? after SIGTERM"
# One VMM_DIED and one restart per kill, nothing else. (The emulated machine, busy with
# restarts, may also make a victim miss a deadline now and then: those are DEADLINE_MISSED,
# not restarts.) A replacement stopped by a late window check of its predecessor never got
# READY: "not ready" here is that bug back.
grep -E "not ready" "$WORK/out" && fail "a replacement VMM never got ready"
for v in v1 v2; do
	[ "$(summary_field $v 8)" -eq "${killed[$v]}" ] ||
		fail "$v: $(summary_field $v 8) restarts for ${killed[$v]} kills"
	died=$(grep -c "partition '$v': VMM_DIED: VMM (pid [0-9]*) killed by signal KILL; action COLD_START" "$WORK/out")
	[ "$died" -eq "${killed[$v]}" ] || fail "$v: $died VMM_DIED events"
	[ "$(hm_faults $v)" -eq "$died" ] || fail "$v: $(summary_field $v 7) faults"
done
# The witness is never restarted; its only possible events are deadlines the emulated machine,
# busy with 100 VMM starts, made it miss.
[ "$(summary_field witness 8)" -eq 0 ] || fail "the witness was restarted"
[ "$(hm_faults witness)" -eq 0 ] || fail "the witness had faults other than deadlines"
[ "$(grep -c '"name":"VMM_DIED v' "$WORK/t.json")" -eq "$KILLS" ] || fail "trace events"
grep -E '^(witness|v1|v2) ' "$WORK/out"
echo "ok: $KILLS kills, every victim back, the witness untouched"
