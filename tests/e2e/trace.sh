#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --trace: one event per executed window; planned times are exact (no drift); no window starts
# early; a window that was not enforced ended within the grace; a spinning guest is no
# exception.
. "$(dirname "$0")/lib.sh"
GRACE_NS=2000000 # SUP_ENFORCE_GRACE_NS

# check_trace FILE FRAME_NS: the invariants above, from the trace alone.
check_trace() {
	tail -n 1 "$1" | grep -qx ']}' || fail "$1 is not a finished JSON document"
	python3 -m json.tool "$1" >/dev/null || fail "$1 is not valid JSON"
	awk -v frame="$2" -v grace=$GRACE_NS '
	function num(k,   i) { i = index($0, "\"" k "\":"); return i ? substr($0, i + length(k) + 3) + 0 : -1 }
	function str(k,   i, s) { i = index($0, "\"" k "\":\""); s = substr($0, i + length(k) + 4); return substr(s, 1, index(s, "\"") - 1) }
	NR == 1 { epoch = num("epoch_ns") }
	/"ph":"X"/ && !/"cat":"planned"/ {
		n[str("name")]++
		ps = num("planned_start_ns"); pe = num("planned_end_ns"); s = num("start_ns"); e = num("end_ns")
		want = epoch + num("frame") * frame + num("offset_ns")
		if (ps != want) { print "drift: " $0; bad++ }
		if (s && s < ps) { print "started early: " $0; bad++ }
		if (s && str("outcome") != "enforced" && e > pe + grace) { print "overran: " $0; bad++ }
	}
	END {
		for (p in n) printf "%s=%d ", p, n[p]
		print ""
		exit bad > 0
	}' "$1" >"$WORK/counts" || { cat "$WORK/counts"; fail "trace invariants violated"; }
}

"$SUP" --frames 20 --trace "$WORK/t.json" etc/mumu.xml >"$WORK/out" 2>&1 || fail "exit $?"
check_trace "$WORK/t.json" 100000000
grep -q 'alpha=20 ' "$WORK/counts" || fail "alpha windows: $(cat "$WORK/counts")"
grep -q 'beta=40 ' "$WORK/counts" || fail "beta windows: $(cat "$WORK/counts")"
# gamma switches schedules: every frame's windows on both cores carry one schedule, and
# gamma has 1 window per vCPU per frame in schedule 1, 2 in schedule 2.
awk '
function num(k,   i) { i = index($0, "\"" k "\":"); return i ? substr($0, i + length(k) + 3) + 0 : -1 }
/"ph":"X"/ && !/"cat":"planned"/ {
	f = num("frame"); s = num("schedule")
	if ((f in sched) && sched[f] != s) { print "frame " f " runs schedules " sched[f] " and " s; bad++ }
	sched[f] = s
	if (index($0, "\"name\":\"gamma\"")) gamma++
}
END {
	for (f in sched) { want += sched[f] == 1 ? 2 : 4; n[sched[f]]++ }
	if (gamma != want) { print "gamma has " gamma " windows, the schedules give it " want; bad++ }
	if (!n[2]) { print "schedule 2 never ran"; bad++ }
	exit bad > 0
}' "$WORK/t.json" || fail "schedule switches in the trace"
grep -q '"name":"thread_name".*"core 1"' "$WORK/t.json" || fail "cores not named"
grep -q '"name":"thread_name".*"core 1 planned"' "$WORK/t.json" || fail "no planned track"
# Every window twice: as it ran on its core's track, as planned on the planned one.
[ "$(grep -c '"cat":"planned"' "$WORK/t.json")" -eq "$(grep '"ph":"X"' "$WORK/t.json" |
	grep -vc '"cat":"planned"')" ] || fail "planned windows != windows"
grep -q '"name":"schedule 2 requested by gamma","cat":"event"' "$WORK/t.json" ||
	fail "no schedule request event"
grep -q '"name":"schedule switch","cat":"event"' "$WORK/t.json" || fail "no switch event"
echo "ok: demo trace"

# mumu-trace draws it: one solid bar per window that ran, a line per event, valid XML.
TRACE=$BUILD/bin/mumu-trace
"$TRACE" "$WORK/t.json" "$WORK/t.svg" || fail "mumu-trace exit $?"
xmllint --noout "$WORK/t.svg" || fail "the SVG is not well-formed"
ran=$(grep '"ph":"X"' "$WORK/t.json" | grep -v '"cat":"planned"' | grep -vc '"start_ns":0,' || true)
[ "$(grep -c 'class="ran"' "$WORK/t.svg")" -eq "$ran" ] || fail "SVG bars != $ran windows that ran"
[ "$(grep -c 'class="event"' "$WORK/t.svg")" -eq "$(grep -c '"cat":"event"' "$WORK/t.json")" ] ||
	fail "SVG event lines != trace events"
[ "$(grep -c 'class="label"' "$WORK/t.svg")" -eq "$(grep -c '"cat":"event"' "$WORK/t.json")" ] ||
	fail "SVG event labels != trace events"
"$TRACE" --from 100 --to 300 "$WORK/t.json" >"$WORK/part.svg" || fail "mumu-trace --from/--to"
[ "$(grep -c 'class="ran"' "$WORK/part.svg")" -lt "$ran" ] || fail "--from/--to drew everything"
"$TRACE" etc/mumu.xml >"$WORK/out" 2>&1 && fail "mumu-trace accepted an XML config"
expect "$WORK/out" '^etc/mumu.xml:1: not a mumu trace'
echo "ok: mumu-trace"

cfg=$(pair spin spin.bin)
"$SUP" --frames 10 --trace "$WORK/spin.json" "$cfg" >"$WORK/out" 2>&1 || fail "exit $?"
check_trace "$WORK/spin.json" 100000000
grep -q 'spin=10 ' "$WORK/counts" || fail "spin windows: $(cat "$WORK/counts")"
echo "ok: spin trace"

# A supervisor killed mid-run leaves a trace of whole lines up to its last major frame (it
# writes them out once a frame); cut one mid-line as a crash in a write would: mumu-trace
# draws what is there and says where it ends.
"$SUP" --duration 30 --trace "$WORK/crash.json" etc/mumu.xml >"$WORK/out" 2>&1 &
sup=$!
wait_for "$WORK/out" '^\[gamma\] window 4: '
sleep 0.5
kill -KILL $sup # its VMMs follow it (PR_SET_PDEATHSIG)
wait $sup 2>/dev/null || true
sup=
[ "$(tail -c 2 "$WORK/crash.json")" = '}}' ] || # every record ends so; ",\n" starts the next
	fail "the trace of a killed supervisor ends mid-line"
"$TRACE" "$WORK/crash.json" >"$WORK/crash.svg" || fail "mumu-trace refused a killed run's trace"
grep -q 'class="ran"\|class="yielded"' "$WORK/crash.svg" || fail "nothing drawn of a killed run"
head -c -40 "$WORK/crash.json" >"$WORK/cut.json"
"$TRACE" "$WORK/cut.json" >"$WORK/cut.svg" 2>"$WORK/out" || fail "mumu-trace refused a cut trace"
expect "$WORK/out" 'cut.json:[0-9]+: the trace ends in the middle of a line'
echo "ok: a killed supervisor's trace"

"$SUP" --frames 1 --trace /nonexistent/dir/t.json etc/mumu.xml >"$WORK/out" 2>&1 &&
	fail "an unwritable trace path was accepted"
expect "$WORK/out" "cannot write the trace '/nonexistent/dir/t.json'"
pgrep -f 'mumu-vmm ' && fail "VMMs left behind after a failed start"
echo "ok"
