#!/usr/bin/env bash
# run.sh: early (one of the longest cases; tests/run.sh starts it first)
# install.sh -- the build and install as a Debian package does them, from a
# copy of the tree (never the running suite's build/):
#   make PREFIX=/usr CPPFLAGS=.. CFLAGS=.. LDFLAGS=..   (dpkg-buildflags)
#   make install DESTDIR=$TMPDIR/root PREFIX=/usr       (twice)
#   make uninstall DESTDIR=$TMPDIR/root PREFIX=/usr
# Checks: the caller's flags reach every compile and link (the program and
# libpushpull.so call glibc's __*_chk, so _FORTIFY_SOURCE=2 took effect;
# GNU_RELRO), our feature macros are ours (readline's pkg-config
# -D_XOPEN_SOURCE=600 is not used); install after the build compiles and
# links nothing and writes nothing into the source tree (so `make && sudo
# make install` leaves no root-owned files in build/); the layout: program,
# man page, docs, env file examples, units, completions, header, .a, .so,
# pc file, rules, with /usr substituted and no @VAR@ left; the installed
# program answers from the installed rules; uninstall leaves no file.
# Plain pass only (it builds its own tree; SAN adds nothing but minutes).
set -u
if [ "${SAN:-}" = 1 ]; then
    echo "install: skipped in the SAN pass (it builds its own copy; the plain pass runs it)"
    exit 77
fi
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
S=$TMPDIR/src ROOT=$TMPDIR/root
mkdir -p "$S" "$ROOT"
tar -C "$SRC" --exclude=./build --exclude=./.git -cf - . | tar -C "$S" -xf - || { echo "FAIL: copy"; exit 1; }
unset CPPFLAGS CFLAGS LDFLAGS LDLIBS DESTDIR PREFIX
flags=()
if command -v dpkg-buildflags >/dev/null 2>&1; then
    flags=(CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" CFLAGS="$(dpkg-buildflags --get CFLAGS)"
           LDFLAGS="$(dpkg-buildflags --get LDFLAGS)")
elif command -v dpkg >/dev/null 2>&1; then
    echo "FAIL: dpkg-buildflags is missing (make test-deps installs dpkg-dev)"; exit 1
else
    echo "install: not Debian, no dpkg-buildflags: built with -D_FORTIFY_SOURCE=2 -O2 by hand"
    flags=(CPPFLAGS="-D_FORTIFY_SOURCE=2" CFLAGS="-O2 -g -fstack-protector-strong" LDFLAGS="-Wl,-z,relro")
fi
M() { make --no-print-directory -C "$S" PREFIX=/usr "$@"; }

# --- the build, with the caller's flags -----------------------------------
echo "install: building a copy of the tree (PREFIX=/usr, the caller's flags)"
M -j2 all "${flags[@]}" >"$TMPDIR/build.log" 2>&1 || { tail -n 30 "$TMPDIR/build.log"; echo "FAIL: the build"; exit 1; }
# one command a line (make prints a recipe's continued lines as they are)
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$TMPDIR/build.log" >"$TMPDIR/cmds.log"
compiles=$(grep -E ' -c -o ' "$TMPDIR/cmds.log")
ncomp=$(echo "$compiles" | grep -c .)
echo "build: $ncomp compiles with ${flags[*]}"
[ "$ncomp" -gt 10 ] || fail "only $ncomp compile lines in the build log"
cppf=${flags[0]#CPPFLAGS=}; cf=${flags[1]#CFLAGS=}; lf=${flags[2]#LDFLAGS=}
miss=$(echo "$compiles" | grep -v -F -e "$cppf" | head -n 1)
[ -z "$miss" ] || fail "a compile without the caller's CPPFLAGS: $miss"
miss=$(echo "$compiles" | grep -v -F -e "$cf" | head -n 1)
[ -z "$miss" ] || fail "a compile without the caller's CFLAGS: $miss"
links=$(grep -E ' -o build/(pushpull|libpushpull\.so\.[0-9.]+) ' "$TMPDIR/cmds.log")
[ "$(echo "$links" | grep -c .)" -eq 2 ] || fail "expected 2 links (program, .so): $(echo "$links" | grep -c .)"
miss=$(echo "$links" | grep -v -F -e "$lf" | head -n 1)
[ -z "$miss" ] || fail "a link without the caller's LDFLAGS: $miss"
echo "$compiles" | grep -q -e '-D_XOPEN_SOURCE=600' && fail "a dependency's -D_XOPEN_SOURCE=600 is on a compile line"
echo "$compiles" | grep -v -q -e '-D_XOPEN_SOURCE=700' && fail "a compile without our -D_XOPEN_SOURCE=700"
grep -E 'warning:' "$TMPDIR/build.log" | head -n 5 | sed 's/^/  /'
for f in build/pushpull build/libpushpull.so.*.*; do
    chk=$(nm -D "$S"/$f 2>/dev/null | grep -oE '__[a-z]+_chk' | sort -u | tr '\n' ' ')
    echo "$f: fortify: ${chk:-none}"
    echo "$chk" | grep -qE '__(memcpy|snprintf|vsnprintf|fprintf|strcpy|memset|printf)_chk' \
        || fail "$f calls no __*_chk: _FORTIFY_SOURCE did not take effect"
    readelf -lW "$S"/$f | grep -q GNU_RELRO || fail "$f has no GNU_RELRO (LDFLAGS -z relro)"
done

# --- install, twice: nothing built, nothing written in the tree -----------
touch "$TMPDIR/marker"; sleep 1
for i in 1 2; do
    M install DESTDIR="$ROOT" >"$TMPDIR/install$i.log" 2>&1 || { tail -n 20 "$TMPDIR/install$i.log"; fail "make install ($i)"; }
    built=$(grep -E ' -c -o | -o build/|^(ar|\S*-?ar) rcs ' "$TMPDIR/install$i.log")
    [ -z "$built" ] && echo "install $i: compiled and linked nothing" || fail "install $i built: $(echo "$built" | head -n 3)"
done
written=$(find "$S" -newer "$TMPDIR/marker" | head -n 5)
[ -z "$written" ] || fail "make install wrote into the source tree: $written"

# --- the layout ---------------------------------------------------------------
U=$ROOT/usr
for f in bin/pushpull share/man/man1/pushpull.1 share/doc/pushpull/README.md \
         share/doc/pushpull/deploy.md share/doc/pushpull/matrix.md \
         share/doc/pushpull/examples/pushpull-telegram.env share/doc/pushpull/examples/pushpull-matrix.env \
         lib/systemd/system/pushpull-telegram.service lib/systemd/system/pushpull-matrix.service \
         share/bash-completion/completions/pushpull share/zsh/vendor-completions/_pushpull \
         share/fish/vendor_completions.d/pushpull.fish \
         include/pushpull.h lib/libpushpull.a lib/libpushpull.so lib/libpushpull.so.0 lib/pkgconfig/pushpull.pc \
         share/pushpull/rules/safety.rules share/pushpull/responses/resources.tsv \
         share/pushpull/programs/ten-weeks.program share/pushpull/programs/00-answers.program; do
    [ -e "$U/$f" ] || fail "not installed: /usr/$f"
done
[ -x "$U/bin/pushpull" ] || fail "/usr/bin/pushpull is not executable"
left=$(grep -H -E '@[A-Z]+@' "$U/share/man/man1/pushpull.1" "$U"/lib/systemd/system/*.service \
       "$U"/share/doc/pushpull/examples/*.env "$U/lib/pkgconfig/pushpull.pc" 2>/dev/null | grep -v ':#')
[ -z "$left" ] || fail "placeholders left in: $left"
left=$(grep -l '/usr/local' "$U/share/man/man1/pushpull.1" "$U"/lib/systemd/system/*.service "$U/lib/pkgconfig/pushpull.pc")
[ -z "$left" ] || fail "/usr/local in files installed for /usr: $left"
grep -q '/usr/share/pushpull/rules' "$U/share/man/man1/pushpull.1" || fail "the man page does not name /usr/share/pushpull/rules"
grep -q '/usr/share/doc/pushpull' "$U/share/man/man1/pushpull.1" || fail "the man page does not name /usr/share/doc/pushpull"
for b in telegram matrix; do
    u=$U/lib/systemd/system/pushpull-$b.service
    grep -q "^ExecStart=/usr/bin/pushpull $b " "$u" || fail "$u: ExecStart is not /usr/bin/pushpull $b"
    grep -q "^StateDirectory=pushpull-$b$" "$u" || fail "$u: not its own StateDirectory"
    grep -q "^EnvironmentFile=-\?/etc/pushpull/$b.env$" "$u" || fail "$u: no EnvironmentFile=/etc/pushpull/$b.env"
    grep -q "^LoadCredential=$b.token:/etc/pushpull/$b.token$" "$u" || fail "$u: the credential path"
    grep -q "file:/usr/share/doc/pushpull/" "$u" || fail "$u: Documentation= does not point at /usr/share/doc"
done
# the hardening, as systemd scores it (a tool of the machine, not a
# dependency: checked where it is there; 5.6 before issue 21's hardening)
if command -v systemd-analyze >/dev/null 2>&1; then
    for b in telegram matrix; do
        score=$(cd "$U/lib/systemd/system" && systemd-analyze security --offline=yes "pushpull-$b.service" 2>&1 |
                sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
        echo "systemd-analyze security pushpull-$b: ${score:-?}"
        awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }' || fail "pushpull-$b.service: exposure ${score:-unknown}, want <= 2.0"
    done
else
    echo "install: no systemd-analyze here: the units' exposure score not checked"
fi
grep -q '^prefix=/usr$' "$U/lib/pkgconfig/pushpull.pc" || fail "pushpull.pc: prefix is not /usr"
if command -v man >/dev/null 2>&1; then
    MANWIDTH=80 man -l "$U/share/man/man1/pushpull.1" >"$TMPDIR/man.txt" 2>"$TMPDIR/man.err" || fail "man cannot format the page"
    grep -i -E 'warning|cannot' "$TMPDIR/man.err" | head -n 3
fi
out=$(echo "he pulls away every time we get close" | "$U/bin/pushpull" reply --json --no-state \
      --rules "$U/share/pushpull/rules" --responses "$U/share/pushpull/responses")
echo "$out" | grep -q '"framework": *"[a-z]' || fail "the installed program did not answer from the installed rules: ${out:0:200}"
# the installed program finds the installed programs (issue 24)
out=$(printf '/plan\n' | "$U/bin/pushpull" chat --no-state \
      --rules "$U/share/pushpull/rules" --responses "$U/share/pushpull/responses" \
      --programs "$U/share/pushpull/programs" 2>&1)
echo "$out" | grep -q '/plan ten-weeks' || fail "the installed program does not list the installed programs: ${out:0:200}"
echo "installed: $(find "$ROOT" -type f | wc -l) files, $(find "$ROOT" -type l | wc -l) links"

# --- uninstall ----------------------------------------------------------------
# an operator's own rule file in the share dir is not ours to remove
echo "# mine" >"$U/share/pushpull/rules/local.rules"
M uninstall DESTDIR="$ROOT" >"$TMPDIR/uninstall.log" 2>&1 || { tail -n 20 "$TMPDIR/uninstall.log"; fail "make uninstall"; }
[ -f "$U/share/pushpull/rules/local.rules" ] || fail "uninstall removed a rule file it did not install"
rm -f "$U/share/pushpull/rules/local.rules"
left=$(find "$ROOT" ! -type d)
[ -z "$left" ] && echo "uninstall: no file of ours left (an operator's own rule file kept)" || fail "uninstall left: $(echo "$left" | head -n 5)"
[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "install: ok"
