# Shared by up.sh, down.sh and tests/cluster/run.sh: the local cluster's ports and helpers.
# Sourced, with $dir set to the cluster's state directory.

PG_PRIMARY_PORT=15432
PG_REPLICA_PORT=15433
PG_POOLER_PORT=16432
PG_POOLER_URL="postgres://postgres@127.0.0.1:$PG_POOLER_PORT/autoadmin"
GALERA_PORT=13306        # node n: GALERA_PORT + n
GALERA_GCOMM_PORT=14567  # node n: + 10 n (group communication; +1 IST, +2 SST)
PG_INSTANCE_PORT=18111
GALERA_INSTANCE_PORT=18121
HAPROXY_STATS_PORT=18100
HAPROXY_PG_PORT=18110
HAPROXY_GALERA_PORT=18120
INSTANCES="${AUTOADMIN_CLUSTER_INSTANCES:-2}"
CLUSTER_PASSWORD="cluster-admin-password"
# Debian keeps PostgreSQL's server programs (initdb, pg_ctl) out of PATH.
PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"

as_postgres() {
  runuser -u postgres -- "$@"
}

# Whether process `pid` runs: a killed one whose parent has not reaped it yet (a zombie;
# the container's first process reaps late) does not.
alive() {
  kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]
}

# Whether the process whose pid is the first line of `file` runs.
running() {
  [ -f "$1" ] && alive "$(head -1 "$1")"
}

# Waits up to `secs` seconds for `url` to answer 200.
wait_http() {
  local url="$1" secs="$2" i
  for i in $(seq 1 $((secs * 5))); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "no answer from $url within ${secs}s" >&2
  return 1
}

galera_sql() {
  local n="$1"
  shift
  mariadb -uroot -h127.0.0.1 -P"$((GALERA_PORT + n))" -N -B -e "$*"
}

# Waits up to `secs` seconds for Galera node `n` to be Synced with the cluster.
wait_synced() {
  local n="$1" secs="$2" i
  for i in $(seq 1 $((secs * 2))); do
    if galera_sql "$n" "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | grep -q Synced; then
      return 0
    fi
    sleep 0.5
  done
  echo "Galera node $n not Synced within ${secs}s" >&2
  return 1
}

# Stops the process whose pid `file` holds (TERM, then KILL after `secs`), if it runs.
stop_pid() {
  local file="$1" secs="${2:-20}" pid i
  [ -f "$file" ] || return 0
  pid="$(head -1 "$file")"
  if alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 $((secs * 10))); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      echo "pid $pid ($file) did not stop within ${secs}s: killed" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

# The autoadmin binary: $AUTOADMIN_BIN, or the release build (made if missing).
cluster_bin() {
  if [ -n "${AUTOADMIN_BIN:-}" ]; then
    echo "$AUTOADMIN_BIN"
    return
  fi
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  [ -x "$root/target/release/autoadmin" ] ||
    (cd "$root" && cargo build --release --quiet >&2)
  echo "$root/target/release/autoadmin"
}
