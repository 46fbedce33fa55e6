#!/usr/bin/env bash
# The import benchmark (issue #18): 1,000,000 posts in a CSV file imported through
# `POST /posts_plain/import` of the release build on PostgreSQL, SQLite and MariaDB, beside
# the floor of loading the same file without autoadmin; rows per second and the server's
# peak memory. Writes its table into docs/performance.md ("Import").
#
#   bench/import.sh                 # 1,000,000 rows (a few minutes on 2 cores)
#   bench/import.sh --rows 100000
#   bench/import.sh --smoke --binary target/debug/autoadmin   # 10,000 rows, no report
#
# Loopback only; the servers it starts stop with it. Needs PostgreSQL on 127.0.0.1:5432 and
# MariaDB on 127.0.0.1:3306 (AUTOADMIN_BENCH_POSTGRES_URL, AUTOADMIN_BENCH_MYSQL_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
need() { command -v "$1" >/dev/null 2>&1; }
missing=()
need psql || missing+=(postgresql-client)
need mysql || missing+=(mariadb-client)
need python3 || missing+=(python3)
need curl || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if [[ " $* " != *" --binary "* ]]; then
  cargo build --release --locked --quiet --bin autoadmin
fi
exec python3 bench/import.py "$@"
