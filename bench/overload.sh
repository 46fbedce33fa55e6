#!/usr/bin/env bash
# Overload (issue #16): PostgreSQL, 200,000 posts; the exact-count list and get-by-id, first
# with one client (the unloaded latency), then with 16 and 1,024 clients at once, 20 s each;
# the admitted (200) and refused (503) answers counted and timed apart (examples/overload.rs),
# the server's peak memory read from /proc; with the admission limit fixed, then adaptive.
# Prints Markdown tables for docs/performance.md.
#
#   bench/overload.sh            # builds the release binary and the load generator first
#   MODES=true WORKLOADS=list OVERLOAD_BINARY=/path/to/autoadmin bench/overload.sh
#                                # one mode, one workload, another build (to compare two)
#   OVERLOAD_SPLIT=1 bench/overload.sh
#                                # the server and PostgreSQL on CPU 0, the load generator on
#                                # CPU 1 (PostgreSQL's affinity is restored at the end), so
#                                # that the generator's CPU is not taken from the server's
#
# Loopback only; every run is bounded; the server it starts stops with it.
set -euo pipefail
cd "$(dirname "$0")/.."
url=${AUTOADMIN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
db=aa_overload
port=18400
binary=${OVERLOAD_BINARY:-target/release/autoadmin}
if [ -z "${OVERLOAD_BINARY:-}" ] || [ ! -x target/release/examples/overload ]; then
  cargo build --release --locked --quiet --bin autoadmin --example overload
fi
psql -q "$url/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
python3 -c 'import sys; sys.stdout.write(open("migrations/postgres/0001_blog.sql").read())' | psql -q -v ON_ERROR_STOP=1 "$url/$db"
psql -q -v ON_ERROR_STOP=1 "$url/$db" <<'SQL'
INSERT INTO authors (name, email) SELECT 'Author ' || n, 'a' || n || '@example.com' FROM generate_series(1, 50) n;
INSERT INTO posts (title, body, status, author_id, views, published_at)
SELECT 'Post ' || n, 'Body of post ' || n, ((ARRAY['draft','published','archived'])[1 + n % 3])::post_status, 1 + n % 50, n % 5000, now() - (n || ' minutes')::interval
FROM generate_series(1, 200000) n;
ANALYZE;
SQL
config=$(mktemp --suffix=.toml)
server=
stop() { [ -n "$server" ] && { kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; server=; }
on_server_cpu=()
on_generator_cpu=()
if [ "${OVERLOAD_SPLIT:-}" = 1 ]; then
  on_server_cpu=(taskset -c 0)
  on_generator_cpu=(taskset -c 1)
  # Every PostgreSQL process, and the backends it forks from now on, on CPU 0.
  for pid in $(pgrep -x postgres); do taskset -a -p -c 0 "$pid" >/dev/null; done
fi
unsplit() {
  if [ "${OVERLOAD_SPLIT:-}" = 1 ]; then
    for pid in $(pgrep -x postgres); do taskset -a -p -c "0-$(($(nproc) - 1))" "$pid" >/dev/null || true; done
  fi
}
trap 'stop; unsplit; rm -f "$config"' EXIT
api="http://127.0.0.1:$port/admin/api"
list="$api/posts?_page=1&_perPage=25&_count=exact"
get="$api/posts/4242"
load() { "${on_generator_cpu[@]}" target/release/examples/overload "$1" "$2" "$3"; }
# Each mode on a fresh server, side by side, with the default queue (200 requests waiting at
# most 1,000 ms, 10 ms once it stands): the fixed limit (max_in_flight, twice the 10
# connections, the default) and the adaptive one.
for adaptive in ${MODES:-false true}; do
  limits="adaptive_admission = $adaptive"
  sed "s/^base_path = .*/&\n$limits/" config/blog.toml >"$config"
  "${on_server_cpu[@]}" "$binary" serve --config "$config" --database-url "$url/$db" \
    --bind "127.0.0.1:$port" --insecure-dev >/tmp/aa-overload.log 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "$api/health" >/dev/null && break; sleep 0.1; done
  echo
  echo "adaptive_admission = $adaptive"
  echo
  echo "| workload | clients | 200/s | p50 ms (200) | p99 ms (200) | p99 ms (200, after 2 s) | 503/s | p99 ms (503) | errors |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for workload in ${WORKLOADS:-list get}; do
    target=$list; [ "$workload" = get ] && target=$get
    for clients in 1 16 1024; do
      seconds=20
      load "$target" "$clients" "$seconds" | python3 -c '
import json, sys
r = json.load(sys.stdin)
ok, steady, busy = r.get("200", {}), r.get("200 steady", {}), r.get("503", {})
f = lambda d, k: ("%.1f" % d[k]) if k in d else "–"
print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (sys.argv[1], sys.argv[2], f(ok, "per_second"), f(ok, "p50_ms"), f(ok, "p99_ms"), f(steady, "p99_ms"), f(busy, "per_second"), f(busy, "p99_ms"), r["connection_errors"] + sum(v["count"] for k, v in r.items() if k.split()[0] not in ("200", "503") and k != "connection_errors")))
' "$workload" "$clients"
    done
  done
  echo
  echo "server peak RSS: $(grep VmHWM /proc/$server/status | awk '{print $2/1024 " MB"}'); log lines: $(wc -l < /tmp/aa-overload.log) ($(grep -c 'overloaded' /tmp/aa-overload.log || true) overload summaries)"
  stop
done
psql -q "$url/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
