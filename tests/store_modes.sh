#!/usr/bin/env bash
# store_modes -- the state file, its -wal and its -shm are 0600 before the
# first write, also when an earlier run (or another program) left them
# readable to others: checked while `pushpull reply` is still running (the
# WAL holds the partner's name then) and after it was killed with SIGKILL.
#  1. a 0644 database with 0644 -wal and -shm left by a killed run;
#  2. a 0644 database without them (SQLite makes the -wal with the
#     database's mode: it used to be made before the file was tightened).
set -eu
P=$PUSHPULL
T=$TMPDIR
fail() { echo "FAIL: $*"; exit 1; }
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; true' EXIT

wait_lines() {
    for _ in $(seq 600); do
        [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    fail "no answer in $1"
}
# Start `reply` on db reading from a fifo, say one line, wait for the answer.
start() {
    rm -f "$T/in" "$T/out"
    mkfifo "$T/in"
    $P reply --session s --state "$1" <"$T/in" >"$T/out" 2>"$T/err" &
    pid=$!
    exec 3>"$T/in"
    echo "$2" >&3
    wait_lines "$T/out" 1
}
kill9() { kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=; exec 3>&-; }
modes() {   # want db when: every one of the three files exists with mode 600
    for f in "$1" "$1-wal" "$1-shm"; do
        [ -e "$f" ] || fail "$3: $f is missing $2"
        m=$(stat -c %a "$f")
        [ "$m" = 600 ] || fail "$3: $f has mode $m $2"
    done
}

# ---- 1. leftovers of a killed run, all 0644 -------------------------------
db=$T/one/state.db
mkdir -p "$T/one"
start "$db" "my wife never listens to me"
kill9
[ -e "$db-wal" ] && [ -e "$db-shm" ] || fail "a killed run left no -wal/-shm"
chmod 0644 "$db" "$db-wal" "$db-shm"
start "$db" "my girlfriend Zelda never listens to me"
modes "$db" "while running" leftovers
grep -a -q girlfriend "$db-wal" "$db" || fail "the partner's name is not on disk: the test would not show a leak"
kill9
modes "$db" "after kill -9" leftovers
echo "leftovers: database, -wal and -shm 0600 while running and after kill -9"

# ---- 2. a 0644 database, no -wal yet ----------------------------------------
db=$T/two/state.db
mkdir -p "$T/two"
(umask 022; python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE mine (x)"); c.commit(); c.close()' "$db")
[ "$(stat -c %a "$db")" = 644 ] || fail "could not make a 0644 database"
[ ! -e "$db-wal" ] || fail "a -wal before the run"
start "$db" "my girlfriend Zelda never listens to me"
modes "$db" "while running" fresh-wal
kill9
modes "$db" "after kill -9" fresh-wal
echo "0644 database: its new -wal and -shm are 0600 too"
