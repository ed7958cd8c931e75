#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad command lines get a clear error and exit status 1 (mumu-ctl: 2), good ones go on:
# options.sh SUPERVISOR MUMU_CTL CONFIG. No KVM needed: --check stops before any VMM.
set -uo pipefail
sup=$1 ctl=$2 cfg=$3
fails=0
# expect STATUS PATTERN CMD...: CMD exits STATUS and its stderr matches PATTERN.
expect() {
	local want=$1 pattern=$2 got
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	got=$?
	if [ "$got" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$err"; then
		echo "FAIL: $* -> status $got (want $want), stderr: $err"
		fails=$((fails + 1))
	fi
}
for n in 0 -1 x 1.5 18446744073709551616; do
	expect 1 "--frames '$n': expected a positive whole number" "$sup" --frames "$n" --check "$cfg"
done
for u in 0 1000:0 0:1000 x 1000: :1000 4294967295 1000:1001x; do
	expect 1 "--vmm-user '$u': expected UID or UID:GID" "$sup" --vmm-user "$u" --check "$cfg"
done
for u in 1000 1000:1001 4294967294; do
	expect 0 "^$" "$sup" --vmm-user "$u" --frames 18446744073709551615 --check "$cfg"
done
for id in -1 12x 4294967296 ''; do
	expect 2 "Usage: mumu-ctl" "$ctl" --socket /nonexistent schedule "$id"
done
expect 3 "no supervisor at /nonexistent" "$ctl" --socket /nonexistent schedule 4294967295
[ $fails -eq 0 ] && echo "ok: bad options refused, good ones taken"
exit $((fails > 0))
