# shellcheck shell=bash
# Helpers shared by up.sh, down.sh and status.sh (not meant to be run or sourced by hand).

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$LOCAL_DIR/env.sh"

umask 022

STACK="$CUSTODIAN_STACK_DIR"
DIST_DIR="$STACK/dist"
DATA_DIR="$STACK/data"
LOG_DIR="$STACK/logs"
RUN_DIR="$STACK/run"
CONF_DIR="$STACK/config"

ALL_SERVICES=(postgres redis kafka zipkin)

# ---------------------------------------------------------------- output --
log() { local svc=$1; shift; printf '%s: %s\n' "$svc" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
# Print the last lines of a log file, indented.
log_tail() {
  local file=$1 n=${2:-40}
  if [[ -s "$file" ]]; then
    printf '    --- last %s lines of %s ---\n' "$n" "$file"
    tail -n "$n" "$file" | sed 's/^/    /'
  else
    printf '    (no log at %s)\n' "$file"
  fi
}

# ------------------------------------------------------- argument parsing --
# parse_services ARGS... -> SERVICES array (default: all, in start order).
parse_services() {
  SERVICES=()
  local a s ok
  for a in "$@"; do
    [[ "$a" == all ]] && { SERVICES=("${ALL_SERVICES[@]}"); continue; }
    ok=
    for s in "${ALL_SERVICES[@]}"; do [[ "$a" == "$s" ]] && ok=1; done
    [[ -n "$ok" ]] || die "unknown service '$a' (known: ${ALL_SERVICES[*]})"
  done
  if [[ ${#SERVICES[@]} -eq 0 ]]; then
    if [[ $# -eq 0 ]]; then
      SERVICES=("${ALL_SERVICES[@]}")
    else # keep the canonical order, drop duplicates
      for s in "${ALL_SERVICES[@]}"; do
        for a in "$@"; do [[ "$a" == "$s" ]] && { SERVICES+=("$s"); break; }; done
      done
    fi
  fi
  return 0
}

# ------------------------------------------------------------- processes --
is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Run a command as root (sudo when not root).
as_root() {
  if is_root; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root for: $* (no sudo available)"
  fi
}

# Run a command with every file descriptor above 2 closed and cwd=/, so that
# a daemon started by it holds no pipe or lock of the caller (npm, CI, flock).
clean_exec() {
  bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
             if [[ "$fd" -gt 2 ]]; then eval "exec $fd>&-"; fi; done
           cd / && exec "$@"' clean_exec "$@"
}

# detach PIDFILE LOGFILE CMD... : start CMD in its own session (survives the
# caller's shell and terminal), stdin from /dev/null, stdout+stderr appended
# to LOGFILE; CMD's pid is written to PIDFILE before it starts.
detach() {
  local pidfile=$1 logfile=$2; shift 2
  rm -f "$pidfile"
  setsid nohup bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
             if [[ "$fd" -gt 2 ]]; then eval "exec $fd>&-"; fi; done
           echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 50; i++)); do [[ -s "$pidfile" ]] && return 0; sleep 0.1; done
  return 1
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# pid_cmd_has PID STRING... : the process's command line contains every STRING.
pid_cmd_has() {
  local pid=$1 cmd s; shift
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  for s in "$@"; do [[ "$cmd" == *"$s"* ]] || return 1; done
}

read_pidfile() { [[ -s "$1" ]] && head -n1 "$1" | tr -dc '0-9'; }

# TCP port on 127.0.0.1 accepts connections.
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

port_user() { ss -ltnpH "sport = :$1" 2>/dev/null | head -n1; }

# Fail when a port we are about to bind is taken by someone else.
check_port_free() {
  local svc=$1 port=$2
  if port_open "$port"; then
    log "$svc" "port 127.0.0.1:$port is already in use by another process: $(port_user "$port")"
    return 1
  fi
}

# stop_pid SVC PID : SIGTERM, wait CUSTODIAN_STOP_TIMEOUT s, then SIGKILL.
stop_pid() {
  local svc=$1 pid=$2 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < CUSTODIAN_STOP_TIMEOUT * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "$svc" "still running after ${CUSTODIAN_STOP_TIMEOUT}s, sending SIGKILL to $pid"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_alive "$pid" || return 0; sleep 0.1; done
  return 1
}

# ------------------------------------------------------------- postgres --
PG_DATA="$DATA_DIR/postgres"
PG_LOG="$LOG_DIR/postgres.log"
PG_SOCK_DIR="$RUN_DIR/postgres"
# Unix socket paths are limited to 107 bytes: fall back to /tmp for deep checkouts.
if (( ${#PG_SOCK_DIR} > 80 )); then
  PG_SOCK_DIR="/tmp/custodian-pg-$(printf '%s' "$STACK" | md5sum | cut -c1-10)"
fi

pg_bindir() {
  if [[ -n "$PG_BIN" ]]; then printf '%s\n' "$PG_BIN"; return; fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [[ -n "$d" ]] && printf '%s\n' "$d"
}

# OS user that owns and runs the cluster: initdb/postgres refuse root.
pg_os_user() { if is_root; then echo postgres; else id -un; fi; }

# Run a PostgreSQL program as the cluster owner.
as_pg() {
  if is_root; then clean_exec runuser -u postgres -- "$@"
  else clean_exec "$@"
  fi
}

postgres_pid() {
  local pid
  pid="$(read_pidfile "$PG_DATA/postmaster.pid" 2>/dev/null)" || return 1
  pid_alive "$pid" && pid_cmd_has "$pid" postgres && printf '%s\n' "$pid"
}

postgres_ready() {
  local bin; bin="$(pg_bindir)" || return 1
  [[ -x "$bin/pg_isready" ]] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2
}

# ---------------------------------------------------------------- redis --
REDIS_DATA="$DATA_DIR/redis"
REDIS_PIDFILE="$RUN_DIR/redis.pid"
REDIS_LOG="$LOG_DIR/redis.log"

redis_pid() {
  local pid; pid="$(read_pidfile "$REDIS_PIDFILE")" || return 1
  pid_alive "$pid" && pid_cmd_has "$pid" redis-server && printf '%s\n' "$pid"
}

redis_ready() {
  command -v redis-cli >/dev/null 2>&1 &&
    [[ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

# ---------------------------------------------------------------- kafka --
KAFKA_HOME="$DIST_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_DATA="$DATA_DIR/kafka"
KAFKA_CONF="$CONF_DIR/kafka/server.properties"
KAFKA_PIDFILE="$RUN_DIR/kafka.pid"
KAFKA_LOG="$LOG_DIR/kafka.log"

kafka_pid() {
  local pid; pid="$(read_pidfile "$KAFKA_PIDFILE")" || return 1
  pid_alive "$pid" && pid_cmd_has "$pid" kafka.Kafka "$KAFKA_CONF" && printf '%s\n' "$pid"
}

# The broker answers an ApiVersions request (raw Kafka protocol over
# /dev/tcp: no JVM needed, a few milliseconds).
kafka_ready() {
  local out
  out="$(timeout 3 bash -c '
      exec 3<>/dev/tcp/127.0.0.1/'"$KAFKA_PORT"' || exit 1
      printf "\x00\x00\x00\x0b\x00\x12\x00\x00\x00\x00\x00\x01\x00\x01x" >&3
      head -c 10 <&3 | od -An -tx1' 2>/dev/null)" || return 1
  # shellcheck disable=SC2086
  set -- $out
  # response: size(4) correlation_id(4)=1 error_code(2)=0
  [[ $# -eq 10 && "$5$6$7$8" == 00000001 && "$9${10}" == 0000 ]]
}

# Run a Kafka command-line class (TopicCommand, console producer, ...).
kafka_tool() {
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$LOCAL_DIR/kafka/tools-log4j.properties" \
    -cp "$KAFKA_LIBS/*" "$@"
}

# --------------------------------------------------------------- zipkin --
ZIPKIN_JAR="$DIST_DIR/zipkin-server-$ZIPKIN_VERSION-exec.jar"
ZIPKIN_PIDFILE="$RUN_DIR/zipkin.pid"
ZIPKIN_LOG="$LOG_DIR/zipkin.log"

zipkin_pid() {
  local pid; pid="$(read_pidfile "$ZIPKIN_PIDFILE")" || return 1
  pid_alive "$pid" && pid_cmd_has "$pid" "$DIST_DIR/zipkin-server-" && printf '%s\n' "$pid"
}

zipkin_ready() {
  curl -fsS --max-time 2 "http://127.0.0.1:$ZIPKIN_PORT/health" 2>/dev/null |
    grep -q '"status" *: *"UP"'
}

# ------------------------------------------------------------- dispatch --
svc_port() {
  case $1 in
    postgres) echo "$PG_PORT" ;; redis) echo "$REDIS_PORT" ;;
    kafka) echo "$KAFKA_PORT" ;; zipkin) echo "$ZIPKIN_PORT" ;;
  esac
}
svc_pid() { "${1}_pid"; }
svc_ready() { "${1}_ready"; }
# Our process is alive and answers.
svc_up() { svc_pid "$1" >/dev/null && svc_ready "$1"; }
svc_log() {
  case $1 in
    postgres) echo "$PG_LOG" ;; redis) echo "$REDIS_LOG" ;;
    kafka) echo "$KAFKA_LOG" ;; zipkin) echo "$ZIPKIN_LOG" ;;
  esac
}

# One up.sh/down.sh at a time per stack (npm scripts may run in parallel).
take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 600 9 || die "another up.sh/down.sh holds $RUN_DIR/.lock"
}
