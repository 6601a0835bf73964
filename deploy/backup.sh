#!/bin/sh
# keel's scheduled backup, for where the database runs apart from make:
# the Quadlet timer (keel-backup.timer) and the kube CronJob
# (deploy/kube-backup.yaml) run it daily.
#
#   backup.sh DIR COMMAND...
#
# COMMAND writes `pg_dump --format=custom` to stdout. The dump lands in DIR as
# keel-YYYYMMDDTHHMMSSZ.dump with NAME.sha256 beside it, the names and format
# `make restore FILE=...` (scripts/backup.py) checks; then only the newest
# KEEL_BACKUP_KEEP (default 7; 0 keeps all) are kept. POSIX sh and coreutils
# or busybox only, so that it runs on the host and in the postgres image.
set -eu

if [ "$#" -lt 2 ]; then
    echo "usage: backup.sh DIR COMMAND..." >&2
    exit 2
fi
dir=$1
shift
keep=${KEEL_BACKUP_KEEP:-7}
case "$keep" in
    '' | *[!0-9]*)
        echo "backup: KEEL_BACKUP_KEEP must be a whole number (0 keeps all); got '$keep'." >&2
        exit 2
        ;;
esac

# Dumps hold password hashes: readable by their owner only.
umask 077
mkdir -p "$dir"
cd "$dir"
name=keel-$(date -u +%Y%m%dT%H%M%SZ).dump
if [ -e "$name" ]; then
    echo "backup: $dir/$name exists already." >&2
    exit 1
fi
trap 'rm -f "$name.partial"' EXIT
started=$(date +%s)
"$@" > "$name.partial"
sha256sum "$name.partial" | sed 's/\.partial$//' > "$name.sha256"
mv "$name.partial" "$name"
echo "backup: $dir/$name ($(wc -c < "$name") bytes) in $(($(date +%s) - started)) s"

if [ "$keep" -gt 0 ]; then
    count=$(ls -1 | grep -cE '^keel-[0-9]{8}T[0-9]{6}Z\.dump$' || true)
    if [ "$count" -gt "$keep" ]; then
        ls -1 | grep -E '^keel-[0-9]{8}T[0-9]{6}Z\.dump$' | sort | head -n "$((count - keep))" |
            while read -r old; do
                rm -f "$old" "$old.sha256"
                echo "backup: removed $old (keeping the newest $keep)"
            done
    fi
fi
