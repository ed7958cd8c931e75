# SPDX-License-Identifier: MIT
# bash completion for mumu-supervisor, mumu-ctl and mumu-trace (installed to
# PREFIX/share/bash-completion/completions).

_mumu_supervisor()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--trace | --schema | --vmm) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--control) COMPREPLY=($(compgen -f -W none -- "$cur")); return ;;
	--frames | --duration | --vmm-user) return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--check --frames --duration --trace --control --schema --vmm
			--vmm-user --seccomp=kill --seccomp=log --seccomp-audit --no-sandbox --verbose
			--quiet --help --version' -- "$cur"))
	else
		COMPREPLY=($(compgen -f -X '!*.xml' -- "$cur") $(compgen -d -- "$cur"))
	fi
}

# Partition names from the running supervisor's status (its socket from --socket, if given).
_mumu_ctl_partitions()
{
	local sock=() i
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == --socket ]] && sock=(--socket "${COMP_WORDS[i+1]}")
	done
	mumu-ctl "${sock[@]}" status 2>/dev/null | awk 'NR > 2 { print $1 }'
}

_mumu_ctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	restart | stop) COMPREPLY=($(compgen -W "$(_mumu_ctl_partitions)" -- "$cur")); return ;;
	esac
	if [[ ${COMP_WORDS[COMP_CWORD-2]} == restart ]]; then
		COMPREPLY=($(compgen -W 'cold warm' -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W 'status hm-log restart stop schedule --socket --json --help' -- "$cur"))
}

_mumu_trace()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--from --to --help' -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

complete -F _mumu_supervisor mumu-supervisor
complete -F _mumu_ctl mumu-ctl
complete -F _mumu_trace mumu-trace
