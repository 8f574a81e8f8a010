#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than package-lock.json,
# then generates the Prisma client. Idempotent; used by the README's commands and CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
