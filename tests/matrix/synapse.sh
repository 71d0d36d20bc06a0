# synapse.sh -- the real homeserver shared by tests/*synapse*.sh and
# tests/matrix_e2e_keys.sh: Synapse 1.67 on loopback, from the testbed in
# ../shared/testbeds/synapse (its README says what `up` and `down` do).
# Sourcing this skips the case (exit 77, the reason as its last line) when
# the testbed is not there.  synapse_up starts a server in $D/hs with the
# users coach and alice (their ids and tokens in $D/hs/users.json);
# synapse_down stops it and fails the case if it still runs.  Whatever
# happens, the server is stopped on exit.
# Needs SRC and TMPDIR from tests/run.sh.
: "${SRC:?}" "${TMPDIR:?}"
SYNAPSE_TB=$SRC/../shared/testbeds/synapse
if [ ! -x "$SYNAPSE_TB/up" ] || [ ! -x "$SYNAPSE_TB/down" ]; then
    echo "SKIP: no Synapse testbed at $SYNAPSE_TB (the real-homeserver checks did not run)"
    exit 77
fi
D=$TMPDIR/synapse
SYNAPSE_PID=

# synapse_alive PID: a process with a command line (a zombie has none)
synapse_alive() { [ -n "$1" ] && tr -d '\0' <"/proc/$1/cmdline" 2>/dev/null | grep -q .; }

# synapse_stop: the testbed's down, then SIGTERM to the server this case
# started if it outlived that; never fails (the EXIT trap)
synapse_stop() {
    "$SYNAPSE_TB/down" "$D/hs" >/dev/null 2>&1
    synapse_alive "$SYNAPSE_PID" && kill -TERM "$SYNAPSE_PID" 2>/dev/null
    return 0
}
trap synapse_stop EXIT

# synapse_up: starts the server (exit 1 with the end of up's output if it
# does not start); sets SYNAPSE_PID.  Cases run in parallel, and on a new
# machine each one's `up` would run apt-get for Synapse's packages at the
# same time and lose the dpkg lock: one `up` at a time (flock, at most 10
# minutes' wait).
synapse_up() {
    local t0=$SECONDS lock=/tmp/pushpull-synapse-up.$(id -u).lock
    mkdir -p "$D"
    if ! flock -w 600 "$lock" "$SYNAPSE_TB/up" "$D/hs" --user coach --user alice >"$D/up.log" 2>&1; then
        echo "FAIL: the Synapse testbed did not start:"; tail -n 20 "$D/up.log"; exit 1
    fi
    echo "synapse: up in $((SECONDS - t0)) s: $(tail -n 1 "$D/up.log")"
    SYNAPSE_PID=$(cat "$D/hs/synapse.pid")
}

# synapse_down: stops the server; exit 1 if it still runs after that
synapse_down() {
    "$SYNAPSE_TB/down" "$D/hs" >/dev/null 2>&1
    if synapse_alive "$SYNAPSE_PID"; then
        echo "FAIL: Synapse (pid $SYNAPSE_PID) still runs after down"; exit 1
    fi
    echo "synapse: stopped (pid $SYNAPSE_PID)"
}
