# shellcheck shell=bash
# Settings of the local data-services stack (PostgreSQL, Redis, Kafka, Zipkin).
#
# Sourced by up.sh / down.sh / status.sh, and meant to be sourced by you too:
#     source deploy/local/env.sh     # exports DATABASE_URL, REDIS_URL, KAFKA_BROKERS, ZIPKIN_URL
# Every variable keeps a value already set in the environment; the value after
# ":=" is only the default. This file changes no shell options, so sourcing it
# into an interactive shell is safe.

_custodian_local_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Repository root (two levels above this file).
CUSTODIAN_REPO_ROOT="$(cd "$_custodian_local_dir/../.." && pwd)"
export CUSTODIAN_REPO_ROOT
unset _custodian_local_dir

# Where everything the stack downloads and keeps lives: dist/ (jars), data/, logs/, run/ (pids, sockets), config/.
: "${CUSTODIAN_STACK_DIR:=$CUSTODIAN_REPO_ROOT/.stack}"
# Seconds up.sh waits for one service to become ready before it reports a failure.
: "${CUSTODIAN_START_TIMEOUT:=120}"
# Seconds down.sh waits after SIGTERM (Kafka, Zipkin) before it sends SIGKILL.
: "${CUSTODIAN_STOP_TIMEOUT:=30}"

# PostgreSQL: TCP port (bound to 127.0.0.1 only).
: "${PG_PORT:=5432}"
# PostgreSQL: application role (LOGIN, CREATEDB), created by up.sh.
: "${PG_USER:=custodian}"
# PostgreSQL: password of PG_USER (host connections use scram-sha-256).
: "${PG_PASSWORD:=custodian}"
# PostgreSQL: application database, owned by PG_USER, created by up.sh.
: "${PG_DATABASE:=custodian}"
# PostgreSQL: folder with initdb/pg_ctl/postgres; empty = newest /usr/lib/postgresql/*/bin.
: "${PG_BIN:=}"

# Redis: TCP port (bound to 127.0.0.1 only).
: "${REDIS_PORT:=6379}"

# Kafka: client (PLAINTEXT) port (bound to 127.0.0.1 only).
: "${KAFKA_PORT:=9092}"
# Kafka: KRaft controller port (bound to 127.0.0.1 only).
: "${KAFKA_CONTROLLER_PORT:=9093}"
# Kafka: version of org.apache.kafka:kafka_2.13 fetched from Maven Central.
: "${KAFKA_VERSION:=3.9.1}"
# Kafka: partitions of each topic in KAFKA_TOPICS (and the broker's num.partitions).
: "${KAFKA_PARTITIONS:=6}"
# Kafka: topics up.sh creates if missing (space separated): the signal topics and the
# dead-letter topic of records the worker cannot process (libs/bus DEAD_LETTER_TOPIC).
: "${KAFKA_TOPICS:=otlp.traces otlp.logs otlp.metrics otlp.deadletter}"
# Kafka: largest record the otlp.* topics accept (one request's spans of one partition).
: "${KAFKA_MAX_MESSAGE_BYTES:=26214400}"
# Kafka: maximum heap of the broker JVM.
: "${KAFKA_HEAP:=512m}"

# Zipkin: HTTP port of the server (UI, API, /health), bound to 127.0.0.1.
: "${ZIPKIN_PORT:=9412}"
# Zipkin: version of io.zipkin:zipkin-server (exec jar) fetched from Maven Central.
: "${ZIPKIN_VERSION:=3.6.1}"
# Zipkin: maximum heap of the server JVM (storage is in memory).
: "${ZIPKIN_HEAP:=256m}"

export CUSTODIAN_STACK_DIR CUSTODIAN_START_TIMEOUT CUSTODIAN_STOP_TIMEOUT \
  PG_PORT PG_USER PG_PASSWORD PG_DATABASE PG_BIN REDIS_PORT \
  KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_VERSION KAFKA_PARTITIONS KAFKA_TOPICS KAFKA_MAX_MESSAGE_BYTES KAFKA_HEAP \
  ZIPKIN_PORT ZIPKIN_VERSION ZIPKIN_HEAP

# Derived connection strings for the apps and tests (kept if already set).
: "${DATABASE_URL:=postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DATABASE}}"
: "${REDIS_URL:=redis://127.0.0.1:${REDIS_PORT}}"
: "${KAFKA_BROKERS:=127.0.0.1:${KAFKA_PORT}}"
: "${ZIPKIN_URL:=http://127.0.0.1:${ZIPKIN_PORT}}"
export DATABASE_URL REDIS_URL KAFKA_BROKERS ZIPKIN_URL
