#!/usr/bin/env bash
# store_faults -- a state file that exists but cannot be used, made so for
# real (the tests run as root, who ignores mode bits, so each fault is one
# root also hits): another process holding an exclusive lock (BUSY), a file
# that is not a database (CORRUPT), a directory no -wal can be made in
# (chattr +i), a read-only mount, a full disk (a small tmpfs).
#
# For each: `pushpull reply` carries on in memory and says what is wrong in
# words of that class -- only the corrupt file is "damaged"/"move it away"
# -- and /forget says it could not delete anything, naming the file,
# instead of "I kept nothing on disk"; the file keeps its rows.  That
# sentence stays for --no-state and when there is truly no file.
# A fault this machine cannot make (no chattr on the file system, no mount
# permission) is reported as skipped, by name.
set -eu
P=$PUSHPULL
T=$TMPDIR
fail() { echo "FAIL: $*"; exit 1; }
mounts=()
holder=
cleanup() {
    [ -n "$holder" ] && kill "$holder" 2>/dev/null
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done
    chattr -i "$T/imm" 2>/dev/null || true
}
trap cleanup EXIT

sessions() {   # rows in the session table (a read-write connection: the
               # last to close removes -wal and -shm, as pushpull's does)
    python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("SELECT count(*) FROM session").fetchone()[0]); c.close()' "$1"
}
healthy() {    # a state file with one conversation in it, closed cleanly
    mkdir -p "$(dirname "$1")"
    echo "my wife Sam never listens to me" | $P reply --session s --state "$1" >/dev/null
    [ "$(sessions "$1")" = 1 ] || fail "could not make a healthy store at $1"
}
# try NAME DB WANT: a line and /forget on DB; stderr must hold WANT and,
# unless NAME is corrupt, not the damaged-file advice; /forget must refuse.
try() {
    local name=$1 db=$2 want=$3
    printf 'I feel alone\n/forget\n' | $P reply --session s --state "$db" >"$T/$name.out" 2>"$T/$name.err" ||
        fail "$name: reply exited $?"
    grep -q "continuing without saving" "$T/$name.err" || fail "$name: opened? $(cat "$T/$name.err")"
    grep -q -- "$want" "$T/$name.err" || fail "$name: no '$want' in: $(cat "$T/$name.err")"
    if [ "$name" != corrupt ] && grep -E -q 'damaged|move it away' "$T/$name.err"; then
        fail "$name: a healthy file called damaged: $(cat "$T/$name.err")"
    fi
    local forget
    forget=$(sed -n 2p "$T/$name.out")
    case $forget in
        *"kept nothing on disk"*) fail "$name: /forget claims nothing was kept: $forget" ;;
        *"couldn't delete anything"*"$db"*) ;;
        *) fail "$name: /forget does not say it could not delete $db: $forget" ;;
    esac
    echo "$name: $(head -c 160 "$T/$name.err" | head -1)"
}

# ---- BUSY: another process holds an exclusive lock ------------------------
db=$T/busy/state.db
healthy "$db"
mkfifo "$T/hold.in"
cat >"$T/hold.py" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA locking_mode = EXCLUSIVE")
c.execute("BEGIN EXCLUSIVE")
c.execute("UPDATE session SET updated = updated")
open(sys.argv[2], "w").close()
sys.stdin.read()            # hold the lock until the test lets go
c.execute("ROLLBACK")
EOF
python3 "$T/hold.py" "$db" "$T/held" <"$T/hold.in" &
holder=$!
exec 4>"$T/hold.in"
for _ in $(seq 600); do [ -e "$T/held" ] && break; sleep 0.05; done
[ -e "$T/held" ] || fail "the lock holder did not start"
try busy "$db" "locked"
exec 4>&-
wait "$holder"; holder=
[ "$(sessions "$db")" = 1 ] || fail "busy: the rows went"
echo "/forget" | $P reply --session s --state "$db" | grep -q "deleted everything" ||
    fail "busy: /forget once the lock is gone"

# ---- CORRUPT: not a database ----------------------------------------------
db=$T/corrupt.db
head -c 5000 /dev/urandom >"$db"
try corrupt "$db" "move it away"

# ---- CANTOPEN: a directory nothing can be created in ------------------------
db=$T/imm/state.db
healthy "$db"
if chattr +i "$T/imm" 2>/dev/null; then
    try immutable-dir "$db" "cannot be made next to it"
    chattr -i "$T/imm"
    [ "$(sessions "$db")" = 1 ] || fail "immutable-dir: the rows went"
else
    echo "skipped immutable-dir: chattr +i is not supported here"
fi

# ---- READONLY: a read-only mount ----------------------------------------
healthy "$T/rw/state.db"
mkdir -p "$T/ro"
if mount --bind "$T/rw" "$T/ro" 2>/dev/null; then
    mounts+=("$T/ro")
    if mount -o remount,ro,bind "$T/ro" 2>/dev/null; then
        try readonly "$T/ro/state.db" "cannot be written here"
    else
        echo "skipped readonly: cannot remount read-only here"
    fi
else
    echo "skipped readonly: no permission to mount here"
fi

# ---- FULL: a full disk ----------------------------------------------------
mkdir -p "$T/full"
if mount -t tmpfs -o size=1m tmpfs "$T/full" 2>/dev/null; then
    mounts+=("$T/full")
    healthy "$T/full/state.db"
    dd if=/dev/zero of="$T/full/fill" bs=4k 2>/dev/null || true
    try full "$T/full/state.db" "disk is full"
    rm -f "$T/full/fill"
    [ "$(sessions "$T/full/state.db")" = 1 ] || fail "full: the rows went"
else
    echo "skipped full: no permission to mount a tmpfs here"
fi

# ---- no file: "I kept nothing on disk" is true ------------------------------
out=$(printf 'hi\n/forget\n' | $P reply --no-state | sed -n 2p)
case $out in *"kept nothing on disk"*) ;; *) fail "--no-state /forget: $out" ;; esac
: >"$T/afile"
out=$(printf 'hi\n/forget\n' | $P reply --state "$T/afile/sub/state.db" 2>/dev/null | sed -n 2p)
case $out in *"kept nothing on disk"*) ;; *) fail "no file could be made: /forget: $out" ;; esac
echo "no file: /forget says nothing was kept"
