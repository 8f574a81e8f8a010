#!/usr/bin/env bash
# Stop the local data services (default: all four); idempotent.
#   down.sh [--purge] [postgres] [redis] [kafka] [zipkin]
# --purge also deletes their data (and generated config); downloaded jars in dist/ are kept.
set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

PURGE=
ARGS=()
for a in "$@"; do
  case $a in
    --purge) PURGE=1 ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$a") ;;
  esac
done
parse_services ${ARGS[@]+"${ARGS[@]}"}
[[ -d "$STACK" ]] || { for s in "${SERVICES[@]}"; do log "$s" "already down"; done; exit 0; }
take_lock

stop_postgres() {
  local pid bin; bin="$(pg_bindir || true)"
  if ! pid="$(postgres_pid)"; then log postgres "already down"; return 0; fi
  log postgres "stopping (pid $pid, pg_ctl stop -m fast)"
  if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t "$CUSTODIAN_STOP_TIMEOUT" stop >/dev/null 2>>"$PG_LOG"; then
    log postgres "fast shutdown timed out: -m immediate"
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>>"$PG_LOG" || return 1
  fi
  log postgres "stopped"
}

stop_redis() {
  local pid i
  if ! pid="$(redis_pid)"; then
    rm -f "$REDIS_PIDFILE"; log redis "already down"; return 0
  fi
  log redis "stopping (pid $pid, redis-cli shutdown)"
  timeout 10 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
  for ((i = 0; i < 100; i++)); do pid_alive "$pid" || break; sleep 0.1; done
  pid_alive "$pid" && { stop_pid redis "$pid" || return 1; }
  rm -f "$REDIS_PIDFILE"
  log redis "stopped"
}

stop_java() {
  local svc=$1 pidfile=$2 pid
  if ! pid="$("${svc}_pid")"; then
    rm -f "$pidfile"; log "$svc" "already down"; return 0
  fi
  log "$svc" "stopping (pid $pid, SIGTERM)"
  stop_pid "$svc" "$pid" || { log "$svc" "could not stop pid $pid"; return 1; }
  rm -f "$pidfile"
  log "$svc" "stopped"
}
stop_kafka() { stop_java kafka "$KAFKA_PIDFILE"; }
stop_zipkin() { stop_java zipkin "$ZIPKIN_PIDFILE"; }

purge() {
  case $1 in
    postgres) rm -rf "$PG_DATA" "$PG_SOCK_DIR" ;;
    redis) rm -rf "$REDIS_DATA" ;;
    kafka) rm -rf "$KAFKA_DATA" "$CONF_DIR/kafka" ;;
    zipkin) ;; # in-memory storage: nothing on disk
  esac
  log "$1" "data purged"
}

stop_one() {
  if "stop_$1"; then
    [[ -z "$PURGE" ]] || purge "$1"
  else
    return 1
  fi
}

requested() { local s; for s in "${SERVICES[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }

# Zipkin, Kafka and Redis stop in parallel (each takes a second or a few),
# then PostgreSQL.
rc=0
pids=()
for svc in zipkin kafka redis; do
  requested "$svc" || continue
  stop_one "$svc" &
  pids+=($!)
done
for pid in ${pids[@]+"${pids[@]}"}; do wait "$pid" || rc=1; done
if requested postgres; then stop_one postgres || rc=1; fi
exit $rc
