#!/usr/bin/env bash
# Introspection of a PostgreSQL database with TABLES tables (default 1,000), each with a
# foreign key, an index and a check constraint: the time of `autoadmin introspect`, and of
# `autoadmin serve` with no config until it answers. Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
TABLES=${TABLES:-1000}
PORT=${PORT:-18095}
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432/postgres}
db=aa_bench_introspect
cargo build --release --quiet
bin=target/release/autoadmin
psql "$PG_SERVER" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
url="${PG_SERVER%/*}/$db"
psql "$url" -q <<SQL
DO \$\$
BEGIN
  FOR i IN 1..$TABLES LOOP
    EXECUTE format('CREATE TABLE t%s (
      id SERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, status TEXT CHECK (status IN (''a'', ''b'')),
      amount NUMERIC(10, 2), created TIMESTAMPTZ NOT NULL DEFAULT now(), parent_id INT %s)',
      i, CASE WHEN i > 1 THEN format('REFERENCES t%s (id)', i - 1) ELSE '' END);
    EXECUTE format('CREATE INDEX t%s_created ON t%s (created)', i, i);
  END LOOP;
END
\$\$;
SQL
start=$(date +%s.%N)
"$bin" introspect --database-url "$url" > /tmp/aa-introspect.toml
end=$(date +%s.%N)
entities=$(grep -c '^\[\[entity\]\]' /tmp/aa-introspect.toml)
printf '| introspect | %d tables | %d entities | %.2f s |\n' "$TABLES" "$entities" "$(echo "$end - $start" | bc -l)"
start=$(date +%s.%N)
"$bin" serve --database-url "$url" --bind "127.0.0.1:$PORT" >/dev/null 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$PORT/admin/api/health" >/dev/null; do sleep 0.02; done
end=$(date +%s.%N)
printf '| serve, no config, until healthy | %d tables | %d entities | %.2f s |\n' "$TABLES" "$entities" "$(echo "$end - $start" | bc -l)"
curl -sf "http://127.0.0.1:$PORT/admin/api/t500?_page=1&_perPage=1" >/dev/null && echo "| /admin/api/t500 answers | | | ok |"
kill -TERM $pid; wait $pid || true
psql "$PG_SERVER" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
rm -f /tmp/aa-introspect.toml
