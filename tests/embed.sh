#!/usr/bin/env bash
# tests/embed.sh -- libpushpull as another program embeds it.
#
# Installs the built library and the shipped rules into a temporary root
# (`make install-lib install-data DESTDIR=$TMPDIR/root PREFIX=/usr`: the
# library half of `make install`, which builds nothing that depends on
# PREFIX; the program half would recompile app/common.o with another share
# dir under the running suite's feet), then writes a small C program that
# knows the coach only through the installed pushpull.h and
# `pkg-config --cflags --libs pushpull`, and builds it twice: against
# libpushpull.a and against libpushpull.so (run with LD_LIBRARY_PATH).
# Both load the installed rules and must answer "he pulls away every time
# we get close" with a framework, as `pushpull reply` does.
#
# It also holds the library to its contract: libpushpull.so NEEDs no
# libcurl or libreadline, exports every function pushpull.h declares and
# nothing else, and no object of libpushpull.a calls printf, puts, exit,
# abort, signal handling, curl or readline.
set -u
B=$(realpath --relative-to="$SRC" "$(dirname "$PUSHPULL")")
ROOT=$TMPDIR/root
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

# The sanitizer build's library needs the sanitizer runtime in its users.
SAN=; EMBED_SAN=
if nm -A "$SRC/$B/libpushpull.a" 2>/dev/null | grep -q ' U __asan_report'; then
    SAN=1; EMBED_SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
fi

make -s -C "$SRC" B="$B" SAN="$SAN" DESTDIR="$ROOT" PREFIX=/usr install-lib install-data \
    || { echo "FAIL: make install-lib install-data"; exit 1; }
for f in usr/include/pushpull.h usr/lib/libpushpull.a usr/lib/libpushpull.so \
         usr/lib/libpushpull.so.0 usr/lib/pkgconfig/pushpull.pc \
         usr/share/pushpull/rules/safety.rules; do
    [ -e "$ROOT/$f" ] || fail "not installed: /$f"
done
so=$(readlink -f "$ROOT/usr/lib/libpushpull.so")
case $(basename "$so") in libpushpull.so.0.*) ;; *) fail "libpushpull.so -> $so, not libpushpull.so.0.x";; esac
readelf -d "$so" | grep -q 'SONAME.*\[libpushpull\.so\.0\]' || fail "soname is not libpushpull.so.0"

# --- the library's own dependencies --------------------------------------
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "libpushpull.so needs:" $needed
for bad in libcurl libreadline libhistory libtinfo libncurses; do
    echo "$needed" | grep -q "^$bad" && fail "libpushpull.so needs $bad"
done
echo "$needed" | grep -q '^libpcre2-8' || fail "libpushpull.so does not need libpcre2-8 (is it the engine?)"
# Exact names only: a sanitizer's __ubsan_handle_*_abort is fine.
banned='printf|fprintf|vprintf|vfprintf|dprintf|puts|fputs|fputc|putchar|putc|perror|exit|_exit|_Exit|abort|__assert_fail|signal|sigaction|raise|kill'
calls=$(nm -u "$ROOT/usr/lib/libpushpull.a" | awk '{print $2}' | sort -u)
bad=$(echo "$calls" | grep -E "^($banned)(@.*)?$|^(curl_|readline|rl_|add_history)")
[ -z "$bad" ] || fail "libpushpull.a calls what a library must not:" $bad

# --- what the .so exports is pushpull.h --------------------------------------
hdr=$(cc -E -P -x c "$ROOT/usr/include/pushpull.h")
funcs=$(echo "$hdr" | grep -oE '\bpp_[A-Za-z0-9_]+ *\(' | grep -oE 'pp_[A-Za-z0-9_]+' | sort -u)
vars=$(echo "$hdr" | grep -E '^ *extern ' | grep -oE '\bpp_[A-Za-z0-9_]+ *(\[|;)' | grep -oE 'pp_[A-Za-z0-9_]+' | sort -u)
names=$(echo "$hdr" | grep -oE '\bpp_[A-Za-z0-9_]+' | sort -u)
exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | sort -u)
[ "$(echo "$funcs" | wc -w)" -ge 40 ] || fail "found only $(echo "$funcs" | wc -w) functions in pushpull.h"
for s in $funcs $vars; do
    echo "$exported" | grep -qx "$s" || fail "pushpull.h declares $s, libpushpull.so does not define it"
done
for s in $exported; do
    case $s in _init|_fini|__bss_start|_edata|_end) continue;; esac
    echo "$names" | grep -qx "$s" || fail "libpushpull.so exports $s, which is not in pushpull.h"
done
echo "pushpull.h: $(echo "$funcs" | wc -w) functions, $(echo "$vars" | wc -w) variables; libpushpull.so exports $(echo "$exported" | wc -w) names"

# --- a program that embeds the coach -------------------------------------
cat > "$TMPDIR/embed.c" <<'EOF'
/* embed.c -- the coach in another program: load the rules, answer one line. */
#include <pushpull.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: embed RULES RESPONSES MESSAGE\n"); return 2; }
    pp_load_options opt = { argv[1], argv[2], NULL };
    pp_errors errs;
    pp_errors_init(&errs);
    pp_ruleset *rs = pp_rules_load(&opt, &errs);
    for (size_t i = 0; i < errs.count; i++) fprintf(stderr, "%s\n", errs.msg[i]);
    pp_errors_clear(&errs);
    if (!rs) return 1;
    char why[300];
    if (pp_rules_check_crisis(rs, why, sizeof why) < 0) {   /* > 0: covered */
        fprintf(stderr, "no crisis rules: %s\n", why);
        pp_rules_free(rs);
        return 1;
    }
    pp_session *s = pp_session_new();
    pp_reply r;
    int rc = s ? pp_reply_make(rs, s, argv[3], strlen(argv[3]), &r) : -1;
    if (rc == 0) {
        printf("version %s\nrule %s\nframework %s\nsafety %d\ntext %s\n", PP_VERSION,
               r.rule ? r.rule : "-", r.framework ? r.framework : "-", r.safety, r.text);
        pp_reply_clear(&r);
    }
    pp_session_free(s);
    pp_rules_free(rs);
    return rc == 0 ? 0 : 1;
}
EOF
export PKG_CONFIG_PATH=$ROOT/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$ROOT
pkg-config --exists pushpull || { echo "FAIL: pkg-config does not find pushpull"; exit 1; }
cflags=$(pkg-config --cflags pushpull)
libs=$(pkg-config --libs pushpull)
deps=$(pkg-config --static --libs pushpull | sed 's/-lpushpull//')
echo "pkg-config: --cflags $cflags; --libs $libs; --static adds $deps"
[ "$(PKG_CONFIG_SYSROOT_DIR= pkg-config --modversion pushpull)" = "$(sed -n 's/^#define PP_VERSION "\(.*\)"/\1/p' "$SRC/engine/pushpull.h")" ] \
    || fail "pushpull.pc's version is not PP_VERSION"
rules=$ROOT$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=rulesdir pushpull)
responses=$ROOT$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=responsesdir pushpull)
[ -d "$rules" ] && [ -d "$responses" ] || fail "pushpull.pc's rulesdir/responsesdir are not installed: $rules $responses"

# No -I or -L into the source tree: only what was installed.
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror $EMBED_SAN -o "$TMPDIR/embed-shared" "$TMPDIR/embed.c" $cflags $libs \
    || fail "cannot build against libpushpull.so"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror $EMBED_SAN -o "$TMPDIR/embed-static" "$TMPDIR/embed.c" $cflags \
    -Wl,-Bstatic $libs -Wl,-Bdynamic $deps || fail "cannot build against libpushpull.a"
readelf -d "$TMPDIR/embed-shared" | grep -q 'NEEDED.*libpushpull\.so\.0' || fail "embed-shared does not need libpushpull.so.0"
readelf -d "$TMPDIR/embed-static" | grep -q 'NEEDED.*libpushpull' && fail "embed-static needs libpushpull.so"
LD_LIBRARY_PATH=$ROOT/usr/lib ldd "$TMPDIR/embed-shared" | grep -q "libpushpull.so.0 => $ROOT/usr/lib/" \
    || fail "embed-shared does not load the installed libpushpull.so"

msg="he pulls away every time we get close"
want=$(printf '%s\n' "$msg" | "$PUSHPULL" reply --json --no-state --rules "$rules" --responses "$responses" |
       python3 -c 'import json,sys; j=json.loads(sys.stdin.readline()); print(j["rule"], j["framework"])')
echo "pushpull reply: $want"
for kind in static shared; do
    out=$(LD_LIBRARY_PATH=$ROOT/usr/lib "$TMPDIR/embed-$kind" "$rules" "$responses" "$msg" 2>&1)
    rc=$?
    echo "embed-$kind (exit $rc):"; echo "$out" | sed 's/^/  /'
    [ $rc -eq 0 ] || { fail "embed-$kind exited $rc"; continue; }
    fw=$(echo "$out" | sed -n 's/^framework //p')
    [ -n "$fw" ] && [ "$fw" != - ] || fail "embed-$kind: no framework"
    [ "$(echo "$out" | sed -n 's/^safety //p')" = 0 ] || fail "embed-$kind: a safety reply"
    [ -n "$(echo "$out" | sed -n 's/^text //p')" ] || fail "embed-$kind: no reply text"
    [ "$(echo "$out" | sed -n 's/^rule //p') $fw" = "$want" ] || fail "embed-$kind: rule and framework differ from pushpull reply's ($want)"
done
# ... and a program that loses the library does not run
env -u LD_LIBRARY_PATH "$TMPDIR/embed-static" "$rules" "$responses" "$msg" >/dev/null 2>&1 || fail "embed-static needs LD_LIBRARY_PATH"
if ! ldconfig -p 2>/dev/null | grep -q libpushpull.so.0; then
    env -u LD_LIBRARY_PATH "$TMPDIR/embed-shared" "$rules" "$responses" "$msg" >/dev/null 2>&1 \
        && fail "embed-shared ran without finding libpushpull.so (is it really shared?)"
fi

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "embed: ok"
