#!/usr/bin/env bash
# matrix_units.sh -- the pure part of the Matrix bot: a /sync answer read
# into invites (allow-list), leaves and events (own, notice, encrypted,
# edit, before our join), mentions and the leading mention taken off.
exec "$TESTBIN/mxcheck"
