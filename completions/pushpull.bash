# bash completion for pushpull(1)                      -*- shell-script -*-
# Installed by `make install` as share/bash-completion/completions/pushpull.
# The options are those of `pushpull SUBCOMMAND --help` (tests/cli_completion.sh
# holds the two together for chat, reply, reframe, check, export and sessions).

# the conversation names `pushpull sessions` lists (its first column),
# from the state file given on the line when there is one
_pushpull_sessions()
{
    local state="" j
    for ((j = 1; j < cword; j++)); do
        [[ ${words[j]} == --state ]] && state=${words[j+1]}
        [[ ${words[j]} == --state=* ]] && state=${words[j]#--state=}
    done
    pushpull sessions ${state:+--state "$state"} 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_pushpull()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -s || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local subs="chat reply reframe check export sessions telegram matrix help"
    local common="--rules --responses --programs --region --state --session --new --no-state --keep-transcripts --help --version"
    local regions="us uk gb ie ca au nz de fr in"
    local sub="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            chat|reply|reframe|check|export|sessions|telegram|matrix|help) sub=${words[i]}; break ;;
        esac
    done

    # a value after an option that takes one
    case $prev in
        --rules|--responses|--programs|--corpus)
            COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --state|--token-file|--password-file)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --session|delete)
            # the names saved in the state file (no names: nothing offered)
            [[ $prev == delete && $sub != sessions ]] && return
            COMPREPLY=($(compgen -W "$(_pushpull_sessions)" -- "$cur")); return ;;
        --region)
            COMPREPLY=($(compgen -W "$regions" -- "$cur")); return ;;
        --color|--colour)
            ;;
        --min-accuracy|--read|--api-url|--homeserver|--user|--allow|--workers| \
        --max-backoff|--max-chats|--keep-unsent|--poll-timeout|--sync-timeout)
            return ;;
    esac
    if [[ $cur == --color=* || $cur == --colour=* ]]; then
        COMPREPLY=($(compgen -P "${cur%%=*}=" -W "auto always never" -- "${cur#*=}"))
        return
    fi

    local opts
    case $sub in
        ""|chat) opts="$common --color= --color" ;;
        reply) opts="$common --json" ;;
        reframe) opts="--json --rules --responses --region --help --version" ;;
        check) opts="$common --corpus --min-accuracy --quiet --read --json" ;;
        export) opts="$common" ;;
        sessions) opts="delete --json --state --help --version" ;;
        telegram) opts="--token-file --api-url --log-text --log-rules --workers --max-backoff --max-chats
                        --keep-unsent --poll-timeout --allow-insecure-http $common" ;;
        matrix) opts="login --homeserver --token-file --allow --sync-timeout --log-text --log-rules
                      --allow-insecure-http --user --password-file $common" ;;
        help) return ;;
    esac
    if [[ -z $sub && $cur != -* ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return
    fi
    if [[ $cur == -* || $sub == matrix || $sub == sessions ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        [[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
        return
    fi
    # reply reads files
    [[ $sub == reply ]] && COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _pushpull pushpull
