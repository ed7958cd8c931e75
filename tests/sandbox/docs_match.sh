#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/security.md names every system call the filter allows and every one it refuses on
# purpose, as the audit prints them: the documentation cannot drift from the table.
set -euo pipefail
build=$1
doc=$(dirname "$0")/../../docs/security.md
audit=$("$build"/bin/mumu-supervisor --seccomp-audit)
status=0
names() { # SECTION-START: the first word of each indented line of that section
	awk -v start="$1" '$0 == start { on = 1; next } on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }' <<<"$audit"
}
for name in $(names "allowed:") $(names "refused on purpose (as is everything not allowed):"); do
	if ! grep -q "\`$name\`" "$doc"; then
		echo "docs/security.md does not name \`$name\`, which the filter lists" >&2
		status=1
	fi
done
n=$(names "allowed:" | wc -l)
[ "$n" -ge 20 ] || { echo "the audit lists only $n allowed calls: format changed?" >&2; exit 1; }
exit $status
