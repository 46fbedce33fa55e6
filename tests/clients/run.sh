#!/usr/bin/env bash
# Runs the react-admin data-provider tests against live autoadmin servers over SQLite,
# PostgreSQL and MySQL. Usage: tests/clients/run.sh path/to/autoadmin
# Needs AUTOADMIN_TEST_POSTGRES_URL and AUTOADMIN_TEST_MYSQL_URL (server URLs); each run
# creates its own databases and drops them afterwards. Loopback only; stops by itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:?usage: run.sh path/to/autoadmin}")
: "${AUTOADMIN_TEST_POSTGRES_URL:?}" "${AUTOADMIN_TEST_MYSQL_URL:?}"
name="aa_clients_$$"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$AUTOADMIN_TEST_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
  mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cd "$here"
[ -d node_modules ] || npm ci --no-audit --no-fund

sqlite_path="$work/clients.sqlite"
python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).executescript(open(sys.argv[2]).read())" \
  "$sqlite_path" "$root/migrations/sqlite/0001_blog.sql"
psql "$AUTOADMIN_TEST_POSTGRES_URL" -q -c "CREATE DATABASE $name"
pg_url="${AUTOADMIN_TEST_POSTGRES_URL%/*}/$name"
psql "$pg_url" -q -f "$root/migrations/postgres/0001_blog.sql" >/dev/null
mysql -h127.0.0.1 -uroot -e "CREATE DATABASE $name"
mysql -h127.0.0.1 -uroot "$name" <"$root/migrations/mysql/0001_blog.sql"
mysql_url="${AUTOADMIN_TEST_MYSQL_URL%/*}/$name"

start() { # start NAME PORT URL
  # These tests are about the protocol: the admin runs without authentication.
  "$bin" serve --config "$root/config/blog.toml" --database-url "$3" --insecure-dev --bind "127.0.0.1:$2" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$2/admin/api/health" >/dev/null && return 0
    sleep 0.1
  done
  cat "$work/$1.log" >&2
  return 1
}
start sqlite 18111 "sqlite://$sqlite_path"
start postgres 18112 "$pg_url"
start mysql 18113 "$mysql_url"

export AUTOADMIN_CLIENT_BACKENDS
AUTOADMIN_CLIENT_BACKENDS=$(cat <<JSON
[{"name": "sqlite", "api": "http://127.0.0.1:18111/admin/api", "db": {"kind": "sqlite", "path": "$sqlite_path"}},
 {"name": "postgres", "api": "http://127.0.0.1:18112/admin/api", "db": {"kind": "postgres", "url": "$pg_url"}},
 {"name": "mysql", "api": "http://127.0.0.1:18113/admin/api", "db": {"kind": "mysql", "name": "$name"}}]
JSON
)
node --test --test-reporter=spec
