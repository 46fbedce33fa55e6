#!/usr/bin/env bash
# W1-W3 from the primary alone and from primary + streaming replica (replica_urls), in one
# run, beside pgbench floors: bench/replicas.py says more. Uses the local cluster
# (deploy/local/up.sh), starting it if its primary is down.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " != *" --binary "* ]]; then
  cargo build --release --locked --quiet --bin autoadmin
fi
exec python3 bench/replicas.py "$@"
