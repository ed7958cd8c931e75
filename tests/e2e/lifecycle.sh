#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vCPUs run where the config says; SIGTERM stops cleanly; a killed VMM is reported and the
# others keep running; no VMM outlives the supervisor.
. "$(dirname "$0")/lib.sh"
start_bg etc/mumu.xml "$WORK/out"
gamma=$(pgrep -f 'mumu-vmm gamma$')
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
# Kill one VMM: reported, the others go on.
kill -KILL "$(pgrep -f 'mumu-vmm alpha$')"
n=$(grep -c '^\[beta\] tick' "$WORK/out")
for _ in $(seq 100); do
	[ "$(grep -c '^\[beta\] tick' "$WORK/out")" -ge $((n + 5)) ] && break
	sleep 0.2
done
expect "$WORK/out" "partition 'alpha': VMM \(pid [0-9]+\) killed by signal KILL"
[ "$(grep -c '^\[beta\] tick' "$WORK/out")" -ge $((n + 5)) ] || fail "beta stopped after alpha died"
kill -0 "$sup" || fail "the supervisor died"
kill -TERM "$sup"
wait "$sup" || fail "exit status $? after SIGTERM"
expect "$WORK/out" '^mumu: SIGTERM'
sleep 0.2
pgrep -f 'mumu-vmm ' && fail "a VMM outlived the supervisor"
# SIGKILL of the supervisor takes every VMM with it (PR_SET_PDEATHSIG).
start_bg etc/mumu.xml "$WORK/out2"
[ "$(pgrep -fc 'mumu-vmm ')" -eq 3 ] || fail "expected 3 VMMs"
kill -KILL "$sup"
wait "$sup" 2>/dev/null || true
sleep 0.5
pgrep -f 'mumu-vmm ' && fail "VMMs outlived a killed supervisor"
echo "ok"
