#!/usr/bin/env bash
# Stops exactly what deploy/local/up.sh started, by the pids it recorded, in the reverse
# order: HAProxy, the instances, the Galera nodes, PgBouncer, the replica, the primary.
# Data and logs stay in $AUTOADMIN_CLUSTER_DIR (up.sh starts them again); `--wipe` removes
# them too.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dir="${AUTOADMIN_CLUSTER_DIR:-/tmp/autoadmin-cluster}"
source "$here/cluster-lib.sh"

[ -d "$dir" ] || exit 0
stop_pid "$dir/haproxy.pid" 10
for pid in "$dir"/instances/*.pid; do
  [ -e "$pid" ] && stop_pid "$pid" 20
done
for n in 2 1 0; do stop_pid "$dir/galera/node$n.pid" 60; done
AUTOADMIN_LOCAL_DIR="$dir" "$here/pgbouncer.sh" stop
for node in replica primary; do
  if running "$dir/pg/$node/postmaster.pid"; then
    as_postgres pg_ctl -D "$dir/pg/$node" -m fast -w -t 60 stop >/dev/null
  fi
done
if [ "${1:-}" = "--wipe" ]; then
  rm -rf "$dir"
fi
echo "cluster down"
