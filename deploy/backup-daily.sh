#!/bin/sh
# The docker-compose `backup` service: `kroi backup` every day at $BACKUP_AT (UTC, default 02:30), plus one
# at start when the newest good backup is more than a day old (the host was down at backup time).
# A plain loop instead of cron: no daemon, no root, the output goes to `docker compose logs backup`, and a
# failed run is retried the next day while `kroi monitor` reports the backup's age.
set -u
at="${BACKUP_AT:-02:30}"
kroi backup --if-older-than 24 || echo "backup: kroi backup failed (exit $?)" >&2
while :; do
    now=$(date -u +%s)
    next=$(date -u -d "today $at" +%s)
    [ "$next" -gt "$now" ] || next=$(date -u -d "tomorrow $at" +%s)
    echo "backup: next run at $(date -u -d "@$next" '+%Y-%m-%d %H:%M') UTC"
    sleep $((next - now))
    kroi backup || echo "backup: kroi backup failed (exit $?)" >&2
done
