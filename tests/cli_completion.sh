#!/usr/bin/env bash
# Shell completion: the bash function completes subcommands, options and
# their values (run here with COMP_WORDS, as bash would); every option that
# `pushpull SUBCOMMAND --help` names for chat, reply, reframe, check, export and sessions is
# in all three files (bash, zsh, fish); `make install-completions` puts them
# where bash-completion, zsh and fish look.  zsh -n and fish -n check the
# syntax where those shells are installed.
set -eu
P=$PUSHPULL
C=$SRC/completions
fail() { echo "FAIL: $*"; exit 1; }

# complete WORDS...: what the bash completion offers for the last word
complete_bash() {
    bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _pushpull pushpull "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$C/pushpull.bash" "$@"
}
has() {   # has WANT WORDS...: the completion of WORDS offers WANT
    local want=$1; shift
    complete_bash "$@" | grep -qx -- "$want" || fail "bash: '$*' does not offer $want: $(complete_bash "$@" | tr '\n' ' ')"
}
has chat pushpull ch
has check pushpull ch
has --new pushpull chat --n
has --no-state pushpull chat --n
has --new pushpull --n
has --min-accuracy pushpull check --min
has --json pushpull check --js
has --json pushpull reply --j
has gb pushpull chat --region ""
has uk pushpull reply --region u
has --color=always pushpull chat --color=a
has login pushpull matrix l
has export pushpull ex
has sessions pushpull se
has delete pushpull sessions d
has --json pushpull sessions --j
# the saved conversations' names, from the state file on the line
st="$TMPDIR/comp-state.db"
echo "he pulls away" | $P reply --state "$st" --session work-talk >/dev/null
echo "hello" | $P reply --state "$st" --session home-talk >/dev/null
pp_dir=$(dirname "$P")
PATH="$pp_dir:$PATH" has work-talk pushpull sessions --state "$st" delete w
PATH="$pp_dir:$PATH" has home-talk pushpull export --state "$st" --session h
if complete_bash pushpull sessions --j | grep -qx -- --session; then fail "bash: sessions offers --session"; fi
mkdir -p "$TMPDIR/msgs"; : >"$TMPDIR/msgs/one.txt"
has "$TMPDIR/msgs/one.txt" pushpull reply "$TMPDIR/msgs/o"
if complete_bash pushpull reframe --j | grep -qx -- --new; then fail "bash: reframe offers --new"; fi

# every option of --help, in every file
for sub in chat reply reframe check export sessions; do
    for o in $($P $sub --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        grep -q -- "$o\\b" "$C/pushpull.bash" || fail "bash completion lacks $sub $o"
        grep -q -- "[\"')]$o[=[]" "$C/_pushpull" || fail "zsh completion lacks $sub $o"
        grep -q -- "-l ${o#--}\\b" "$C/pushpull.fish" || fail "fish completion lacks $sub $o"
    done
done

# installed where the shells look
make -s -C "$SRC" DESTDIR="$TMPDIR/root" PREFIX=/usr install-completions >/dev/null \
    || fail "make install-completions"
for f in usr/share/bash-completion/completions/pushpull usr/share/zsh/vendor-completions/_pushpull \
         usr/share/fish/vendor_completions.d/pushpull.fish; do
    [ -f "$TMPDIR/root/$f" ] || fail "not installed: /$f ($(cd "$TMPDIR/root" && find . -type f))"
    [ "$(stat -c %a "$TMPDIR/root/$f")" = 644 ] || fail "/$f: mode $(stat -c %a "$TMPDIR/root/$f")"
done
bash -n "$C/pushpull.bash" || fail "bash -n"

# zsh: the line typed into an interactive zsh (zpty) and TAB pressed
zsh_offers() {   # zsh_offers LINE WANT...
    local line=$1; shift
    cat >"$TMPDIR/zcap.zsh" <<'ZSH'
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; PROMPT='> '"
zpty -w z "zstyle ':completion:*' menu no; LISTMAX=1000; zstyle ':completion:*' list-prompt ''"
zpty -n -w z "$2"$'\t'
sleep 2
local all='' chunk
while zpty -r -t z chunk; do all+=$chunk; done
print -r -- $all
zpty -d z
ZSH
    local got
    got=$(zsh -f "$TMPDIR/zcap.zsh" "$C" "$line" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | tr '\r' '\n')
    for w in "$@"; do
        echo "$got" | grep -qw -- "$w" || fail "zsh: '$line' does not offer $w: $got"
    done
}
# fish: complete -C
fish_offers() {   # fish_offers LINE WANT...
    local line=$1; shift
    local got
    got=$(fish -c "source '$C/pushpull.fish'; complete -C '$line'" | cut -f1)
    for w in "$@"; do
        echo "$got" | grep -qx -- "$w" || fail "fish: '$line' does not offer $w: $got"
    done
}
if command -v zsh >/dev/null; then
    zsh -n "$C/_pushpull" || fail "zsh -n"
    zsh_offers 'pushpull ch' chat check
    zsh_offers 'pushpull e' export
    zsh_offers 'pushpull sessions ' delete
    zsh_offers 'pushpull check --mi' --min-accuracy=
    zsh_offers 'pushpull chat --color=' auto always never
    zsh_offers 'pushpull reply --region=' gb uk us
else
    fail "no zsh: make test installs it (TESTDEBS); the zsh completion cannot be checked"
fi
if command -v fish >/dev/null; then
    fish -n "$C/pushpull.fish" || fail "fish -n"
    fish_offers 'pushpull ch' chat check
    fish_offers 'pushpull s' sessions
    fish_offers 'pushpull sessions ' delete
    PATH="$pp_dir:$PATH" fish_offers "pushpull sessions --state $st delete " work-talk home-talk
    fish_offers 'pushpull check --mi' --min-accuracy
    fish_offers 'pushpull chat --color ' auto always never
    fish_offers 'pushpull --region ' gb uk
    if fish -c "source '$C/pushpull.fish'; complete -C 'pushpull reframe --n'" | grep -q -- --new; then
        fail "fish: reframe offers --new"
    fi
else
    fail "no fish: make test installs it (TESTDEBS); the fish completion cannot be checked"
fi
echo "cli_completion ok"
