#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vCPUs run where the config says; SIGTERM stops cleanly; a killed VMM is reported and
# restarted cold while the others keep running, until its restart budget is spent and it goes
# IDLE; no VMM outlives the supervisor; a VMM that never gets ready is killed and reported;
# without CAP_SYS_NICE the system warns and runs.
. "$(dirname "$0")/lib.sh"
start_bg etc/mumu.xml "$WORK/out"
main_cores=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/"$sup"/status)
gamma=$(pgrep -f 'mumu-vmm gamma ')
# The supervisor's memory is locked (as touched), so no page of it is paged out.
locked=$(awk '/^VmLck/ { print $2 }' /proc/"$sup"/status)
[ "${locked:-0}" -gt 0 ] || fail "the supervisor has no locked memory"
for t in /proc/"$gamma"/task/*; do
	case $(cat "$t/comm") in
	vcpu0) want=0 ;;
	vcpu1) want=1 ;;
	*) continue ;;
	esac
	cpu=$(awk '{ print $39 }' "$t/stat")
	[ "$cpu" = "$want" ] || fail "gamma $(cat "$t/comm") last ran on CPU $cpu, not $want"
	allowed=$(awk '/^Cpus_allowed_list/ { print $2 }' "$t/status")
	[ "$allowed" = "$want" ] || fail "gamma $(cat "$t/comm") may run on $allowed"
	seen=$((${seen:-0} + 1))
done
[ "${seen:-0}" -eq 2 ] || fail "gamma has $seen vCPU threads"
# Kill one VMM: reported and restarted from its pristine image; the others go on.
beta_ticks() { grep -c '^\[beta\] tick' "$WORK/out"; }
old=$(pgrep -f 'mumu-vmm alpha ')
kill -KILL "$old"
wait_for "$WORK/out" "partition 'alpha': VMM_DIED: VMM \(pid $old\) killed by signal KILL; action COLD_START"
wait_for "$WORK/out" '^\[alpha\] hello from alpha$' 2
new=$(pgrep -f 'mumu-vmm alpha ') || fail "alpha was not restarted"
[ "$new" != "$old" ] || fail "alpha has its old VMM"
n=$(beta_ticks)
# Three restarts a minute at most: the fourth death leaves alpha IDLE.
for _ in 1 2 3; do
	pid=$(pgrep -f 'mumu-vmm alpha ') || break
	kill -KILL "$pid"
	for _ in $(seq 100); do
		p2=$(pgrep -f 'mumu-vmm alpha ') && [ "$p2" != "$pid" ] && break
		grep -q "restart budget spent" "$WORK/out" && break
		sleep 0.2
	done
done
wait_for "$WORK/out" "partition 'alpha': VMM_DIED: .*restart budget spent \(3 in 60 s\): IDLE"
pgrep -f 'mumu-vmm alpha ' && fail "an IDLE partition still has a VMM"
for _ in $(seq 100); do
	[ "$(beta_ticks)" -ge $((n + 5)) ] && break
	sleep 0.2
done
[ "$(beta_ticks)" -ge $((n + 5)) ] || fail "beta stopped while alpha died"
kill -0 "$sup" || fail "the supervisor died"
# A restart forks on the partition's cores (sup_partition_spawn) and moves back after.
[ "$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/"$sup"/status)" = "$main_cores" ] ||
	fail "the supervisor's main thread did not return to cores $main_cores after restarts"
kill -TERM "$sup"
wait "$sup" || fail "exit status $? after SIGTERM"
expect "$WORK/out" '^mumu: SIGTERM'
[ "$(summary_field alpha 8)" -eq 3 ] || fail "alpha: expected 3 restarts"
[ "$(hm_faults alpha)" -eq 4 ] || fail "alpha: expected 4 faults"
sleep 0.2
pgrep -f 'mumu-vmm ' && fail "a VMM outlived the supervisor"
# SIGKILL of the supervisor takes every VMM with it (PR_SET_PDEATHSIG).
start_bg etc/mumu.xml "$WORK/out2"
[ "$(pgrep -fc 'mumu-vmm ')" -eq 5 ] || fail "expected 5 VMMs"
kill -KILL "$sup"
wait "$sup" 2>/dev/null || true
sleep 0.5
pgrep -f 'mumu-vmm ' && fail "VMMs outlived a killed supervisor"

# A VMM that never says READY (test hook: it hangs before) is killed after 20 s and handled
# as a dead one by the health monitor; the others run meanwhile.
cfg=$(pair victim hello.bin)
MUMU_TEST_ATTEMPT=never_ready MUMU_TEST_ATTEMPT_PARTITION=victim "$SUP" --control none \
	--duration 26 "$cfg" >"$WORK/out" 2>&1 || fail "exit $?"
expect "$WORK/out" "partition 'victim': VMM_DIED: VMM \(pid [0-9]+\) not ready 20 s after its start; killed; action COLD_START"
expect "$WORK/out" '^\[witness\] tick 3$'
grep -q '^\[victim\]' "$WORK/out" && fail "the victim ran"

# Without CAP_SYS_NICE (gone from the bounding set, so from the supervisor's permitted set
# after exec) the core threads cannot be SCHED_FIFO: a warning, and the system runs.
setpriv --bounding-set -sys_nice -- "$SUP" --control none --frames 8 etc/mumu.xml \
	>"$WORK/out" 2>&1 || fail "without CAP_SYS_NICE: exit $?"
expect "$WORK/out" 'no permission for SCHED_FIFO \(CAP_SYS_NICE\): the schedule runs at normal priority'
expect "$WORK/out" '^\[beta\] tick 3$'
expect "$WORK/out" '^\[display\] consumer: valid speed'
echo "ok"

# An ELF image boots (its segments loaded where they go, entered at its entry), and a cold
# restart loads it again from its segments: the ELF twin of hello.bin, killed once.
sed 's/BinaryPath="hello.bin"/BinaryPath="hello.elf"/' "$(pair victim hello.bin)" >"$WORK/elf.xml"
"$SUP" --duration 30 "$WORK/elf.xml" >"$WORK/out" 2>&1 &
sup=$!
wait_for "$WORK/out" '^\[victim\] tick 2$'
kill -KILL "$(pgrep -f 'mumu-vmm victim ')"
wait_for "$WORK/out" '^\[victim\] hello from victim$' 2
kill -TERM $sup
wait $sup || fail "ELF run: exit status $?"
sup=
grep -q '^\[witness\] hello from witness$' "$WORK/out" || fail "the ELF witness did not boot"
echo "ok: ELF images boot and restart"
