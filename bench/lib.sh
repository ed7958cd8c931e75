# SPDX-License-Identifier: MIT
# Sourced by the benchmarks: medians and ratios of the rounds.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# median_ratio "A1 A2 .." "B1 B2 ..": the ratios Ai / Bi as "MEDIAN (per round: ..)".
median_ratio() {
	local -a a=($1) b=($2)
	local i r=()
	for ((i = 0; i < ${#a[@]}; i++)); do
		r+=("$(ratio "${a[i]}" "${b[i]}")")
	done
	printf '%s (per round: %s)' "$(printf '%s\n' "${r[@]}" | median)" "${r[*]}"
}
# Awk functions for the trace, one record a line: num(KEY) is a number field, str(KEY) a string.
# shellcheck disable=SC2034 # used by the scripts that source this
trace_awk='
function num(k,   i) { i = index($0, "\"" k "\":"); return substr($0, i + length(k) + 3) + 0 }
function str(k,   i, s) { i = index($0, "\"" k "\":\""); s = substr($0, i + length(k) + 4); return substr(s, 1, index(s, "\"") - 1) }
'
