#!/usr/bin/env bash
# The local cluster's tests: starts the cluster (deploy/local/up.sh) unless it runs already,
# runs tests/cluster/cluster.mjs against it (bounded: 10 minutes), stops what it started, and
# prints "N passed, M failed". Exits non-zero if any failed.
#
#   tests/cluster/run.sh [autoadmin binary] [part of a test's name]
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
export AUTOADMIN_CLUSTER_DIR="${AUTOADMIN_CLUSTER_DIR:-/tmp/autoadmin-cluster}"
[ -n "${1:-}" ] && export AUTOADMIN_BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
dir="$AUTOADMIN_CLUSTER_DIR"
source "$root/deploy/local/cluster-lib.sh"

started=""
if ! running "$dir/haproxy.pid"; then
  started=yes
  # A cluster this run starts is a new one: nothing left from an earlier run.
  "$root/deploy/local/down.sh" --wipe >/dev/null
  trap '"$root/deploy/local/down.sh" --wipe >/dev/null' EXIT
  echo "starting the local cluster (deploy/local/up.sh)"
  time_started=$(date +%s)
  "$root/deploy/local/up.sh" >/dev/null
  echo "cluster up in $(($(date +%s) - time_started)) s"
fi

status=0
timeout 600 node "$root/tests/cluster/cluster.mjs" "${2:-}" || status=$?
if [ "$status" -ne 0 ] && [ -n "$started" ]; then
  echo "the instances' warnings and errors (the last 30):" >&2
  grep -hE "WARN|ERROR" "$dir"/instances/*.log | tail -30 >&2 || true
fi
exit "$status"
