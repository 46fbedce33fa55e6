#!/usr/bin/env bash
# A local cluster, from Debian's packages, on 127.0.0.1 only:
#
#   PostgreSQL primary :15432 ── streaming replica :15433 (pg_basebackup)
#        └─ PgBouncer (transaction pooling) :16432
#   MariaDB Galera (galera-4): nodes :13306 :13307 :13308
#   autoadmin: per backend $AUTOADMIN_CLUSTER_INSTANCES instances (default 2 for PostgreSQL,
#              through PgBouncer; one per Galera node), from :18111 and :18121
#   HAProxy: :18110 → the PostgreSQL instances, :18120 → the Galera ones (health checks on
#            /admin/api/health), stats on :18100
#
#   deploy/local/up.sh      # starts what is not running; prints the addresses
#   deploy/local/down.sh    # stops exactly what this started (by pid)
#
# State (data, configs, pids, logs, cluster.env with the URLs) is kept in
# $AUTOADMIN_CLUSTER_DIR (default /tmp/autoadmin-cluster). The autoadmin binary is
# $AUTOADMIN_BIN (default target/release/autoadmin, built if missing). docs/deploy.md says
# how each piece maps to a real deployment.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${AUTOADMIN_CLUSTER_DIR:-/tmp/autoadmin-cluster}"
source "$here/cluster-lib.sh"

install_packages() {
  local missing=()
  [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
  [ -f /usr/lib/galera/libgalera_smm.so ] || missing+=(galera-4)
  command -v rsync >/dev/null || missing+=(rsync)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The primary: its own cluster (initdb), trust authentication on 127.0.0.1, WAL for a replica.
start_primary() {
  local data="$dir/pg/primary"
  running "$data/postmaster.pid" && return
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$dir/pg"
    chown postgres "$dir/pg"
    as_postgres initdb -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$data/postgresql.conf" <<CONF
port = $PG_PRIMARY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/pg'
wal_level = replica
max_wal_senders = 5
hot_standby = on
max_connections = 200
shared_buffers = 128MB
fsync = on
CONF
  fi
  as_postgres pg_ctl -D "$data" -l "$dir/pg/primary.log" -w -t 60 start >/dev/null
  as_postgres psql -q -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = 'autoadmin'" -tA | grep -q 1 ||
    as_postgres createdb -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres autoadmin
}

# The replica: a base backup of the primary that follows its WAL (standby.signal, -R).
start_replica() {
  local data="$dir/pg/replica"
  running "$data/postmaster.pid" && return
  if [ ! -f "$data/PG_VERSION" ]; then
    as_postgres pg_basebackup -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -D "$data" -R \
      -X stream -c fast
    echo "port = $PG_REPLICA_PORT" >> "$data/postgresql.auto.conf"
  fi
  as_postgres pg_ctl -D "$data" -l "$dir/pg/replica.log" -w -t 60 start >/dev/null
}

# One Galera node's config: its own ports for the client, group communication, IST and SST.
galera_config() {
  local n="$1" nodes=() i
  for i in 0 1 2; do nodes+=("127.0.0.1:$((GALERA_GCOMM_PORT + 10 * i))"); done
  local gcomm=$((GALERA_GCOMM_PORT + 10 * n))
  cat > "$dir/galera/node$n.cnf" <<CNF
[mariadbd]
user = mysql
datadir = $dir/galera/node$n
port = $((GALERA_PORT + n))
bind-address = 127.0.0.1
socket = $dir/galera/node$n.sock
pid-file = $dir/galera/node$n.pid
log-error = $dir/galera/node$n.err
skip-name-resolve
innodb_buffer_pool_size = 128M
innodb_log_file_size = 48M
max_connections = 300
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name = autoadmin
wsrep_cluster_address = gcomm://$(IFS=,; echo "${nodes[*]}")
wsrep_node_name = node$n
wsrep_node_address = 127.0.0.1:$gcomm
wsrep_node_incoming_address = 127.0.0.1:$((GALERA_PORT + n))
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:$gcomm;ist.recv_addr=127.0.0.1:$((gcomm + 1));gcache.size=64M"
wsrep_sst_receive_address = 127.0.0.1:$((gcomm + 2))
wsrep_sst_method = rsync
CNF
}

# Starts Galera node `n` (the first of a new cluster bootstraps it) and waits until it is
# Synced.
start_galera_node() {
  local n="$1" bootstrap="${2:-}"
  running "$dir/galera/node$n.pid" && return
  mkdir -p "$dir/galera"
  # As the mysql user: the joiner's rsync daemon (SST) would run as nobody under root.
  chown mysql:mysql "$dir/galera"
  galera_config "$n"
  if [ ! -d "$dir/galera/node$n/mysql" ]; then
    mariadb-install-db --defaults-file="$dir/galera/node$n.cnf" --user=mysql \
      --auth-root-authentication-method=normal \
      >"$dir/galera/node$n.install.log" 2>&1
  fi
  local args=(--defaults-file="$dir/galera/node$n.cnf")
  [ -n "$bootstrap" ] && args+=(--wsrep-new-cluster)
  nohup /usr/sbin/mariadbd "${args[@]}" >>"$dir/galera/node$n.out" 2>&1 &
  wait_synced "$n" 120 || { tail -30 "$dir/galera/node$n.err" >&2; exit 1; }
}

start_galera() {
  local n
  # A cluster none of whose nodes runs starts again from the first, as a new one: a node's
  # grastate says whether it may bootstrap (safe_to_bootstrap); this cluster is a test's.
  if ! running "$dir/galera/node0.pid" && ! running "$dir/galera/node1.pid" &&
    ! running "$dir/galera/node2.pid"; then
    [ -f "$dir/galera/node0/grastate.dat" ] &&
      sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$dir/galera/node0/grastate.dat"
    start_galera_node 0 bootstrap
  fi
  for n in 1 2; do start_galera_node "$n"; done
  galera_sql 0 "CREATE DATABASE IF NOT EXISTS autoadmin"
}

# The blog's tables, and a login for the tests, on both backends (once).
migrate() {
  if ! as_postgres psql -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -d autoadmin -tAc \
    "SELECT to_regclass('public.authors')" | grep -q authors; then
    as_postgres psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres \
      -d autoadmin -f "$root/migrations/postgres/0001_blog.sql" >/dev/null
  fi
  if ! galera_sql 0 "SHOW TABLES FROM autoadmin LIKE 'authors'" | grep -q authors; then
    mariadb -uroot -h127.0.0.1 -P"$GALERA_PORT" autoadmin < "$root/migrations/mysql/0001_blog.sql"
  fi
}

# The instances' config: the same secret and users everywhere (stateless instances), HAProxy
# as the trusted proxy, events followed often; the PostgreSQL ones read from the replica.
instance_config() {
  [ -f "$dir/secret" ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$dir/secret"
  [ -f "$dir/admin.hash" ] ||
    printf '%s' "$CLUSTER_PASSWORD" | "$bin" hash-password > "$dir/admin.hash"
  write_config "$dir/cluster-postgres.toml" \
    "replica_urls = [\"postgres://postgres@127.0.0.1:$PG_REPLICA_PORT/autoadmin\"]"
  write_config "$dir/cluster-galera.toml" ""
}

# One backend's config file, with `extra` lines in [admin].
write_config() {
  cat > "$1" <<TOML
# Written by deploy/local/up.sh: what every instance of the local cluster shares.
[admin]
title = "Blog admin (cluster)"
base_path = "/admin"
trusted_proxies = ["127.0.0.1"]
events_poll_ms = 200
events_heartbeat_secs = 5
request_timeout_secs = 10
acquire_timeout_secs = 3
statement_timeout_secs = 10
$2

[auth]
revocation_delay_secs = 1
# Low, so that tests/cluster/run.sh sees them hold across instances (its own logins each come
# from an address of their own, through a trusted proxy's X-Forwarded-For).
login_attempts_per_address = 20
login_failures_per_user = 5

[[auth.user]]
name = "admin"
role = "admin"
password_hash = "$(cat "$dir/admin.hash")"
TOML
}

# Instance `name` on `port` over `url` with the config file `config`; the first of a backend
# starts alone (it makes autoadmin's own tables), the others after it.
start_instance() {
  local name="$1" port="$2" url="$3" config="$4"
  running "$dir/instances/$name.pid" && return
  mkdir -p "$dir/instances"
  AUTOADMIN_SECRET="$(cat "$dir/secret")" AUTOADMIN_DATABASE_URL="$url" \
    AUTOADMIN_BIND="127.0.0.1:$port" RUST_LOG="${RUST_LOG:-info}" \
    nohup "$bin" serve --config "$config" --config "$root/config/blog.toml" \
    >"$dir/instances/$name.log" 2>&1 &
  echo $! > "$dir/instances/$name.pid"
  wait_http "http://127.0.0.1:$port/admin/api/health" 60 ||
    { tail -20 "$dir/instances/$name.log" >&2; exit 1; }
}

start_instances() {
  local i
  for i in $(seq 0 $((INSTANCES - 1))); do
    start_instance "pg$i" $((PG_INSTANCE_PORT + i)) "$PG_POOLER_URL" "$dir/cluster-postgres.toml"
  done
  for i in 0 1 2; do
    start_instance "galera$i" $((GALERA_INSTANCE_PORT + i)) \
      "mysql://root@127.0.0.1:$((GALERA_PORT + i))/autoadmin" "$dir/cluster-galera.toml"
  done
}

# HAProxy in front of the instances: health checks every 500 ms, a failed connection or an
# empty answer retried on another instance, streams (live updates) kept open for an hour.
start_haproxy() {
  running "$dir/haproxy.pid" && return
  local i
  {
    cat <<CFG
global
    maxconn 8000
    log stdout format raw local0 warning

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout http-keep-alive 10s
    option redispatch
    retries 3
    retry-on conn-failure empty-response response-timeout 502 503
    option httpchk GET /admin/api/health
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions

listen stats
    bind 127.0.0.1:$HAPROXY_STATS_PORT
    stats enable
    stats uri /

frontend postgres_instances
    bind 127.0.0.1:$HAPROXY_PG_PORT
    option forwardfor
    default_backend postgres_instances

backend postgres_instances
    balance roundrobin
    # A request whose answer was lost (the instance died with it) is sent again only when
    # sending it twice does no harm; a refused connection is always tried on another.
    http-request disable-l7-retry if METH_POST || { method PATCH }
CFG
    for i in $(seq 0 $((INSTANCES - 1))); do
      echo "    server pg$i 127.0.0.1:$((PG_INSTANCE_PORT + i)) check"
    done
    cat <<CFG

frontend galera_instances
    bind 127.0.0.1:$HAPROXY_GALERA_PORT
    option forwardfor
    default_backend galera_instances

backend galera_instances
    balance roundrobin
    # A request whose answer was lost (the instance died with it) is sent again only when
    # sending it twice does no harm; a refused connection is always tried on another.
    http-request disable-l7-retry if METH_POST || { method PATCH }
CFG
    for i in 0 1 2; do
      echo "    server galera$i 127.0.0.1:$((GALERA_INSTANCE_PORT + i)) check"
    done
  } > "$dir/haproxy.cfg"
  /usr/sbin/haproxy -c -q -f "$dir/haproxy.cfg"
  /usr/sbin/haproxy -D -f "$dir/haproxy.cfg" -p "$dir/haproxy.pid"
  wait_http "http://127.0.0.1:$HAPROXY_PG_PORT/admin/api/health" 30
  wait_http "http://127.0.0.1:$HAPROXY_GALERA_PORT/admin/api/health" 30
}

write_env() {
  cat > "$dir/cluster.env" <<ENV
# Written by deploy/local/up.sh.
CLUSTER_DIR=$dir
CLUSTER_BIN=$bin
CLUSTER_USER=admin
CLUSTER_PASSWORD=$CLUSTER_PASSWORD
PG_PRIMARY_URL=postgres://postgres@127.0.0.1:$PG_PRIMARY_PORT/autoadmin
PG_REPLICA_URL=postgres://postgres@127.0.0.1:$PG_REPLICA_PORT/autoadmin
PG_POOLER_URL=$PG_POOLER_URL
GALERA_URLS=$(for i in 0 1 2; do printf 'mysql://root@127.0.0.1:%s/autoadmin ' $((GALERA_PORT + i)); done)
PG_INSTANCES=$(for i in $(seq 0 $((INSTANCES - 1))); do printf 'http://127.0.0.1:%s/admin ' $((PG_INSTANCE_PORT + i)); done)
GALERA_INSTANCES=$(for i in 0 1 2; do printf 'http://127.0.0.1:%s/admin ' $((GALERA_INSTANCE_PORT + i)); done)
PG_PROXY=http://127.0.0.1:$HAPROXY_PG_PORT/admin
GALERA_PROXY=http://127.0.0.1:$HAPROXY_GALERA_PORT/admin
ENV
}

bin="$(cluster_bin)"
mkdir -p "$dir"
install_packages
start_primary
start_replica
AUTOADMIN_LOCAL_DIR="$dir" AUTOADMIN_PG_PORT="$PG_PRIMARY_PORT" \
  "$here/pgbouncer.sh" start "$PG_POOLER_PORT" >/dev/null
start_galera
migrate
instance_config
start_instances
start_haproxy
write_env
sed -n 's/^\(PG_\|GALERA_\)/\1/p' "$dir/cluster.env"
echo "cluster up: $dir/cluster.env; stop it with deploy/local/down.sh"
