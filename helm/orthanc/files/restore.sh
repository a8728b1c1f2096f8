#!/bin/bash
# Restores a dump written by backup.sh without touching the data in use until
# the new data is verified, in two phases:
#   restore.sh load DUMP NEWDB   create NEWDB, pg_restore DUMP into it, verify it
#                                (Orthanc keeps running on the current database)
#   restore.sh switch NEWDB      with Orthanc stopped: rename the current
#                                database to <name>_before_<time> (kept, never
#                                dropped) and NEWDB to the current name
# Run as a role that may create and rename databases (the local stack's
# postgres superuser; on a cluster the chart's restore Job with the admin
# password). Environment: PGHOST PGPORT PGUSER (PGPASSWORD, PGSSLMODE);
# RESTORE_DATABASE (the database Orthanc uses) and RESTORE_OWNER (its owner).
# A plain script around pg_restore and psql for the same reason as backup.sh.
set -euo pipefail

target="${RESTORE_DATABASE:?RESTORE_DATABASE: the database Orthanc uses}"
owner="${RESTORE_OWNER:?RESTORE_OWNER: the role that owns it}"
psql_on() { psql -X -q -A -t -v ON_ERROR_STOP=1 --no-password -d "$1" "${@:2}"; }

case "${1:-}" in
  load)
    dump="${2:?usage: restore.sh load DUMP NEWDB}"
    new="${3:?usage: restore.sh load DUMP NEWDB}"
    [ -r "$dump" ] || { echo "restore: cannot read $dump" >&2; exit 2; }
    pg_restore --list "$dump" > /dev/null || { echo "restore: $dump is not a pg_dump custom-format archive" >&2; exit 2; }
    expected_blobs="$(pg_restore --list "$dump" | grep -c -E ' BLOB [0-9]+ ' || true)"
    # The data in use is replaced only when asked (it is kept either way, renamed).
    resources=0
    exists="$(psql_on postgres -v db="$target" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'db';
SQL
)"
    if [ "$exists" = 1 ]; then
      resources="$(psql_on "$target" -c "SELECT CASE WHEN to_regclass('public.resources') IS NULL THEN 0 ELSE (SELECT count(*) FROM public.resources) END")"
    fi
    echo "KORTHWEB_RESTORE_CURRENT database=$target resources=$resources"
    if [ "$resources" -gt 0 ] && [ "${RESTORE_REPLACE:-}" != "yes" ]; then
      echo "restore: database $target holds $resources Orthanc resources; restoring replaces them (they are kept as ${target}_before_<time>). Confirm with RESTORE_REPLACE=yes (make restore CONFIRM=1)" >&2
      exit 3
    fi
    echo "restore: creating database $new owned by $owner"
    psql_on postgres -v db="$new" -v owner="$owner" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner') \gexec
SQL
    echo "restore: loading $dump into $new"
    # As the owner, so every object (and large object) belongs to it.
    pg_restore --no-password --dbname="$new" --role="$owner" --no-owner --no-acl --exit-on-error --jobs="${RESTORE_JOBS:-2}" "$dump"
    blobs="$(psql_on "$new" -c 'SELECT count(*) FROM pg_largeobject_metadata')"
    tables="$(psql_on "$new" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
    if [ "$tables" -eq 0 ] || { [ "$expected_blobs" -gt 0 ] && [ "$blobs" -ne "$expected_blobs" ]; }; then
      echo "restore: $new does not match the dump ($tables tables, $blobs of $expected_blobs large objects); the current database is untouched, $new is left for inspection" >&2
      exit 1
    fi
    echo "KORTHWEB_RESTORE_LOADED database=$new tables=$tables largeObjects=$blobs"
    ;;
  switch)
    new="${2:?usage: restore.sh switch NEWDB}"
    before="${target}_before_$(date -u +%Y%m%dT%H%M%SZ)"
    # Whatever still holds a connection (a backup in progress) would block the renames.
    psql_on postgres -v a="$target" -v b="$new" <<'SQL'
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname IN (:'a', :'b') AND pid <> pg_backend_pid();
SQL
    psql_on postgres -v target="$target" -v before="$before" -v new="$new" <<'SQL'
SELECT format('ALTER DATABASE %I RENAME TO %I', :'target', :'before') WHERE EXISTS (SELECT FROM pg_database WHERE datname = :'target') \gexec
SELECT format('ALTER DATABASE %I RENAME TO %I', :'new', :'target') \gexec
SQL
    echo "KORTHWEB_RESTORE_SWITCHED database=$target previous=$before"
    ;;
  *)
    echo "usage: restore.sh load DUMP NEWDB | restore.sh switch NEWDB" >&2
    exit 2
    ;;
esac
