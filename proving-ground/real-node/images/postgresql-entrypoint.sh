#!/bin/sh
# The PostgreSQL stand-in's entrypoint (stands in for bitnami's image and chart,
# which cannot be pulled here): on first start it initialises $PGDATA with the
# superuser password, creates the application user and database, generates a
# self-signed TLS certificate for the Service name, and allows remote logins
# only over TLS with a password; then it runs postgres in the foreground.
# Environment: PGDATA, POSTGRES_PASSWORD (superuser), POSTGRESQL_USERNAME,
# POSTGRESQL_PASSWORD, POSTGRESQL_DATABASE, POSTGRESQL_TLS_CN, and optionally
# POSTGRESQL_EXTRA_CONF_FILE (lines appended through include_if_exists).
set -eu
: "${PGDATA:?}" "${POSTGRES_PASSWORD:?}" "${POSTGRESQL_USERNAME:?}" "${POSTGRESQL_PASSWORD:?}" "${POSTGRESQL_DATABASE:?}" "${POSTGRESQL_TLS_CN:?}"
bin=/usr/lib/postgresql/15/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  "$bin/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions
  rm -f "$pwfile"
  echo "hostssl all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ -n "${POSTGRESQL_EXTRA_CONF_FILE:-}" ]; then echo "include_if_exists = '$POSTGRESQL_EXTRA_CONF_FILE'" >> "$PGDATA/postgresql.conf"; fi
  "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w start
  psql -h /tmp -U postgres -d postgres -v ON_ERROR_STOP=1 -v user="$POSTGRESQL_USERNAME" -v pw="$POSTGRESQL_PASSWORD" -v db="$POSTGRESQL_DATABASE" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'pw';
CREATE DATABASE :"db" OWNER :"user";
SQL
  "$bin/pg_ctl" -D "$PGDATA" -w stop
fi
if [ ! -s "$PGDATA/server.key" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$POSTGRESQL_TLS_CN" -addext "subjectAltName=DNS:$POSTGRESQL_TLS_CN" \
    -keyout "$PGDATA/server.key" -out "$PGDATA/server.crt" 2>/dev/null
  chmod 600 "$PGDATA/server.key"
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp -c ssl=on \
  -c ssl_cert_file="$PGDATA/server.crt" -c ssl_key_file="$PGDATA/server.key"
