#!/usr/bin/env bash
# telegram_units.sh -- the pure parts of the Telegram bot and bots/net.c:
# splitting by UTF-16 units, the offset cursor, the command menu's entries,
# redaction, backoff, buckets.
exec "$TESTBIN/tgcheck"
