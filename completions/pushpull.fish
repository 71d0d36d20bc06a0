# fish completion for pushpull(1).  Installed by `make install` as
# share/fish/vendor_completions.d/pushpull.fish.  The options are those of
# `pushpull SUBCOMMAND --help` (tests/cli_completion.sh holds the two
# together for chat, reply, reframe, check, export and sessions).

set -l subs chat reply reframe check export sessions telegram matrix help
set -l regions us uk gb ie ca au nz de fr in

# the conversation names `pushpull sessions` lists (its first column),
# from the state file given on the line when there is one
function __pushpull_sessions
    set -l tok (commandline -opc)
    set -l state
    for i in (seq (count $tok))
        switch $tok[$i]
            case --state
                set state --state $tok[(math $i + 1)]
            case '--state=*'
                set state --state (string replace -- --state= '' $tok[$i])
        end
    end
    pushpull sessions $state 2>/dev/null | awk 'NR > 1 { print $1 }'
end

complete -c pushpull -f
complete -c pushpull -n "not __fish_seen_subcommand_from $subs" -a chat -d 'talk with the coach in the terminal (the default)'
complete -c pushpull -n "not __fish_seen_subcommand_from $subs" -a reply -d 'read messages, write one reply per line'
complete -c pushpull -n "not __fish_seen_subcommand_from $subs" -a reframe -d 'rewrite a complaint as a gentle start-up'
complete -c pushpull -n "not __fish_seen_subcommand_from $subs" -a check -d 'check rule and response files, score the corpus'
complete -c pushpull -n "not __fish_seen_subcommand_from $subs" -a export -d 'write what is kept about a conversation as JSON'
complete -c pushpull -n "not __fish_seen_subcommand_from $subs" -a sessions -d 'list the saved conversations, or delete one'
complete -c pushpull -n "not __fish_seen_subcommand_from $subs" -a telegram -d 'run the Telegram bot'
complete -c pushpull -n "not __fish_seen_subcommand_from $subs" -a matrix -d 'run the Matrix bot'
complete -c pushpull -n "not __fish_seen_subcommand_from $subs" -a help -d 'show the subcommands'

# options every subcommand that loads rules takes (reframe: the first three)
set -l loads "not __fish_seen_subcommand_from help sessions"
complete -c pushpull -n "not __fish_seen_subcommand_from help" -l help -d 'show the options'
complete -c pushpull -n "not __fish_seen_subcommand_from help" -l version -d 'show the version'
complete -c pushpull -n $loads -l rules -r -a '(__fish_complete_directories)' -d 'rule files'
complete -c pushpull -n $loads -l responses -r -a '(__fish_complete_directories)' -d 'response files'
complete -c pushpull -n "not __fish_seen_subcommand_from reframe help sessions" -l programs -r -a '(__fish_complete_directories)' -d 'program files (/plan)'
complete -c pushpull -n $loads -l region -x -a "$regions" -d 'crisis resources region'
complete -c pushpull -n "not __fish_seen_subcommand_from reframe help" -l state -r -F -d 'state database'
set -l conv "not __fish_seen_subcommand_from reframe sessions help"
complete -c pushpull -n $conv -l session -x -a '(__pushpull_sessions)' -d 'conversation to resume'
complete -c pushpull -n $conv -l new -d 'start the conversation afresh'
complete -c pushpull -n $conv -l no-state -d 'keep nothing on disk'
complete -c pushpull -n $conv -l keep-transcripts -d 'also store the text of each turn'

complete -c pushpull -n "not __fish_seen_subcommand_from $subs; or __fish_seen_subcommand_from chat" -l color -x -a 'auto always never' -d 'colour'
complete -c pushpull -n "__fish_seen_subcommand_from reply reframe check sessions" -l json -d 'JSON output'
complete -c pushpull -n "__fish_seen_subcommand_from sessions; and not __fish_seen_subcommand_from delete" -a delete -d 'delete a saved conversation'
complete -c pushpull -n "__fish_seen_subcommand_from delete" -a '(__pushpull_sessions)' -d 'saved conversation'
complete -c pushpull -n "__fish_seen_subcommand_from reply" -F
complete -c pushpull -n "__fish_seen_subcommand_from check" -l corpus -r -a '(__fish_complete_directories)' -d 'labelled messages'
complete -c pushpull -n "__fish_seen_subcommand_from check" -l min-accuracy -x -d 'fail below this role accuracy (percent)'
complete -c pushpull -n "__fish_seen_subcommand_from check" -l quiet -d 'print only problems and the summary'
complete -c pushpull -n "__fish_seen_subcommand_from check" -l read -x -d 'how the language layer reads a message'

complete -c pushpull -n "__fish_seen_subcommand_from telegram matrix" -l token-file -r -F -d 'token file'
complete -c pushpull -n "__fish_seen_subcommand_from telegram matrix" -l log-text -d 'log message text'
complete -c pushpull -n "__fish_seen_subcommand_from telegram matrix" -l log-rules -d 'log rule, framework, role (debugging)'
complete -c pushpull -n "__fish_seen_subcommand_from telegram matrix" -l allow-insecure-http -d 'allow http:// off this machine'
complete -c pushpull -n "__fish_seen_subcommand_from telegram" -l api-url -x -d 'Bot API URL'
complete -c pushpull -n "__fish_seen_subcommand_from telegram" -l workers -x -d 'worker threads'
complete -c pushpull -n "__fish_seen_subcommand_from telegram" -l max-backoff -x -d 'seconds'
complete -c pushpull -n "__fish_seen_subcommand_from telegram" -l max-chats -x -d 'chats'
complete -c pushpull -n "__fish_seen_subcommand_from telegram" -l keep-unsent -x -d 'seconds'
complete -c pushpull -n "__fish_seen_subcommand_from telegram" -l poll-timeout -x -d 'seconds'
complete -c pushpull -n "__fish_seen_subcommand_from matrix" -a login -d 'log in and store a token'
complete -c pushpull -n "__fish_seen_subcommand_from matrix" -l homeserver -x -d 'homeserver URL'
complete -c pushpull -n "__fish_seen_subcommand_from matrix" -l allow -x -d 'accept invites from (glob)'
complete -c pushpull -n "__fish_seen_subcommand_from matrix" -l sync-timeout -x -d 'milliseconds'
complete -c pushpull -n "__fish_seen_subcommand_from matrix" -l user -x -d 'login user'
complete -c pushpull -n "__fish_seen_subcommand_from matrix" -l password-file -r -F -d 'login password file'
