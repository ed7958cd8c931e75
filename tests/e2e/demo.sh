#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The default system boots: every partition prints, both vCPUs of gamma run, gamma switches
# the module schedule, sensor's messages reach display (both ARINC 653 applications on the
# partition OS: their processes print), the run ends as asked.
. "$(dirname "$0")/lib.sh"
"$SUP" --frames 10 etc/mumu.xml >"$WORK/out" 2>&1 || fail "exit status $?"
for p in alpha beta; do
	expect "$WORK/out" "^\[$p\] hello from $p\$"
	expect "$WORK/out" "^\[$p\] tick [0-9]+\$" 5
done
expect "$WORK/out" "^\[gamma\] gamma: COLD_START, start condition 0, restarts 0, boot 1\$"
expect "$WORK/out" "^\[gamma\] hello from gamma vcpu 1 on core 1\$"
expect "$WORK/out" "^\[gamma\] window 4: request schedule 2: 0\$"
expect "$WORK/out" "partition 'gamma' requests schedule 2 from the next major frame"
expect "$WORK/out" "schedule 2 runs from this major frame on"
expect "$WORK/out" "^\[gamma\] window [0-9]+: schedule 2\$"
expect "$WORK/out" '^\[sensor\] sensor: sending \(processes producer and logger\)$'
expect "$WORK/out" '^\[display\] display: listening \(processes consumer and panel, an error handler\)$'
expect "$WORK/out" '^\[sensor\] logger: job [0-9]+: speed [0-9]+ km/h(, sent cmd [0-9]+)?$' 5
expect "$WORK/out" '^\[display\] consumer: valid speed [0-9]+ km/h$' 5
expect "$WORK/out" '^\[display\] consumer: cmd [0-9]+$' 2
expect "$WORK/out" '^\[display\] panel: speed [0-9]+ km/h, sensor job [1-9][0-9]*$' 4
expect "$WORK/out" '^\[display\] error handler: APPLICATION_ERROR from consumer: every fifth job, on purpose$'

expect "$WORK/out" "^mumu: --frames reached after 10 major frames; schedule [12] \([1-9][0-9]* switches\)"
for p in alpha beta gamma sensor display; do
	[ "$(hm_faults $p)" -eq 0 ] || fail "$p faulted"
done
# Every tick line is whole: nothing interleaved mid-line.
if grep -vE '^(\[(alpha|beta|gamma)\] (hello from .*|tick [0-9]+|gamma: .*|window [0-9]+: .*)|\[sensor\] (sensor: sending .*|logger: job .*)|\[display\] (display: listening .*|consumer: .*|panel: .*|error handler: .*)|mumu.*|mumu-supervisor: .*|partition .*|legend: .*|(alpha|beta|gamma|sensor|display) .*|)$' "$WORK/out"; then
	fail "unexpected or interleaved output"
fi
pgrep -f 'mumu-vmm ' && fail "a VMM outlived the run"
echo "ok"
