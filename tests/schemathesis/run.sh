#!/usr/bin/env bash
# schemathesis against the blog demo's API, as the OpenAPI document describes it: every check,
# every phase (examples, coverage, fuzzing, stateful), on SQLite, PostgreSQL and MariaDB, with
# the server open (--insecure-dev) and with its built-in login. Any failure or error fails.
#
#   tests/schemathesis/run.sh BIN [sqlite|postgres|mysql]...
#
# SCHEMATHESIS_EXAMPLES (default 10) bounds the examples per operation and phase;
# SCHEMATHESIS_PHASES (default all four) chooses phases: the coverage phase takes minutes per
# list operation (docs/protocol.md, "Conformance"), so CI runs the other three. PostgreSQL
# and MariaDB come from AUTOADMIN_TEST_POSTGRES_URL and AUTOADMIN_TEST_MYSQL_URL; each run
# gets a database of its own, dropped afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "$1")
shift
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres mysql)
examples=${SCHEMATHESIS_EXAMPLES:-10}
phases=${SCHEMATHESIS_PHASES:-examples,coverage,fuzzing,stateful}
pg_url=${AUTOADMIN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
my_url=${AUTOADMIN_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The login's user: admin, whose password only this run knows.
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
hash=$(printf '%s\n' "$password" | "$bin" hash-password)
cat >"$work/auth.toml" <<EOF
[auth]
secret = "$(head -c 48 /dev/urandom | base64 | tr -d '/+=')"

[[auth.user]]
name = "admin"
role = "admin"
password_hash = "$hash"
EOF

# A fresh database of the blog's tables for one run; prints its URL.
database() {
  local backend=$1 name="st_$$_$2"
  case $backend in
    sqlite)
      local file="$work/$name.sqlite"
      python3 - "$file" "$root/migrations/sqlite/0001_blog.sql" "$root/migrations/sqlite/seed_demo.sql" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for path in sys.argv[2:]:
    db.executescript(open(path).read())
db.commit()
PY
      echo "sqlite://$file" ;;
    postgres)
      psql "$pg_url" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
      local url="${pg_url%/*}/$name"
      psql "$url" -q -f "$root/migrations/postgres/0001_blog.sql" >/dev/null
      echo "$url" ;;
    mysql)
      mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $name; CREATE DATABASE $name" 
      mysql -h127.0.0.1 -uroot "$name" <"$root/migrations/mysql/0001_blog.sql"
      echo "${my_url%/*}/$name" ;;
  esac
}

drop() {
  local backend=$1 name="st_$$_$2"
  case $backend in
    postgres) psql "$pg_url" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null ;;
    mysql) mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $name" ;;
  esac
}

port=18250
failed=()
for backend in "${backends[@]}"; do
  for access in open login; do
    run="$backend-$access"
    port=$((port + 1))
    url=$(database "$backend" "$access")
    args=(--config "$root/config/blog.toml" --database-url "$url" --bind "127.0.0.1:$port")
    if [ "$access" = open ]; then args+=(--insecure-dev); else args+=(--config "$work/auth.toml"); fi
    "$bin" serve "${args[@]}" >"$work/$run.log" 2>&1 &
    server=$!
    base="http://127.0.0.1:$port/admin/api"
    for _ in $(seq 1 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done
    auth=()
    if [ "$access" = login ]; then
      token=$(curl -sf -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$password\"}" "$base/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
      auth=(-H "Authorization: Bearer $token")
    fi
    echo "==> schemathesis: $run"
    st=(schemathesis --config-file "$root/tests/schemathesis/schemathesis.toml" run "$base/openapi.json"
      --checks all --max-examples "$examples" --seed 1 --workers 1 --no-color "${auth[@]}")
    # Logging out ends the session the rest of the run uses: it is run last, on its own.
    status=0
    if [ "$access" = login ]; then
      timeout 1200 "${st[@]}" --phases "$phases" --exclude-path /logout >"$work/$run.out" 2>&1 || status=$?
      # Alone, it has no link to follow: no stateful phase.
      timeout 300 "${st[@]}" --phases "$(echo "$phases" | sed 's/,*stateful//')" \
        --include-path /logout >>"$work/$run.out" 2>&1 || status=$?
    else
      timeout 1200 "${st[@]}" --phases "$phases" >"$work/$run.out" 2>&1 || status=$?
    fi
    # The totals of each run (with a login: the whole document, then /logout alone).
    grep -A1 "^Test cases:" "$work/$run.out" | grep -v "^--" || true
    if [ "$status" -ne 0 ]; then
      failed+=("$run")
      cp "$work/$run.out" "${SCHEMATHESIS_KEEP:-/tmp}/schemathesis-$run.out" 2>/dev/null || true
      tail -80 "$work/$run.out"
      echo "--- server log (last lines)"
      tail -20 "$work/$run.log"
    fi
    kill -TERM "$server"; wait "$server" || true
    server=
    drop "$backend" "$access"
  done
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "error: schemathesis found problems in: ${failed[*]}" >&2
  exit 1
fi
echo "schemathesis: nothing found in ${#backends[@]} backends x open and login"
