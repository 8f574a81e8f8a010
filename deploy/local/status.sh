#!/usr/bin/env bash
# One line per local data service: up/down, address, pid.
#   status.sh [postgres] [redis] [kafka] [zipkin]     (default: all four)
# Exits 0 only when every requested service is up.
set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

case "${1:-}" in -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
parse_services "$@"

rc=0
for svc in "${SERVICES[@]}"; do
  port="$(svc_port "$svc")"
  if pid="$(svc_pid "$svc")"; then
    if svc_ready "$svc"; then
      printf '%-9s up    127.0.0.1:%-5s pid %s\n' "$svc" "$port" "$pid"
    else
      printf '%-9s down  127.0.0.1:%-5s pid %s running but not answering\n' "$svc" "$port" "$pid"; rc=1
    fi
  else
    note=
    port_open "$port" && note="(port taken by another process)"
    printf '%-9s down  127.0.0.1:%-5s %s\n' "$svc" "$port" "$note"; rc=1
  fi
done
exit $rc
