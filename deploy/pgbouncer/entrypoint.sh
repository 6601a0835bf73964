#!/bin/sh
# keel-pgbouncer's start: write PgBouncer's configuration to /tmp from the
# environment, then become PgBouncer (PID 1, logging to stderr).
#
# Environment (the DB_* names are keel's own, so one env file serves both):
#   DB_NAME, DB_USER       the database and role clients ask for   required
#   DB_PASSWORD            that role's password, or DB_PASSWORD_FILE, a file
#                          holding it (a Podman or Kubernetes secret)
#   DB_HOST, DB_PORT       PostgreSQL itself               required, 5432
#   DB_STATEMENT_TIMEOUT   seconds, set on every server connection   15
#   PGBOUNCER_POOL_SIZE    server connections to PostgreSQL, at most   20
#   PGBOUNCER_MAX_CLIENT_CONN  client connections accepted, at most   1000
#
# Transaction pooling: a server connection serves one client for one
# transaction. keel's settings allow for it (DB_POOLER_HOST): no server-side
# cursors, no prepared statements, and the statement timeout comes from here,
# since PgBouncer refuses the `options` startup parameter keel sends otherwise.
set -eu

fail() {
    echo "pgbouncer: $*" >&2
    exit 2
}

number() {
    case "$2" in
        '' | *[!0-9]*) fail "$1 must be a whole number; got '$2'." ;;
    esac
}

[ -n "${DB_NAME:-}" ] || fail "DB_NAME is not set (the database keel uses)."
[ -n "${DB_USER:-}" ] || fail "DB_USER is not set (the role keel connects as)."
[ -n "${DB_HOST:-}" ] || fail "DB_HOST is not set (PostgreSQL's host)."
if [ -n "${DB_PASSWORD_FILE:-}" ]; then
    [ -r "$DB_PASSWORD_FILE" ] || fail "DB_PASSWORD_FILE names $DB_PASSWORD_FILE, which cannot be read."
    DB_PASSWORD=$(cat "$DB_PASSWORD_FILE")
fi
[ -n "${DB_PASSWORD:-}" ] || fail "DB_PASSWORD (or DB_PASSWORD_FILE) is not set."
number DB_PORT "${DB_PORT:=5432}"
number DB_STATEMENT_TIMEOUT "${DB_STATEMENT_TIMEOUT:=15}"
number PGBOUNCER_POOL_SIZE "${PGBOUNCER_POOL_SIZE:=20}"
number PGBOUNCER_MAX_CLIENT_CONN "${PGBOUNCER_MAX_CLIENT_CONN:=1000}"
[ "$PGBOUNCER_POOL_SIZE" -ge 1 ] || fail "PGBOUNCER_POOL_SIZE must be at least 1."

config=/tmp/pgbouncer
mkdir -p "$config"
umask 077
# PgBouncer checks each client's SCRAM against this password and logs in to
# PostgreSQL with it; a double quote in it is written twice, as it expects.
printf '"%s" "%s"\n' "$DB_USER" "$(printf '%s' "$DB_PASSWORD" | sed 's/"/""/g')" \
    > "$config/userlist.txt"
cat > "$config/pgbouncer.ini" <<INI
[databases]
$DB_NAME = host=$DB_HOST port=$DB_PORT dbname=$DB_NAME connect_query='SET statement_timeout = $((1000 * DB_STATEMENT_TIMEOUT))'
[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
pidfile =
logfile =
auth_type = scram-sha-256
auth_file = $config/userlist.txt
pool_mode = transaction
default_pool_size = $PGBOUNCER_POOL_SIZE
max_db_connections = $PGBOUNCER_POOL_SIZE
reserve_pool_size = 0
max_client_conn = $PGBOUNCER_MAX_CLIENT_CONN
; With PostgreSQL down, a client waits at most 10 s for a server connection
; (PgBouncer's default is 120 s); each connect attempt gives up after 3 s.
server_connect_timeout = 3
query_wait_timeout = 10
server_login_retry = 1
INI
unset DB_PASSWORD
exec /usr/sbin/pgbouncer "$config/pgbouncer.ini"
