#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Terminal signals end a run cleanly (issue: Ctrl-C reached every VMM and read as three VMM
# deaths). On a real pseudo-terminal: Ctrl-Z is refused and the module goes on; Ctrl-C and
# Ctrl-\ stop it in order, with the summary and no health-monitor event; SIGTERM and SIGHUP
# alike; a second Ctrl-C while VMMs are being stopped ends the run at once (exit 130).
. "$(dirname "$0")/lib.sh"
PTY=tests/e2e/on_tty.py

# clean NAME STATUS: the run $WORK/out ended with STATUS, the summary and no fault at all.
clean() {
	grep -qE 'VMM_DIED|killed by signal|error:' "$WORK/out" && fail "$1: error lines"
	expect "$WORK/out" "^mumu: $1 after [0-9]+ major frames"
	expect "$WORK/out" '^alpha +[0-9]+'
	for p in alpha beta gamma sensor display; do
		[ "$(summary_field $p 7)" -eq 0 ] || fail "$1: partition $p has faults"
		[ "$(summary_field $p 8)" -eq 0 ] || fail "$1: partition $p was restarted"
	done
	echo "ok: $1"
}

run() { # SIGNAL-NAME STEP...: the default system on a terminal, the steps, then its end
	local name=$1 rc=0
	shift
	$PTY "$WORK/out" 'wait:^\[gamma\] window 4: ' "$@" -- \
		"$SUP" --control none --duration 30 etc/mumu.xml || rc=$?
	[ $rc -eq 0 ] || fail "$name: exit status $rc"
	clean "$name"
}

# Ctrl-Z first: refused with a word, the schedule goes on (more windows), then Ctrl-C.
run SIGINT key:Z 'wait:Ctrl-Z ignored' 'wait:^\[gamma\] window 8: ' key:C
run SIGQUIT 'key:\'
run SIGTERM signal:TERM
run SIGHUP signal:HUP

# A second Ctrl-C while a VMM does not exit: killed at once, exit 130. The hook keeps one
# VMM in a loop that never reads the supervisor's SHUTDOWN (and never says READY).
rc=0
MUMU_TEST_ATTEMPT=never_ready MUMU_TEST_ATTEMPT_PARTITION=beta $PTY "$WORK/out" \
	"wait:attempting 'never_ready'" key:C 'wait:SIGINT: the module stops' key:C -- \
	"$SUP" --control none --duration 30 etc/mumu.xml || rc=$?
[ $rc -eq 130 ] || fail "Ctrl-C twice: exit status $rc, expected 130"
expect "$WORK/out" 'a second signal while stopping: the VMMs are killed now'
grep -qE 'VMM_DIED' "$WORK/out" && fail "Ctrl-C twice: a VMM death was an HM event"
echo "ok: Ctrl-C twice"
