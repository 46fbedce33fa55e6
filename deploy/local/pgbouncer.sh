#!/usr/bin/env bash
# PgBouncer (Debian's package) in transaction pooling mode, on 127.0.0.1 only, in front of the
# local PostgreSQL: every database of the server, by name (`* =`), trust authentication as on
# this machine's PostgreSQL.
#
#   deploy/local/pgbouncer.sh start [port]   # default 6543; prints the server URL to use
#   deploy/local/pgbouncer.sh stop           # stops exactly the pgbouncer it started (by pid)
#
# State (config, pid, log) lives in $AUTOADMIN_LOCAL_DIR/pgbouncer (default
# /tmp/autoadmin-local). PgBouncer will not run as root: it runs as the `postgres` user.
set -euo pipefail

dir="${AUTOADMIN_LOCAL_DIR:-/tmp/autoadmin-local}/pgbouncer"
pg_port="${AUTOADMIN_PG_PORT:-5432}"

start() {
  local port="${1:-6543}"
  command -v pgbouncer >/dev/null || /usr/sbin/pgbouncer --version >/dev/null 2>&1 || {
    apt-get install -y -qq pgbouncer >/dev/null
  }
  if [ -f "$dir/pgbouncer.pid" ] && kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null; then
    echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
    return
  fi
  mkdir -p "$dir"
  cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 4000
default_pool_size = 20
max_db_connections = 60
server_idle_timeout = 30
# A query waits this long for a server connection (the database down, the pool full) before
# the pooler answers an error: as long as autoadmin waits for a connection of its own
# (acquire_timeout_secs), well below its request timeout.
query_wait_timeout = 5
server_connect_timeout = 3
server_login_retry = 1
ignore_startup_parameters =
pidfile = $dir/pgbouncer.pid
logfile = $dir/pgbouncer.log
admin_users = postgres
INI
  printf '"postgres" ""\n' > "$dir/userlist.txt"
  echo "$port" > "$dir/port"
  chown -R postgres "$dir"
  runuser -u postgres -- /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini"
  for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.1
  done
  pg_isready -q -h 127.0.0.1 -p "$port" || { cat "$dir/pgbouncer.log" >&2; exit 1; }
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
  [ -f "$dir/pgbouncer.pid" ] || return 0
  local pid
  pid=$(cat "$dir/pgbouncer.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/pgbouncer.pid"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  *) echo "usage: $0 start [port] | stop" >&2; exit 2 ;;
esac
