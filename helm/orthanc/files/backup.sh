#!/bin/bash
# One logical backup of the Orthanc database: pg_dump in custom format (the
# tables and the large objects that hold the DICOM files, read from one
# snapshot, so Orthanc keeps ingesting meanwhile), read back with pg_restore
# --list, then renamed into place; the newest $BACKUP_KEEP dumps are kept.
# Run by the chart's backup CronJob (bitnami's PostgreSQL image) and, with
# Debian's pg_dump, by `make backup` on the local stack. A plain script rather
# than a backup tool: pg_dump is the tool; this only names, checks and prunes.
#
# Environment: PGHOST PGPORT PGDATABASE PGUSER (PGPASSWORD, PGSSLMODE) as libpq
# reads them; BACKUP_DIR (folder of the dumps), BACKUP_KEEP (how many to keep),
# BACKUP_COMPRESS (pg_dump's zlib level 0-9, default 1: DICOM pixel data gains
# little from more, and the dump takes several times longer).
# Last line on success: "KORTHWEB_BACKUP file=<path> bytes=<n> seconds=<s> kept=<n> deleted=<n>".
set -euo pipefail

dir="${BACKUP_DIR:?BACKUP_DIR: the folder for the dumps}"
keep="${BACKUP_KEEP:-7}"
case "$keep" in '' | *[!0-9]* | 0) echo "backup: BACKUP_KEEP must be a whole number ≥ 1, not '$keep'" >&2; exit 2 ;; esac
compress="${BACKUP_COMPRESS:-1}"
case "$compress" in [0-9]) ;; *) echo "backup: BACKUP_COMPRESS must be 0-9, not '$compress'" >&2; exit 2 ;; esac
[ -d "$dir" ] && [ -w "$dir" ] || { echo "backup: $dir is not a writable folder" >&2; exit 2; }

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="orthanc-${stamp}.dump"
partial="$dir/.${name}.partial"
trap 'rm -f "$partial"' EXIT
started="$(date +%s)"

echo "backup: dumping database ${PGDATABASE:-?} on ${PGHOST:-?}:${PGPORT:-5432} to $dir/$name"
# --no-owner/--no-acl: a restore recreates objects as the restoring role.
pg_dump --format=custom --compress="$compress" --no-owner --no-acl --no-password --file="$partial"
# The archive must read back, and hold the large objects when there are files.
entries="$(pg_restore --list "$partial" | grep -c -E ' (TABLE DATA|BLOBS|LARGE OBJECT) ' || true)"
[ "$entries" -gt 0 ] || { echo "backup: the dump of ${PGDATABASE:-?} has no table data: is it the Orthanc database?" >&2; exit 1; }
mv "$partial" "$dir/$name"
trap - EXIT
bytes="$(stat -c %s "$dir/$name")"

# Retention: the newest $keep dumps (names sort by time).
mapfile -t dumps < <(find "$dir" -maxdepth 1 -name 'orthanc-*.dump' -printf '%f\n' | sort -r)
deleted=0
for old in "${dumps[@]:$keep}"; do
  rm -f -- "$dir/$old"
  deleted=$((deleted + 1))
done
kept=$(( ${#dumps[@]} - deleted ))
seconds=$(( $(date +%s) - started ))
echo "backup: $dir/$name, $bytes bytes in ${seconds}s; $kept kept, $deleted older deleted"
echo "KORTHWEB_BACKUP file=$dir/$name bytes=$bytes seconds=$seconds kept=$kept deleted=$deleted"
