#!/usr/bin/env bash
# CSV export of ROWS posts (default 1,000,000) from SQLite and PostgreSQL through the
# release build: rows/s and the server's peak RSS. Loopback only; stops by itself.
#   bench/export.sh            # both backends
#   ROWS=200000 bench/export.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
PORT=${PORT:-18090}
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet
bin=target/release/autoadmin

# SQLite: schema from migrations/, rows from a recursive CTE.
sqlite_db="$work/bench.sqlite"
python3 - "$sqlite_db" "$ROWS" <<'PY'
import sqlite3, sys
path, rows = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
db.executescript(open("migrations/sqlite/0001_blog.sql").read())
db.execute("""INSERT INTO authors (name, email)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
  SELECT 'Author ' || i, 'a' || i || '@example.com' FROM n""")
db.execute(f"""INSERT INTO posts (title, body, status, author_id, views, rating, published_at, created_at)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
  SELECT 'Post number ' || i, 'Body of post ' || i || ', with a comma and \"quotes\"',
         CASE i % 3 WHEN 0 THEN 'draft' WHEN 1 THEN 'published' ELSE 'archived' END,
         1 + i % 1000, i % 5000, (i % 50) / 10.0,
         datetime('2020-01-01', '+' || (i % 100000) || ' minutes'),
         datetime('2019-01-01', '+' || (i % 100000) || ' minutes')
  FROM n""")
db.commit()
PY

# PostgreSQL: a fresh database with the same schema and rows.
pg_db=aa_bench_export
psql "$PG_SERVER" -q -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" -c "CREATE DATABASE $pg_db"
pg_url="${PG_SERVER%/*}/$pg_db"
psql "$pg_url" -q -f migrations/postgres/0001_blog.sql
psql "$pg_url" -q -c "INSERT INTO authors (name, email) SELECT 'Author ' || i, 'a' || i || '@example.com' FROM generate_series(1, 1000) i" \
  -c "INSERT INTO posts (title, body, status, author_id, views, rating, published_at, created_at)
      SELECT 'Post number ' || i, 'Body of post ' || i || ', with a comma and \"quotes\"',
             (ARRAY['draft','published','archived'])[1 + i % 3]::post_status, 1 + i % 1000, i % 5000,
             (i % 50) / 10.0, timestamptz '2020-01-01' + (i % 100000) * interval '1 minute',
             timestamp '2019-01-01' + (i % 100000) * interval '1 minute'
      FROM generate_series(1, $ROWS) i" -c "ANALYZE"

run() {
  local name=$1 url=$2
  "$bin" serve --config config/blog.toml --database-url "$url" --bind "127.0.0.1:$PORT" >"$work/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/admin/api/health" >/dev/null && break; sleep 0.1; done
  local rss_before
  rss_before=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  local start end bytes lines
  start=$(date +%s.%N)
  bytes=$(curl -sf "http://127.0.0.1:$PORT/admin/api/posts/export.csv?_sortField=id" | tee >(wc -l >"$work/lines") | wc -c)
  end=$(date +%s.%N)
  lines=$(cat "$work/lines")
  local peak
  peak=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  kill -TERM $pid; wait $pid || true
  local seconds rows_per_s
  seconds=$(echo "$end - $start" | bc -l)
  rows_per_s=$(echo "($lines - 1) / $seconds" | bc)
  printf '| %-10s | %9d | %8.2f | %10d | %6.1f MB | %6.1f MB | %7.1f MB |\n' \
    "$name" "$((lines - 1))" "$seconds" "$rows_per_s" "$(echo "$bytes / 1048576" | bc -l)" \
    "$(echo "$rss_before / 1024" | bc -l)" "$(echo "$peak / 1024" | bc -l)"
}

echo "| backend    |      rows |  seconds |     rows/s |   CSV size | RSS idle | peak RSS |"
echo "|------------|-----------|----------|------------|------------|----------|----------|"
run sqlite "sqlite://$sqlite_db"
run postgres "$pg_url"
psql "$PG_SERVER" -q -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
