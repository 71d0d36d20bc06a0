#!/usr/bin/env bash
# manpage.sh -- docs/pushpull.1 documents the program as it is: the
# sections a man page owes (NAME, SYNOPSIS, DESCRIPTION, ENVIRONMENT, FILES,
# EXAMPLES, EXIT STATUS), every subcommand `pushpull --help` lists (and
# `matrix login`), and every option that any subcommand's --help names; man
# formats it without a warning.  A new option or subcommand without a word
# in the page fails here.
set -u
M=$SRC/docs/pushpull.1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
for sec in NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES EXAMPLES "EXIT STATUS" "SEE ALSO"; do
    grep -q "^\.SH $sec\$" "$M" || fail "no $sec section"
done
subs=$("$PUSHPULL" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}')
[ "$(echo "$subs" | wc -w)" -ge 6 ] || fail "could not read the subcommands from --help: $subs"
n=0
for sub in $subs "matrix login"; do
    grep -q "^\.B $sub\$" "$M" || fail "subcommand '$sub' has no entry (.B $sub) in SUBCOMMANDS"
    grep -q -e "^\.B pushpull $sub\$" -e "^\[\\\\fB$sub\\\\fR\]" "$M" || fail "subcommand '$sub' is not in the SYNOPSIS"
    # shellcheck disable=SC2086
    for opt in $("$PUSHPULL" $sub --help 2>&1 | grep -oE '(^|[ ,(])--[a-z][a-z-]*' | grep -oE -- '--[a-z-]*' | sort -u); do
        roff=$(echo "$opt" | sed 's/-/\\\\-/g')
        grep -q -- "$roff" "$M" || fail "pushpull $sub: $opt is not in the man page"
        n=$((n+1))
    done
done
if command -v man >/dev/null 2>&1; then
    sed 's/@[A-Z]*@/X/g' "$M" >"$TMPDIR/p.1"
    warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$TMPDIR/p.1" 2>&1 >/dev/null)
    [ -z "$warn" ] || fail "man warns: $(echo "$warn" | head -n 3)"
fi
echo "man page: $(echo $subs | wc -w) subcommands and matrix login, $n options checked"
[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
