#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One config case: run `mumu-supervisor --check` on FILE and compare with its expectations.
#   tests/configs/run.sh SUPERVISOR pass|fail|schema FILE
# pass: exit 0. fail: exit 2 and, for every `<!-- expect: LINE: TEXT -->` in the file, a
# diagnostic "FILE:LINE: ...TEXT..." (LINE 0: any line). schema: xmllint with etc/mumu.xsd
# accepts a pass file and rejects a fail file marked `<!-- expect-schema: reject -->`.
set -uo pipefail
sup=$1 kind=$2 file=$3
xsd=$(dirname "$0")/../../etc/mumu.xsd

case "$kind" in
pass)
	out=$("$sup" --check "$file" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || { echo "FAIL: $file: exit $rc, expected 0"; echo "$out"; exit 1; }
	grep -q "is valid" <<<"$out" || { echo "FAIL: no summary"; echo "$out"; exit 1; }
	;;
fail)
	out=$(timeout 10 "$sup" --check "$file" 2>&1)
	rc=$?
	[ $rc -eq 2 ] || { echo "FAIL: $file: exit $rc, expected 2"; echo "$out"; exit 1; }
	n=0
	while IFS= read -r exp; do
		line=${exp%%: *}
		text=${exp#*: }
		n=$((n + 1))
		if [ "$line" = 0 ]; then
			pat="^$file:[0-9]+: "
		else
			pat="^$file:$line: "
		fi
		if ! grep -E "$pat" <<<"$out" | grep -qF -- "$text"; then
			echo "FAIL: $file: expected '$file:$line: ...$text...'"
			echo "$out"
			exit 1
		fi
	done < <(sed -n 's/^<!-- expect: \(.*\) -->$/\1/p' "$file")
	[ $n -gt 0 ] || { echo "FAIL: $file has no expect comment"; exit 1; }
	;;
schema)
	if [[ $file == */pass/* ]]; then
		xmllint --noout --nonet --schema "$xsd" "$file" || exit 1
	elif grep -q '<!-- expect-schema: reject -->' "$file"; then
		if xmllint --noout --nonet --schema "$xsd" "$file" >/dev/null 2>&1; then
			echo "FAIL: xmllint accepts $file, which mumu rejects at the schema level"
			exit 1
		fi
	else
		# Semantic problems only: the schema must accept the file (mumu's checks reject it).
		xmllint --noout --nonet --schema "$xsd" "$file" || exit 1
	fi
	;;
esac
echo "ok: $kind $file"
