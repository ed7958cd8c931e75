#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mumu-ctl against a running supervisor: status and hm-log (text and JSON), restart warm and
# cold (visible in the guest's memory), stop, schedule; bad requests are refused with a
# reason and change nothing; the socket is the supervisor's alone.
. "$(dirname "$0")/lib.sh"
CTL=$BUILD/bin/mumu-ctl
SOCK=$WORK/run/control.sock
ctl() { "$CTL" --socket "$SOCK" "$@"; }
# ask ARGS...: run mumu-ctl, which must succeed; its answer is in $WORK/r.
ask() { ctl "$@" >"$WORK/r" || fail "mumu-ctl $*: exit $?"; }

start_bg etc/mumu.xml "$WORK/out" --control "$SOCK" --trace "$WORK/ctl.json"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK")"
[ "$(stat -c %a "$WORK/run")" = 700 ] || fail "socket directory mode $(stat -c %a "$WORK/run")"

ctl status >"$WORK/st" || fail "status: exit $?"
cat "$WORK/st"
alpha=$(pgrep -f 'mumu-vmm alpha ')
grep -Eq "^alpha +COLD_START +$alpha +0 " "$WORK/st" || fail "status: alpha's line"
grep -Eq "^gamma +NORMAL +[0-9]+ +0,1 " "$WORK/st" || fail "status: gamma's cores"
ctl --json status >"$WORK/st.json" || fail "status --json: exit $?"
python3 -m json.tool "$WORK/st.json" >/dev/null || fail "status --json is not JSON"
grep -q "\"name\":\"alpha\",\"id\":1,\"mode\":\"COLD_START\",\"pid\":$alpha," "$WORK/st.json" ||
	fail "status --json: alpha"

# A death, as the HM log and the status see it.
kill -KILL "$alpha"
wait_for "$WORK/out" "partition 'alpha': VMM_DIED: VMM \\(pid $alpha\\)"
wait_for "$WORK/out" '^\[alpha\] hello from alpha$'
ctl hm-log >"$WORK/log" || fail "hm-log: exit $?"
grep -Eq "^ +[0-9.]+ s  alpha +VMM_DIED +COLD_START +VMM \\(pid $alpha\\) killed by signal KILL" \
	"$WORK/log" || { cat "$WORK/log"; fail "hm-log: the death"; }
ask --json hm-log
python3 -m json.tool "$WORK/r" >/dev/null || fail "hm-log --json is not JSON"
ask status
grep -Eq "^alpha +COLD_START +[0-9]+ +0 +1 +[1-9][0-9]* .* VMM_DIED: VMM \\(pid $alpha\\)" "$WORK/r" ||
	fail "status: alpha's restart and last error"

# Warm keeps RAM (the guest counts its boots there), cold reloads the image.
ask restart gamma warm
grep -q "^partition 'gamma': WARM_START, new VMM pid" "$WORK/r" || fail "warm"
wait_for "$WORK/out" '^\[gamma\] gamma: WARM_START, start condition 1, restarts 1, boot 2$'
ask restart gamma
grep -q "^partition 'gamma': COLD_START" "$WORK/r" || fail "cold"
wait_for "$WORK/out" '^\[gamma\] gamma: COLD_START, start condition 1, restarts 2, boot 1$'

# stop: IDLE, no VMM; restart brings it back.
ask stop beta
grep -qx "partition 'beta' is IDLE" "$WORK/r" || fail "stop"
pgrep -f 'mumu-vmm beta ' && fail "an IDLE partition kept its VMM"
ask status
grep -Eq '^beta +IDLE +0 ' "$WORK/r" || fail "status: beta IDLE"
sleep 0.3 # a few frames: beta's windows go by idle (the trace shows them, below)
n=$(grep -c '^\[beta\] hello from beta$' "$WORK/out")
ask restart beta
for _ in $(seq 100); do
	[ "$(grep -c '^\[beta\] hello from beta$' "$WORK/out")" -gt "$n" ] && break
	sleep 0.2
done
[ "$(grep -c '^\[beta\] hello from beta$' "$WORK/out")" -gt "$n" ] || fail "beta did not come back"
# schedule: the operator may switch; an unknown schedule is refused.
ask schedule 2
grep -qx 'schedule 2 from the next major frame' "$WORK/r" || fail "schedule 2"
wait_for "$WORK/out" 'the operator requests schedule 2'

# Bad requests: a reason, exit 1 or 2, and nothing changes.
bad() { # EXPECTED_EXIT PATTERN ARGS...
	local want=$1 pat=$2 rc=0
	shift 2
	ctl "$@" >"$WORK/bad" 2>&1 || rc=$?
	[ $rc -eq "$want" ] || { cat "$WORK/bad"; fail "mumu-ctl $*: exit $rc, expected $want"; }
	grep -q -- "$pat" "$WORK/bad" || { cat "$WORK/bad"; fail "mumu-ctl $*: no '$pat'"; }
}
bad 1 "no partition 'nosuch' in module demo" restart nosuch
bad 1 "no partition 'nosuch' in module demo" stop nosuch
bad 1 'no schedule 9 in module demo' schedule 9
bad 2 'Usage' schedule -1
bad 2 'Usage' restart alpha lukewarm
bad 2 'at most 32 characters' stop "$(printf 'x%.0s' $(seq 40))"
bad 2 'Usage' frobnicate
rc=0
"$CTL" --socket "$WORK/none.sock" status >"$WORK/bad" 2>&1 || rc=$?
[ $rc -eq 3 ] || fail "no supervisor: exit status $rc"
# Raw garbage on the socket: refused, and the supervisor goes on.
python3 - "$SOCK" <<'PY' || fail "raw garbage"
import socket, struct, sys
for payload in (b"\x00" * 3, struct.pack("<II", 8, 56) + b"\xff" * 56,
                struct.pack("<II", 8, 56) + struct.pack("<IIII", 99, 0, 0, 0) + b"\0" * 40,
                struct.pack("<II", 3, 0)):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(payload)
    reply = s.recv(9000)
    status, = struct.unpack("<i", reply[8:12])
    assert status < 0, (payload, reply)
    s.close()
# a connection that never speaks does not block the others
idle = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
idle.connect(sys.argv[1])
PY
ask status
# Another uid may not talk to it.
chmod 755 "$WORK" "$WORK/run"
chmod 666 "$SOCK"
setpriv --reuid 65534 --regid 65534 --clear-groups "$CTL" --socket "$SOCK" stop alpha \
	>"$WORK/bad" 2>&1 && fail "another uid was obeyed"
grep -q 'permission denied' "$WORK/bad" || { cat "$WORK/bad"; fail "no permission message"; }
pgrep -f 'mumu-vmm alpha ' >/dev/null || fail "alpha stopped by another uid"
# A second supervisor on the same socket is refused.
"$SUP" --frames 1 --control "$SOCK" etc/mumu.xml >"$WORK/second" 2>&1 && fail "second supervisor"
grep -q "another supervisor runs" "$WORK/second" || fail "second supervisor: message"

kill -0 "$sup" || fail "the supervisor died"
kill -TERM "$sup"
wait "$sup" || fail "exit status $? after SIGTERM"
[ -e "$SOCK" ] && fail "the socket outlived the supervisor"
# The operator's actions are in the trace, and mumu-trace labels them; beta's windows while it
# was stopped are drawn idle (hatched), not missed.
grep -q '"name":"beta","cat":"idle"' "$WORK/ctl.json" || fail "beta's stopped windows are not idle"
for e in "operator restart gamma" "operator stop beta" "operator restart beta" \
	"operator schedule 2"; do
	grep -q "\"name\":\"$e\",\"cat\":\"event\"" "$WORK/ctl.json" || fail "no '$e' in the trace"
done
"$BUILD/bin/mumu-trace" "$WORK/ctl.json" "$WORK/ctl.svg" || fail "mumu-trace: exit $?"
grep -q '<text class="label"[^>]*>operator stop beta</text>' "$WORK/ctl.svg" ||
	fail "the SVG does not label the operator's stop"
grep -q 'class="idle"' "$WORK/ctl.svg" || fail "no idle window drawn"
echo "ok"
