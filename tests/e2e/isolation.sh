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
witness=$(pgrep -f 'mumu-vmm witness$')
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
