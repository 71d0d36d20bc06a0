#!/usr/bin/env bash
# telegram_urls.sh -- what --api-url takes, checked before any request:
#  - http:// to another machine is refused (exit 2, a message naming
#    --allow-insecure-http): the token is in every request's URL;
#  - a malformed URL ("http://a b", port 99999) is a usage error (exit 2),
#    not a retry loop;
#  - http://localhost:PORT (this machine) is taken without the flag and the
#    bot runs against the fake; with --allow-insecure-http the other
#    machine's URL gets past the check.
# 192.0.2.2 is TEST-NET and must never be contacted: every run that names
# it has a malformed token, which the bot refuses (exit 1, token_invalid)
# before any network I/O -- so even a bot without the URL check could not
# connect, it would only fail this test with the wrong exit status.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=919191:TEST-urls-token-Uu7
BADTOK='not a token'

# refuse URL WANT_EXIT MESSAGE_REGEX [flags...]
refuse() {
    local url=$1 want=$2 re=$3; shift 3
    TELEGRAM_BOT_TOKEN=$BADTOK "$PUSHPULL" telegram --api-url "$url" --state "$TMPDIR/state.db" \
        --rules "$SRC/rules" "$@" >"$TMPDIR/u.out" 2>"$TMPDIR/u.err"
    local st=$?
    [ "$st" = "$want" ] || fail "--api-url $url $*: exit $st, want $want: $(cat "$TMPDIR/u.err")"
    grep -q -E -- "$re" "$TMPDIR/u.err" || fail "--api-url $url: no message matching $re: $(cat "$TMPDIR/u.err")"
    echo "$url $*: exit $st: $(head -n 1 "$TMPDIR/u.err" | cut -c1-150)"
}
refuse http://192.0.2.2:8081 2 'api-url .*--allow-insecure-http'
refuse http://api.telegram.org 2 '--allow-insecure-http'
refuse 'http://a b' 2 'api-url .*host name cannot have'
refuse http://127.0.0.1:99999 2 'api-url .*port'
refuse ftp://127.0.0.1 2 'api-url .*http:// or https://'
# with the flag the check lets the other machine's URL through: what stops
# the bot now is the token, which is read before any request
refuse http://192.0.2.2:8081 1 'token_invalid' --allow-insecure-http
# ... while a malformed URL stays one
refuse 'http://a b' 2 'host name cannot have' --allow-insecure-http

# this machine by name, without the flag: the bot runs
start_fake "$SC/forget.json"
TOKEN=818181:TEST-forget-token-Rr4
API=http://localhost:$PORT
start_bot bot "$TOKEN"
for _ in $(seq 100); do grep -q 'event=started' "$TMPDIR/bot.err" && break; sleep 0.1; done
grep -q 'event=started' "$TMPDIR/bot.err" || fail "http://localhost was not taken"
wait_sent 1 30 || fail "nothing answered through http://localhost"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
no_token "$TOKEN" "$TMPDIR/bot.err" "$TMPDIR/bot.out"
echo "telegram_urls: all checks passed"
