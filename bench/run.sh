#!/usr/bin/env bash
# The benchmark suite (issue #7): W1-W5 with wrk against the release build on SQLite,
# PostgreSQL and MySQL/MariaDB, each PostgreSQL workload beside the pgbench floor of the SQL
# autoadmin sent for it (captured from PostgreSQL's log), CSV export of 1,000,000 rows,
# binary size and cold start. Writes its table into docs/performance.md.
#
#   bench/run.sh                  # the whole suite (about 10 minutes on 2 cores)
#   bench/run.sh --big            # also 10,000,000 posts: keyset cursor vs OFFSET
#   bench/run.sh --smoke --binary target/debug/autoadmin   # CI: tiny data, 1 s per run
#
# Loopback only; every run is bounded; the servers it starts stop with it. Needs PostgreSQL
# on 127.0.0.1:5432 and MariaDB/MySQL on 127.0.0.1:3306 (AUTOADMIN_BENCH_POSTGRES_URL and
# AUTOADMIN_BENCH_MYSQL_URL to change), as on this project's machines.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
missing=()
need wrk || missing+=(wrk)
need psql || missing+=(postgresql-client)
need pgbench || missing+=(postgresql)
need mysql || missing+=(mariadb-client)
need python3 || missing+=(python3)
need curl || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if [[ " $* " != *" --binary "* ]]; then
  cargo build --release --locked --quiet --bin autoadmin --example http_floor
fi
exec python3 bench/bench.py "$@"
