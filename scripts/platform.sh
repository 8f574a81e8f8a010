#!/usr/bin/env bash
# The whole platform on this machine (README: `npm run up`):
#   up      install what is missing, start PostgreSQL, Redis, Kafka and Zipkin, apply the
#           migrations, create the demo tenant and its API key, start Custodian as one process
#           (--target=all), wait until it is ready, and print where everything is.
#   down    stop Custodian and the data services (add --purge to drop their data too).
#   status  what is running.
# Idempotent: `up` when everything is up only prints the summary again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source deploy/local/env.sh

RUN_DIR="$CUSTODIAN_STACK_DIR/run"
LOG_DIR="$CUSTODIAN_STACK_DIR/logs"
PID_FILE="$RUN_DIR/custodian.pid"
KEY_FILE="$CUSTODIAN_STACK_DIR/demo-api-key"
ADMIN_EMAIL="admin@custodian.local"
ADMIN_PASSWORD_FILE="$CUSTODIAN_STACK_DIR/demo-admin-password"
: "${CUSTODIAN_OPS_PORT:=9464}" "${CUSTODIAN_ADMIN_PORT:=4000}"
: "${CUSTODIAN_OTLP_GRPC_PORT:=4317}" "${CUSTODIAN_OTLP_HTTP_PORT:=4318}" "${CUSTODIAN_ZIPKIN_PORT:=9411}"
export CUSTODIAN_OPS_PORT CUSTODIAN_ADMIN_PORT CUSTODIAN_OTLP_GRPC_PORT CUSTODIAN_OTLP_HTTP_PORT CUSTODIAN_ZIPKIN_PORT
export KAFKA_TOPIC_PARTITIONS="${KAFKA_TOPIC_PARTITIONS:-$KAFKA_PARTITIONS}"

custodian_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_ready() {
  local deadline=$((SECONDS + 60))
  until curl -fsS "http://127.0.0.1:${CUSTODIAN_OPS_PORT}/readyz" >/dev/null 2>&1; do
    if ! custodian_pid >/dev/null; then
      echo "custodian exited during start; last log lines:" >&2
      tail -n 30 "$LOG_DIR/custodian.log" >&2
      return 1
    fi
    if [ $SECONDS -gt $deadline ]; then
      echo "custodian not ready after 60 s:" >&2
      curl -sS "http://127.0.0.1:${CUSTODIAN_OPS_PORT}/readyz" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

up() {
  bash scripts/ensure-node-deps.sh
  if [ ! -f dist/apps/custodian/src/main.js ] || [ -n "$(find apps libs prisma -newer dist/apps/custodian/src/main.js -type f -print -quit)" ]; then
    echo "== build"
    npm run --silent build >/dev/null
  fi
  bash deploy/local/up.sh
  echo "== migrations"
  npx prisma migrate deploy 2>&1 | grep -E 'applied|No pending|Error' || true
  echo "== demo tenant"
  demo_json=$(node dist/apps/custodian/src/main.js demo --key-file "$KEY_FILE" --zipkin-url "$ZIPKIN_URL")
  api_key=$(node -e 'console.log(JSON.parse(process.argv[1]).apiKey)' "$demo_json")
  tenant_id=$(node -e 'console.log(JSON.parse(process.argv[1]).tenantId)' "$demo_json")
  ensure_demo_admin

  if pid=$(custodian_pid); then
    echo "custodian: already running (pid $pid)"
  else
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    echo "== starting custodian --target=all (log: $LOG_DIR/custodian.log)"
    setsid nohup node dist/apps/custodian/src/main.js start --target=all \
      >>"$LOG_DIR/custodian.log" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
  fi
  wait_ready

  local receivers
  if listening "$CUSTODIAN_OTLP_HTTP_PORT"; then
    receivers="  OTLP/gRPC     127.0.0.1:${CUSTODIAN_OTLP_GRPC_PORT}
  OTLP/HTTP     http://127.0.0.1:${CUSTODIAN_OTLP_HTTP_PORT}/v1/traces  (/v1/metrics, /v1/logs)
  Zipkin        http://127.0.0.1:${CUSTODIAN_ZIPKIN_PORT}/api/v2/spans"
  else
    receivers="  OTLP/Zipkin   not served by this build yet (the gateway's receivers are an open issue)"
  fi
  cat <<EOT

Custodian is up (one process, --target=all).
$receivers
  Admin API     http://127.0.0.1:${CUSTODIAN_ADMIN_PORT}/graphql
  Ops           http://127.0.0.1:${CUSTODIAN_OPS_PORT}/readyz  /healthz  /metrics
  Zipkin UI     ${ZIPKIN_URL}/zipkin/  (a real Zipkin server, usable as a sink)

Demo tenant "demo", API key (also in $KEY_FILE):
  $api_key

  export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${CUSTODIAN_OTLP_HTTP_PORT}
  export OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer $api_key"

Readiness:
EOT
  curl -sS "http://127.0.0.1:${CUSTODIAN_OPS_PORT}/readyz" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`  ${r.status}`);for(const c of r.checks)console.log(`  ${c.ok?"ok  ":"DOWN"} ${c.role} -> ${c.dependency}${c.error?": "+c.error:""}`)})'
  if [ -s "$ADMIN_PASSWORD_FILE" ]; then
    cat <<EOT

Admin API sign-in (platform admin): $ADMIN_EMAIL, password in $ADMIN_PASSWORD_FILE
  CLI: node dist/apps/custodian/src/main.js login --url http://127.0.0.1:${CUSTODIAN_ADMIN_PORT}/graphql --email $ADMIN_EMAIL --password-file $ADMIN_PASSWORD_FILE
       then e.g. \`... tenants\`, \`... policies list --tenant demo\` (docs/admin-api.md)
EOT
  fi
  if listening "$CUSTODIAN_OTLP_HTTP_PORT"; then send_sample "$api_key" "$tenant_id"; fi
  echo
  echo "Stop everything with: npm run down"
}

# The first platform admin of this local install, with a generated password kept in
# $ADMIN_PASSWORD_FILE (mode 600). Skipped when an admin exists already.
ensure_demo_admin() {
  [ -s "$ADMIN_PASSWORD_FILE" ] && return 0
  mkdir -p "$LOG_DIR"
  (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(18).toString("base64url"))' >"$ADMIN_PASSWORD_FILE")
  if ! node dist/apps/custodian/src/main.js bootstrap --email "$ADMIN_EMAIL" --password-file "$ADMIN_PASSWORD_FILE" \
    >"$LOG_DIR/bootstrap.log" 2>&1; then
    rm -f "$ADMIN_PASSWORD_FILE"
    echo "demo admin: not created: $(tail -n 1 "$LOG_DIR/bootstrap.log")"
  fi
}

# One agent run (a trace of 4 spans: plan, LLM call with a prompt holding an email address and
# an API key, a failed tool call, the run itself) over OTLP/HTTP JSON with the demo key.
send_sample() {
  local key=$1 tenant_id=$2 trace span now
  trace=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  now=$(date +%s%N)
  span() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
  local root llm tool plan
  root=$(span); llm=$(span); tool=$(span); plan=$(span)
  local body
  body=$(cat <<JSON
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"demo-agent"}}]},
 "scopeSpans":[{"scope":{"name":"custodian-demo"},"spans":[
  {"traceId":"$trace","spanId":"$root","name":"agent.run","kind":2,"startTimeUnixNano":"$now","endTimeUnixNano":"$((now+2500000000))",
   "attributes":[{"key":"run_id","value":{"stringValue":"demo-run-1"}}]},
  {"traceId":"$trace","spanId":"$plan","parentSpanId":"$root","name":"plan","startTimeUnixNano":"$now","endTimeUnixNano":"$((now+200000000))"},
  {"traceId":"$trace","spanId":"$llm","parentSpanId":"$root","name":"chat gpt-4o","kind":3,"startTimeUnixNano":"$((now+200000000))","endTimeUnixNano":"$((now+1800000000))",
   "attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},
     {"key":"gen_ai.input.messages","value":{"stringValue":"[{\\"role\\":\\"user\\",\\"content\\":\\"I am jane@example.com, my key is sk-proj-demo1234567890abcdefghij\\"}]"}}]},
  {"traceId":"$trace","spanId":"$tool","parentSpanId":"$root","name":"execute_tool search","kind":3,"startTimeUnixNano":"$((now+1800000000))","endTimeUnixNano":"$((now+2400000000))",
   "attributes":[{"key":"gen_ai.tool.name","value":{"stringValue":"search"}}],"status":{"code":2,"message":"tool timed out"}}
 ]}]}]}
JSON
)
  local answer
  answer=$(curl -sS -w ' HTTP %{http_code}' -H "authorization: Bearer $key" -H 'content-type: application/json' \
    --data-binary "$body" "http://127.0.0.1:${CUSTODIAN_OTLP_HTTP_PORT}/v1/traces")
  echo
  echo "Sample agent run sent: trace $trace (4 spans) -> gateway answered: $answer"
  echo "  accepted by the gateway and acknowledged by Kafka (topic otlp.traces):"
  curl -sS "http://127.0.0.1:${CUSTODIAN_OPS_PORT}/metrics" | grep '^custodian_gateway_accepted_items_total' | sed 's/^/    /'
  # The worker applies the demo tenant's policy and delivers to its Zipkin sink.
  local spans="" i
  for i in $(seq 1 60); do
    spans=$(curl -sS "${ZIPKIN_URL}/api/v2/trace/${trace}" 2>/dev/null || true)
    [[ "$spans" == \[\{* ]] && [[ $(grep -o '"id"' <<<"$spans" | wc -l) -ge 4 ]] && break
    sleep 0.5
  done
  if [[ "$spans" == \[\{* ]]; then
    echo "  arrived in Zipkin, after the worker applied the demo tenant's policy:"
    echo "    ${ZIPKIN_URL}/zipkin/traces/${trace}"
    node -e '
      const spans = JSON.parse(process.argv[1]);
      const llm = spans.find((s) => s.name === "chat gpt-4o") || {};
      const t = llm.tags || {};
      console.log("    the prompt as the sink received it: gen_ai.input.messages = " + t["gen_ai.input.messages"]);
      console.log("    redactions on that span: " + t["custodian.redaction.detections"]);
      console.log("    policy: custodian.policy.hash = " + t["custodian.policy.hash"]);
    ' "$spans"
  else
    echo "  not in Zipkin after 30 s; see $LOG_DIR/custodian.log" >&2
  fi
  if [ -s "$ADMIN_PASSWORD_FILE" ]; then
    echo "  and in Custodian's trace store, through the admin API (http://127.0.0.1:${CUSTODIAN_ADMIN_PORT}/graphql):"
    node scripts/demo-admin.js "http://127.0.0.1:${CUSTODIAN_ADMIN_PORT}/graphql" "$ADMIN_EMAIL" \
      "$ADMIN_PASSWORD_FILE" "$tenant_id" "$trace" || true
  fi
}

down() {
  if pid=$(custodian_pid); then
    echo "custodian: stopping (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  else
    echo "custodian: not running"
  fi
  rm -f "$PID_FILE"
  bash deploy/local/down.sh "$@"
}

status() {
  if pid=$(custodian_pid); then echo "custodian: up (pid $pid, ops :${CUSTODIAN_OPS_PORT})"; else echo "custodian: down"; fi
  bash deploy/local/status.sh
}

case "${1:-up}" in
  up) up ;;
  down) shift; down "$@" ;;
  status) status ;;
  *) echo "usage: $0 up|down [--purge]|status" >&2; exit 2 ;;
esac
