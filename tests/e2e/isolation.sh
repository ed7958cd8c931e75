#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A partition's side effects on the supervisor cost nobody else (issue: restart storms and HM
# floods took other partitions' time and pushed their events out of the HM log). Judged by
# what the others did and what the log kept, never by a timing.
. "$(dirname "$0")/lib.sh"
CTL=$BUILD/bin/mumu-ctl
SOCK=$WORK/run/control.sock

# Restart storm: SET_MODE(COLD_START) at once after every boot spends the restart budget (3 a
# minute by default) like the health monitor's restarts do, then the partition is IDLE.
cfg=$(pair restarter restarter.bin)
"$SUP" --frames 30 --control none "$cfg" >"$WORK/out" 2>&1 || fail "storm: exit status $?"
[ "$(grep -c '^\[restarter\] restarter: booted' "$WORK/out")" -eq 4 ] ||
	fail "storm: expected 4 boots (3 restarts), got $(grep -c 'restarter: booted' "$WORK/out")"
expect "$WORK/out" "partition 'restarter': ILLEGAL_REQUEST: SET_MODE\(COLD_START\) refused: restart budget spent; restart budget spent \(3 in 60 s\): IDLE"
[ "$(summary_field restarter 8)" -eq 3 ] || fail "storm: restarts $(summary_field restarter 8)"
expect "$WORK/out" '^\[witness\] tick 20$'
expect "$WORK/out" '^\[after\] tick 20$'
[ "$(hm_faults witness)" -eq 0 ] || fail "storm: the witness had faults"
echo "ok: restart storm"

# HM flood: tens of thousands of bad hypercalls a second are counted in one HM-log entry and
# said a few times a second; a real event of another partition in the middle stays in the log.
cfg=$(pair hm_flood hm_flood.bin)
"$SUP" --duration 60 --control "$SOCK" "$cfg" >"$WORK/out" 2>&1 &
sup=$!
wait_for "$WORK/out" '^\[witness\] tick 5$'
witness=$(pgrep -f 'mumu-vmm witness ')
kill -KILL "$witness"
wait_for "$WORK/out" "partition 'witness': VMM_DIED: VMM \\(pid $witness\\)"
wait_for "$WORK/out" '^\[witness\] tick 10$'
wait_for "$WORK/out" ' more like it, unsaid, before\)'
"$CTL" --socket "$SOCK" hm-log >"$WORK/log" || fail "hm-log: exit $?"
"$CTL" --socket "$SOCK" --json hm-log >"$WORK/log.json" || fail "hm-log --json: exit $?"
kill -TERM $sup
wait $sup || fail "flood: exit status $?"
sup=
cat "$WORK/log"
grep -Eq "^ +[0-9.]+ s  witness +VMM_DIED +COLD_START +VMM \\(pid $witness\\) killed by signal KILL" \
	"$WORK/log" || fail "flood: the witness's death is not in the HM log"
[ "$(grep -c 'hm_flood' "$WORK/log")" -eq 1 ] || fail "flood: expected one HM-log entry"
n=$(python3 -c 'import json,sys; print(max(e["repeats"] for e in json.load(open(sys.argv[1]))["log"]))' "$WORK/log.json")
[ "$n" -gt 1000 ] || fail "flood: only $n repeats counted"
said=$(grep -c "partition 'hm_flood': ILLEGAL_REQUEST" "$WORK/out" || true)
[ "$said" -lt 1000 ] || fail "flood: $said lines said of $n events"
[ "$(summary_field after 7)" -eq 0 ] || fail "flood: 'after' had faults"
echo "ok: HM flood ($n events, $said said)"

# A stalled stdout: a reader that takes nothing for 10 s while flood.bin prints its budget
# every frame. The supervisor only queues output: another partition's VMM death is handled
# and mumu-ctl answers while the reader still sleeps.
cfg=$(pair flood flood.bin)
mkfifo "$WORK/fifo"
(
	exec 3<"$WORK/fifo"
	sleep 10
	cat <&3 >"$WORK/out"
) &
reader=$!
"$SUP" --duration 60 --control "$SOCK" "$cfg" >"$WORK/fifo" 2>&1 &
sup=$!
for _ in $(seq 100); do pgrep -f 'mumu-vmm witness ' >/dev/null && break; sleep 0.1; done
sleep 2 # the flood fills the pipe meanwhile
witness=$(pgrep -f 'mumu-vmm witness ') || fail "stalled: no witness VMM"
kill -KILL "$witness"
restarted=
for _ in $(seq 25); do
	timeout 10 "$CTL" --socket "$SOCK" status >"$WORK/st" || fail "stalled: mumu-ctl: exit $?"
	grep -Eq '^witness +[A-Z_]+ +[0-9]+ +1 +1 +1 ' "$WORK/st" && restarted=1 && break
	sleep 0.2
done
kill -0 "$reader" 2>/dev/null || fail "stalled: the reader ended before the judgement"
cat "$WORK/st"
[ -n "$restarted" ] || fail "stalled: the witness was not restarted while stdout was stalled"
kill -TERM $sup
wait $sup || fail "stalled: exit status $?"
sup=
wait $reader
expect "$WORK/out" "partition 'flood': console output over its budget"
[ "$(summary_field flood 15)" -gt 0 ] || fail "stalled: no dropped bytes counted for flood"
[ "$(summary_field witness 15)" -eq 0 ] || fail "stalled: the witness's output was dropped"
echo "ok: stalled stdout"

# The control socket: 40 connections that never send a request do not lock the operator
# out; out of file descriptors, a connection is refused and the supervisor goes on (it used
# to spin on accept() for ever, deaf to SIGTERM).
cfg=$(pair victim hello.bin)
"$SUP" --duration 60 --control "$SOCK" "$cfg" >"$WORK/out" 2>&1 &
sup=$!
wait_for "$WORK/out" '^\[witness\] tick 3$'
python3 - "$SOCK" <<'PY' &
import socket, sys, time
idle = [socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(40)]
for s in idle:
    s.connect(sys.argv[1])
time.sleep(30)
PY
idlers=$!
for _ in $(seq 50); do [ "$(ls /proc/$idlers/fd 2>/dev/null | wc -l)" -ge 43 ] && break; sleep 0.1; done
"$CTL" --socket "$SOCK" status >"$WORK/st" || fail "idle connections: mumu-ctl: exit $?"
grep -q '^witness ' "$WORK/st" || fail "idle connections: no status"
kill $idlers
echo "ok: idle connections"

# The limit at the lowest free fd number: every new fd fails with EMFILE. (The idle
# connections are gone first: they are closed within SUP_CONTROL_IDLE_NS.)
wait $idlers 2>/dev/null || true
sleep 3
free=0
while [ -e "/proc/$sup/fd/$free" ]; do free=$((free + 1)); done
prlimit --pid "$sup" --nofile="$free":
rc=0
"$CTL" --socket "$SOCK" status >/dev/null 2>&1 || rc=$?
[ $rc -eq 3 ] || fail "EMFILE: mumu-ctl exit $rc, expected 3 (refused)"
wait_for "$WORK/out" 'control: a connection was refused: out of file descriptors'
kill -TERM "$sup"
for _ in $(seq 50); do kill -0 "$sup" 2>/dev/null || break; sleep 0.2; done
kill -0 "$sup" 2>/dev/null && fail "EMFILE: the supervisor did not stop on SIGTERM"
wait "$sup" || fail "EMFILE: exit status $?"
sup=
expect "$WORK/out" '^mumu: SIGTERM after [0-9]+ major frames'
echo "ok: out of file descriptors"

# Files: a FIFO or a device as the config is refused at once, never waited on; an image that
# is secret (not readable by others) or a sysfs file is refused at start with the reason
# (exit status 1, before any VMM runs).
mkfifo "$WORK/fifo.xml"
rc=0
timeout 10 "$SUP" --check "$WORK/fifo.xml" >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "FIFO config: exit status $rc, expected 2"
expect "$WORK/out" 'fifo.xml:0: not a regular file'
rc=0
timeout 10 "$SUP" --check /dev/zero >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "/dev/zero config: exit status $rc, expected 2"
expect "$WORK/out" '/dev/zero:0: not a regular file'
cp "$BUILD/guests/hello.bin" "$WORK/secret.bin"
chmod 600 "$WORK/secret.bin"
image() { # IMAGE WHAT-THE-SUPERVISOR-SAYS
	local rc=0
	cfg=$(pair victim "$1")
	timeout 60 "$SUP" --frames 5 --control none "$cfg" >"$WORK/out" 2>&1 || rc=$?
	[ $rc -eq 1 ] || fail "image $1: exit status $rc, expected 1"
	expect "$WORK/out" "partition 'victim': the image '.*' $2"
	echo "ok: image $1"
}
image "$WORK/secret.bin" 'is not readable by others'
image /sys/devices/system/cpu/online 'is not a regular file on a disk'
