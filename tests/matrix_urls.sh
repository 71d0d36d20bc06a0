#!/usr/bin/env bash
# matrix_urls.sh -- what --homeserver takes (the bot and `matrix login`),
# checked before any request: http:// to another machine is refused (exit
# 2, a message naming --allow-insecure-http), a malformed URL is a usage
# error (exit 2), http://localhost:PORT is taken without the flag.
# 192.0.2.2 (TEST-NET) is never contacted: every run naming it has an
# access token with a space in it, or no password file, which the bot
# refuses before any request.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"

# refuse WANT_EXIT MESSAGE_REGEX ARGS...
refuse() {
    local want=$1 re=$2; shift 2
    MATRIX_ACCESS_TOKEN='not a token' "$PUSHPULL" matrix "$@" >"$TMPDIR/u.out" 2>"$TMPDIR/u.err"
    local st=$?
    [ "$st" = "$want" ] || mx_fail "matrix $*: exit $st, want $want: $(cat "$TMPDIR/u.err")"
    grep -q -E -- "$re" "$TMPDIR/u.err" || mx_fail "matrix $*: no message matching $re: $(cat "$TMPDIR/u.err")"
    echo "matrix $*: exit $st: $(head -n 1 "$TMPDIR/u.err" | cut -c1-150)"
}
st=(--state "$TMPDIR/u.db" --rules "$MX_RULES")
refuse 2 'homeserver .*--allow-insecure-http' --homeserver http://192.0.2.2:8008 "${st[@]}"
refuse 2 'homeserver .*--allow-insecure-http' --homeserver http://matrix.example.org "${st[@]}"
refuse 2 'homeserver .*host name cannot have' --homeserver 'http://a b' "${st[@]}"
refuse 2 'homeserver .*port' --homeserver http://127.0.0.1:99999 "${st[@]}"
refuse 2 'homeserver .*--allow-insecure-http' login --homeserver http://192.0.2.2:8008 --user coach \
    --password-file "$TMPDIR/nonexistent" --token-file "$TMPDIR/tok"
refuse 2 'homeserver .*port' login --homeserver https://h:0 --user coach \
    --password-file "$TMPDIR/nonexistent" --token-file "$TMPDIR/tok"
# with the flag the URL gets past the check; the bad token stops the bot
refuse 1 'access token is empty or has characters' --homeserver http://192.0.2.2:8008 \
    --allow-insecure-http "${st[@]}"
refuse 1 'cannot open password file' login --homeserver http://192.0.2.2:8008 --allow-insecure-http \
    --user coach --password-file "$TMPDIR/nonexistent" --token-file "$TMPDIR/tok"

# this machine by name, without the flag: login works
mx_server conversation
printf 'correct horse\n' >"$TMPDIR/pw"
out=$("$PUSHPULL" matrix login --homeserver "http://localhost:$(cat "$MX_D/port")" --user coach \
      --password-file "$TMPDIR/pw" --token-file "$TMPDIR/token" 2>&1) || mx_fail "login via localhost: $out"
[ "$(cat "$TMPDIR/token")" = "$MX_TOKEN" ] || mx_fail "login via localhost stored the wrong token"
case $out in *"$MX_TOKEN"*) mx_fail "login printed the token";; esac
echo "matrix_urls: all checks passed"
