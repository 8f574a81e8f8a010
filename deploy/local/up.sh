#!/usr/bin/env bash
# Install what is missing and start the local data services, all on 127.0.0.1:
#   up.sh [postgres] [redis] [kafka] [zipkin]     (default: all four)
# Idempotent: a service that is already up is left alone. Settings: env.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

case "${1:-}" in -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
parse_services "$@"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
T0="$(now)"

mkdir -p "$DIST_DIR" "$DATA_DIR" "$LOG_DIR" "$RUN_DIR" "$CONF_DIR"
take_lock

# ------------------------------------------------------------- installs --
apt_install() {
  local log="$LOG_DIR/apt.log"
  local -a get=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300)
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    log apt "package lists are empty: apt-get update"
    as_root "${get[@]}" update >>"$log" 2>&1 || { log_tail "$log"; return 1; }
  fi
  log apt "apt-get install $*"
  if ! as_root "${get[@]}" install --no-install-recommends "$@" >>"$log" 2>&1; then
    log apt "install failed: apt-get update, then retry"
    as_root "${get[@]}" update >>"$log" 2>&1 &&
      as_root "${get[@]}" install --no-install-recommends "$@" >>"$log" 2>&1 ||
      { log_tail "$log"; return 1; }
  fi
}

need_java() {
  command -v java >/dev/null 2>&1 || apt_install default-jre-headless
}
need_mvn() {
  need_java
  command -v mvn >/dev/null 2>&1 || apt_install maven
}

install_postgres() {
  local bin; bin="$(pg_bindir || true)"
  if [[ -z "$bin" || ! -x "$bin/initdb" || ! -x "$bin/pg_ctl" ]]; then
    apt_install postgresql
    # Without a policy-rc.d the Debian package starts its own cluster: stop it,
    # this stack runs its own.
    if command -v pg_lsclusters >/dev/null 2>&1; then
      pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1, $2 }' |
        while read -r ver name; do
          log postgres "stopping the system cluster $ver/$name started by the package"
          as_root pg_ctlcluster "$ver" "$name" stop || true
        done
    fi
    bin="$(pg_bindir)" || die "postgres: no binaries after install"
  fi
  if is_root && ! id postgres >/dev/null 2>&1; then
    die "postgres: running as root needs the 'postgres' OS user to own the cluster"
  fi
}

install_redis() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    apt_install redis-server
    # Same as for postgres: stop a system redis the package may have started.
    local pid; pid="$(cat /run/redis/redis-server.pid 2>/dev/null || true)"
    if pid_alive "$pid"; then
      log redis "stopping the system redis-server ($pid) started by the package"
      as_root kill -TERM "$pid" || true
    fi
  fi
}

install_kafka() {
  need_java
  [[ -f "$KAFKA_HOME/.complete" ]] && return 0
  need_mvn
  local t; t="$(now)"
  log kafka "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_HOME/libs"
  rm -rf "$KAFKA_HOME"
  mkdir -p "$KAFKA_HOME"
  if ! (cd "$KAFKA_HOME" && mvn -q -B -f "$LOCAL_DIR/kafka/pom.xml" \
        -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
        -DoutputDirectory="$KAFKA_HOME/libs.tmp") >"$LOG_DIR/mvn-kafka.log" 2>&1; then
    log kafka "maven failed"; log_tail "$LOG_DIR/mvn-kafka.log"; return 1
  fi
  mv "$KAFKA_HOME/libs.tmp" "$KAFKA_LIBS"
  touch "$KAFKA_HOME/.complete"
  log kafka "fetched $(ls "$KAFKA_LIBS" | wc -l) jars in $(elapsed "$t")"
}

install_zipkin() {
  need_java
  [[ -s "$ZIPKIN_JAR" ]] && return 0
  need_mvn
  local t tmp; t="$(now)"; tmp="$DIST_DIR/.zipkin-$ZIPKIN_VERSION.tmp"
  log zipkin "fetching io.zipkin:zipkin-server:$ZIPKIN_VERSION:exec from Maven Central"
  rm -rf "$tmp"; mkdir -p "$tmp"
  if ! (cd "$tmp" && mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
        -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" \
        -DoutputDirectory="$tmp") >"$LOG_DIR/mvn-zipkin.log" 2>&1; then
    log zipkin "maven failed"; log_tail "$LOG_DIR/mvn-zipkin.log"; rm -rf "$tmp"; return 1
  fi
  mv "$tmp/zipkin-server-$ZIPKIN_VERSION-exec.jar" "$ZIPKIN_JAR"
  rm -rf "$tmp"
  log zipkin "fetched $(basename "$ZIPKIN_JAR") in $(elapsed "$t")"
}

# --------------------------------------------------------------- starts --
# A line in the service's log where this start begins.
log_mark() { printf '\n===== %s: deploy/local/up.sh starting the service =====\n' "$(date '+%F %T')" >>"$1"; }

# Each start_* launches the service without waiting; wait_ready waits.
start_postgres() {
  local bin owner; bin="$(pg_bindir)"; owner="$(pg_os_user)"
  if postgres_pid >/dev/null; then
    log postgres "process running, waiting for it"; return 0
  fi
  check_port_free postgres "$PG_PORT" || return 1
  mkdir -p "$PG_DATA" "$PG_SOCK_DIR"
  touch "$PG_LOG"
  if is_root; then chown "$owner:" "$PG_DATA" "$PG_SOCK_DIR" "$PG_LOG"; fi
  chmod 700 "$PG_DATA"
  if ! as_pg test -w "$PG_DATA"; then
    log postgres "OS user '$owner' cannot write $PG_DATA (is a parent folder closed to it?)"
    return 1
  fi
  if [[ ! -s "$PG_DATA/PG_VERSION" ]]; then
    log postgres "initdb $PG_DATA (superuser 'postgres', local trust, host scram-sha-256)"
    find "$PG_DATA" -mindepth 1 -delete
    if ! as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
          --auth-local=trust --auth-host=scram-sha-256 --no-instructions >>"$PG_LOG" 2>&1; then
      log postgres "initdb failed"; log_tail "$PG_LOG"; return 1
    fi
  fi
  log postgres "starting on 127.0.0.1:$PG_PORT"
  log_mark "$PG_LOG"
  # postgres_pid said no live postmaster: a leftover lock file is stale.
  rm -f "$PG_DATA/postmaster.pid"
  if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -W \
        -o "-p $PG_PORT -k $PG_SOCK_DIR -c listen_addresses=127.0.0.1" start >/dev/null 2>>"$PG_LOG"; then
    log postgres "pg_ctl start failed"; log_tail "$PG_LOG"; return 1
  fi
}

start_redis() {
  if redis_pid >/dev/null; then log redis "process running, waiting for it"; return 0; fi
  check_port_free redis "$REDIS_PORT" || return 1
  mkdir -p "$REDIS_DATA"
  rm -f "$REDIS_PIDFILE"
  log redis "starting on 127.0.0.1:$REDIS_PORT"
  log_mark "$REDIS_LOG"
  if ! clean_exec redis-server --daemonize yes --port "$REDIS_PORT" --bind 127.0.0.1 \
        --dir "$REDIS_DATA" --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" \
        --appendonly yes --protected-mode yes >>"$REDIS_LOG" 2>&1; then
    log redis "redis-server failed to start"; log_tail "$REDIS_LOG"; return 1
  fi
}

# Kafka cluster ids are 16 random bytes in URL-safe base64 without padding.
kafka_random_id() {
  local id
  while :; do
    id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && { printf '%s\n' "$id"; return; }
  done
}

write_kafka_config() {
  mkdir -p "$(dirname "$KAFKA_CONF")"
  cat >"$KAFKA_CONF" <<EOF
# Generated by deploy/local/up.sh on each start; edit env.sh / up.sh instead.
# Single combined KRaft broker+controller for local development.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${KAFKA_DATA}
num.partitions=${KAFKA_PARTITIONS}
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
EOF
}

start_kafka() {
  if kafka_pid >/dev/null; then log kafka "process running, waiting for it"; return 0; fi
  check_port_free kafka "$KAFKA_PORT" || return 1
  check_port_free kafka "$KAFKA_CONTROLLER_PORT" || return 1
  write_kafka_config
  log_mark "$KAFKA_LOG"
  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    local id; id="$(kafka_random_id)"
    log kafka "formatting KRaft storage $KAFKA_DATA (cluster id $id)"
    rm -rf "$KAFKA_DATA"; mkdir -p "$KAFKA_DATA"
    if ! kafka_tool kafka.tools.StorageTool format -t "$id" -c "$KAFKA_CONF" >>"$KAFKA_LOG" 2>&1; then
      log kafka "storage format failed"; log_tail "$KAFKA_LOG"; return 1
    fi
  fi
  log kafka "starting Kafka $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT, controller :$KAFKA_CONTROLLER_PORT"
  detach "$KAFKA_PIDFILE" "$KAFKA_LOG" java -Xms256m -Xmx"$KAFKA_HEAP" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$LOCAL_DIR/kafka/log4j.properties" \
    -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONF"
}

start_zipkin() {
  if zipkin_pid >/dev/null; then log zipkin "process running, waiting for it"; return 0; fi
  check_port_free zipkin "$ZIPKIN_PORT" || return 1
  log zipkin "starting Zipkin $ZIPKIN_VERSION (in-memory storage) on 127.0.0.1:$ZIPKIN_PORT"
  log_mark "$ZIPKIN_LOG"
  detach "$ZIPKIN_PIDFILE" "$ZIPKIN_LOG" java -Xms64m -Xmx"$ZIPKIN_HEAP" -XX:+UseSerialGC \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -jar "$ZIPKIN_JAR" --server.port="$ZIPKIN_PORT" \
    --armeria.ports[0].ip=127.0.0.1 --armeria.ports[0].port="$ZIPKIN_PORT" \
    --armeria.ports[0].protocols[0]=http \
    --zipkin.storage.type=mem --zipkin.storage.mem.max-spans=100000 \
    --zipkin.self-tracing.enabled=false
}

# ---------------------------------------------------------------- waits --
# wait_ready SVC START_TIME: until our process is alive and answers.
wait_ready() {
  local svc=$1 t=$2 deadline grace
  # Kafka/Zipkin write their pid file before they start; postgres and redis
  # write theirs a moment after pg_ctl / redis-server return.
  case $svc in postgres) grace=5 ;; redis) grace=2 ;; *) grace=0 ;; esac
  deadline=$((SECONDS + CUSTODIAN_START_TIMEOUT)); grace=$((SECONDS + grace))
  while :; do
    if svc_pid "$svc" >/dev/null; then
      if svc_ready "$svc"; then
        log "$svc" "ready on 127.0.0.1:$(svc_port "$svc") (pid $(svc_pid "$svc"), $(elapsed "$t"))"
        return 0
      fi
    elif (( SECONDS >= grace )); then
      log "$svc" "process exited during startup"; log_tail "$(svc_log "$svc")"; return 1
    fi
    if (( SECONDS >= deadline )); then
      log "$svc" "not ready after ${CUSTODIAN_START_TIMEOUT}s (process left running; see down.sh)"
      log_tail "$(svc_log "$svc")"; return 1
    fi
    sleep 0.3
  done
}

# ----------------------------------------------------------- post-start --
setup_postgres() {
  local bin; bin="$(pg_bindir)"
  if ! as_pg "$bin/psql" -X -q -h "$PG_SOCK_DIR" -p "$PG_PORT" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -v u="$PG_USER" -v p="$PG_PASSWORD" -v d="$PG_DATABASE" \
        >/dev/null 2>>"$PG_LOG" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'u', :'p')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'u', :'p') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'u')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'d') \gexec
SQL
  then
    log postgres "creating role/database failed"; log_tail "$PG_LOG" 10; return 1
  fi
  # The application's own path: password login over TCP.
  if ! PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5 "$bin/psql" -X -q -tA -h 127.0.0.1 \
        -p "$PG_PORT" -U "$PG_USER" -d "$PG_DATABASE" -c 'select 1' >/dev/null; then
    log postgres "login as $PG_USER over TCP failed"; return 1
  fi
  log postgres "role '$PG_USER' (LOGIN CREATEDB) and database '$PG_DATABASE' ok"
}

setup_kafka() {
  local boot="127.0.0.1:$KAFKA_PORT" existing t out rc=0 tmp
  local -a missing=() pids=()
  # A metadata request through the admin client: the broker serves clients.
  if ! existing="$(kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" --list 2>>"$KAFKA_LOG")"; then
    log kafka "listing topics failed"; log_tail "$KAFKA_LOG" 20; return 1
  fi
  for t in $KAFKA_TOPICS; do
    grep -qxF "$t" <<<"$existing" || missing+=("$t")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log kafka "topics present: $KAFKA_TOPICS"; return 0
  fi
  tmp="$(mktemp -d)"
  for t in "${missing[@]}"; do
    kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" --create \
      --if-not-exists --topic "$t" --partitions "$KAFKA_PARTITIONS" --replication-factor 1 \
      --config "max.message.bytes=$KAFKA_MAX_MESSAGE_BYTES" \
      >"$tmp/$t" 2>&1 &
    pids+=($!)
  done
  for i in "${!missing[@]}"; do
    if ! wait "${pids[$i]}"; then
      rc=1; log kafka "creating topic ${missing[$i]} failed:"; sed 's/^/    /' "$tmp/${missing[$i]}"
    fi
  done
  rm -rf "$tmp"
  [[ $rc -eq 0 ]] && log kafka "created topics ${missing[*]} ($KAFKA_PARTITIONS partitions each)"
  return $rc
}

setup_redis() { :; }
setup_zipkin() { :; }

# ----------------------------------------------------------------- main --
TODO=()
for svc in "${SERVICES[@]}"; do
  if svc_up "$svc"; then
    log "$svc" "already up (127.0.0.1:$(svc_port "$svc"), pid $(svc_pid "$svc"))"
  else
    TODO+=("$svc")
  fi
done
[[ ${#TODO[@]} -eq 0 ]] && exit 0

FAILED=()
failed() { local s; for s in "${FAILED[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }
wanted() { local s; for s in "${TODO[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }

for svc in "${TODO[@]}"; do
  "install_$svc" || FAILED+=("$svc")
done

# Launch the slow JVMs first so they boot while postgres and redis start.
declare -A STARTED_AT
for svc in kafka zipkin postgres redis; do
  wanted "$svc" && ! failed "$svc" || continue
  STARTED_AT[$svc]="$(now)"
  "start_$svc" || FAILED+=("$svc")
done

for svc in "${TODO[@]}"; do
  failed "$svc" && continue
  if wait_ready "$svc" "${STARTED_AT[$svc]}"; then
    "setup_$svc" || FAILED+=("$svc")
  else
    FAILED+=("$svc")
  fi
done

if [[ ${#FAILED[@]} -gt 0 ]]; then
  printf 'up: FAILED: %s (logs in %s)\n' "${FAILED[*]}" "$LOG_DIR" >&2
  exit 1
fi
printf 'up: %s up in %s\n' "${TODO[*]}" "$(elapsed "$T0")"
