#!/usr/bin/env bash
# schemathesis against the blog demo's API, as the OpenAPI document describes it: every check,
# every phase (examples, coverage, fuzzing, stateful), on SQLite, PostgreSQL and MariaDB, with
# the server open (--insecure-dev) and with its built-in login. Any failure or error fails.
#
#   tests/schemathesis/run.sh BIN [sqlite|postgres|mysql]...
#
# SCHEMATHESIS_EXAMPLES (default 10) bounds the examples per operation and phase;
# SCHEMATHESIS_PHASES (default all four) chooses phases. The coverage phase walks every
# boundary of every parameter: about 100,000 requests and 10 minutes per server for the whole
# document (docs/protocol.md, "Conformance"). SCHEMATHESIS_COVERAGE=share (what CI sets) runs
# it on each entity once per invocation instead of once per server: the runs take the
# entities in turn, starting from SCHEMATHESIS_SHARE_OFFSET (CI: the commit count), so that
# successive commits walk each entity on every backend, open and with a login. The other
# phases always run on the whole document. PostgreSQL and MariaDB come from
# AUTOADMIN_TEST_POSTGRES_URL and AUTOADMIN_TEST_MYSQL_URL; each run gets a database of its
# own, dropped afterwards. SCHEMATHESIS_PORT (default 18250) is where the servers' ports start.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "$1")
shift
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres mysql)
examples=${SCHEMATHESIS_EXAMPLES:-10}
phases=${SCHEMATHESIS_PHASES:-examples,coverage,fuzzing,stateful}
coverage=${SCHEMATHESIS_COVERAGE:-all}
offset=${SCHEMATHESIS_SHARE_OFFSET:-0}
case $coverage in all | share) ;; *) echo "SCHEMATHESIS_COVERAGE must be all or share" >&2; exit 2 ;; esac
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

port=${SCHEMATHESIS_PORT:-18250}
runs=$((${#backends[@]} * 2))
index=0
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
    main=$phases
    share=
    if [ "$coverage" = share ]; then
      main=$(echo "$phases" | sed 's/,*coverage//; s/^,//')
      if [[ ",$phases," == *,coverage,* ]]; then
        # This run's entities: every `runs`-th of the document's, from its turn on; and the
        # routes of no entity (health, login, the document), which are quick.
        share=$(curl -sf "${auth[@]}" "$base/openapi.json" | python3 -c '
import json, sys
runs, turn = int(sys.argv[1]), int(sys.argv[2])
entities = sorted({p.split("/")[1] for p in json.load(sys.stdin)["paths"] if p.count("/") > 1 or p[1:] not in ("health", "login", "logout", "openapi.json")})
print("|".join(e for i, e in enumerate(entities) if i % runs == turn % runs))' "$runs" "$((index + offset))")
      fi
    fi
    index=$((index + 1))
    status=0
    : >"$work/$run.out"
    if [ -z "$main" ]; then
      :
    elif [ "$access" = login ]; then
      timeout 2400 "${st[@]}" --phases "$main" --exclude-path /logout >"$work/$run.out" 2>&1 || status=$?
    else
      timeout 2400 "${st[@]}" --phases "$main" >"$work/$run.out" 2>&1 || status=$?
    fi
    if [ -n "$share" ]; then
      echo "coverage phase of: $share"
      timeout 1200 "${st[@]}" --phases coverage \
        --include-path-regex "^/(($share)(/.*)?|health|login|openapi\.json)\$" >>"$work/$run.out" 2>&1 || status=$?
    fi
    if [ "$access" = login ]; then
      # Logging out ends the session the rest uses: it is run last, on its own. Alone, it
      # has no link to follow: no stateful phase.
      timeout 300 "${st[@]}" --phases "$(echo "$phases" | sed 's/,*stateful//; s/^,//')" \
        --include-path /logout >>"$work/$run.out" 2>&1 || status=$?
    fi
    # The totals of each run: the whole document, the coverage share, /logout alone.
    grep -A1 "^Test cases:" "$work/$run.out" | grep -v "^--" || true
    if [ "$status" -ne 0 ]; then
      failed+=("$run")
      cp "$work/$run.out" "${SCHEMATHESIS_KEEP:-/tmp}/schemathesis-$run.out" 2>/dev/null || true
      # What schemathesis found, in full (each of the run's invocations has its own FAILURES
      # section); else, an error of the run itself, at its end.
      if grep -Eq "= (FAILURES|ERRORS) =" "$work/$run.out"; then
        awk '/= (FAILURES|ERRORS) =/ {on = 1} /= (WARNINGS|SUMMARY) =/ {on = 0} on' "$work/$run.out" | head -400
      else
        tail -80 "$work/$run.out"
      fi
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
