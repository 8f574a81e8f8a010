#!/usr/bin/env bash
# Install the command-line tools the project's tests need beyond Node, into
# $CUSTODIAN_STACK_DIR/bin (default .stack/bin, git-ignored):
#   helm   pinned version, built with `go install helm.sh/helm/v3/cmd/helm@<version>`
#          (the Go module proxy serves it; a few minutes the first time). test/helm uses it
#          for `helm lint --strict` and `helm template`; no cluster is needed.
#   telemetrygen  the OpenTelemetry Collector project's load generator, pinned, with
#          `go install` too; the gateway's interop tests and the benchmarks drive it.
#   otelcol-custodian  an OpenTelemetry Collector built with the Collector's builder (ocb)
#          from deploy/local/otelcol/builder-config.yaml: the OTLP sink of the worker's e2e
#          tests and the benchmarks' baseline. ~4-6 min of 2 cores cold, seconds when present.
# Idempotent: a tool already present at the pinned version is left alone.
#   install-tools.sh            install what is missing
#   install-tools.sh --print    print the helm path (installing it first if needed)
set -euo pipefail

case "${1:-}" in -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

# shellcheck source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

# helm: the version the chart is linted and rendered with (keep in step with test/helm).
: "${HELM_VERSION:=v3.22.0}"

BIN_DIR="$CUSTODIAN_STACK_DIR/bin"
LOG_DIR="$CUSTODIAN_STACK_DIR/logs"
HELM_BIN="$BIN_DIR/helm"

log() { printf 'tools: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# `helm version --template` prints the version without a cluster or config.
helm_version() { "$HELM_BIN" version --template '{{ .Version }}' 2>/dev/null || true; }

install_helm() {
  if [[ -x "$HELM_BIN" && "$(helm_version)" == "$HELM_VERSION" ]]; then
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    die "helm: 'go' is not on PATH (Go is needed to build helm $HELM_VERSION); install Go >= 1.24 or set HELM to an existing helm binary"
  mkdir -p "$BIN_DIR" "$LOG_DIR"
  local log_file="$LOG_DIR/install-helm.log"
  log "helm $HELM_VERSION: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (log: $log_file)"
  # CGO off: a static binary that needs no C toolchain. The module cache stays Go's default.
  if ! GOBIN="$BIN_DIR" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
    go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >>"$log_file" 2>&1; then
    tail -n 30 "$log_file" >&2
    die "helm: go install failed"
  fi
  local got; got="$(helm_version)"
  [[ "$got" == "$HELM_VERSION" ]] || die "helm: installed binary reports '$got', expected $HELM_VERSION"
  log "helm $HELM_VERSION installed at $HELM_BIN"
}

# telemetrygen: the Collector project's load generator (interop tests, benchmarks).
: "${TELEMETRYGEN_VERSION:=v0.161.0}"
TELEMETRYGEN_BIN="$BIN_DIR/telemetrygen"
TELEMETRYGEN_STAMP="$BIN_DIR/.telemetrygen-version"

install_telemetrygen() {
  if [[ -x "$TELEMETRYGEN_BIN" && "$(cat "$TELEMETRYGEN_STAMP" 2>/dev/null)" == "$TELEMETRYGEN_VERSION" ]]; then
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "telemetrygen: 'go' is not on PATH"
  mkdir -p "$BIN_DIR" "$LOG_DIR"
  local log_file="$LOG_DIR/install-telemetrygen.log"
  log "telemetrygen $TELEMETRYGEN_VERSION: go install (log: $log_file)"
  if ! GOBIN="$BIN_DIR" CGO_ENABLED=0 go install \
    "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$TELEMETRYGEN_VERSION" >>"$log_file" 2>&1; then
    tail -n 30 "$log_file" >&2
    die "telemetrygen: go install failed"
  fi
  printf '%s\n' "$TELEMETRYGEN_VERSION" >"$TELEMETRYGEN_STAMP"
  log "telemetrygen $TELEMETRYGEN_VERSION installed at $TELEMETRYGEN_BIN"
}

# otelcol-custodian: the Collector built by its builder from the pinned manifest. The stamp
# holds the version and the manifest's hash, so editing the manifest rebuilds it. The builder
# itself is installed into the build folder (not bin/), since only the Collector is a tool.
: "${OTELCOL_VERSION:=v0.161.0}"
OTELCOL_MANIFEST="$CUSTODIAN_REPO_ROOT/deploy/local/otelcol/builder-config.yaml"
OTELCOL_BIN="$BIN_DIR/otelcol-custodian"
OTELCOL_STAMP="$BIN_DIR/.otelcol-custodian-version"

install_otelcol() {
  local want
  want="$OTELCOL_VERSION $(sha256sum "$OTELCOL_MANIFEST" | cut -d' ' -f1)"
  if [[ -x "$OTELCOL_BIN" && "$(cat "$OTELCOL_STAMP" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "otelcol-custodian: 'go' is not on PATH"
  local build_dir="$CUSTODIAN_STACK_DIR/build/otelcol-custodian"
  local log_file="$LOG_DIR/install-otelcol.log"
  mkdir -p "$BIN_DIR" "$LOG_DIR" "$build_dir/bin"
  log "otelcol-custodian $OTELCOL_VERSION: builder (ocb) + go build, a few minutes the first time (log: $log_file)"
  local started=$SECONDS
  if ! GOBIN="$build_dir/bin" CGO_ENABLED=0 go install \
    "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_VERSION" >>"$log_file" 2>&1; then
    tail -n 30 "$log_file" >&2
    die "otelcol-custodian: go install of the builder failed"
  fi
  # The builder has no output flag: point the manifest's output_path into the build folder.
  sed "s#^\(  output_path:\).*#\1 $build_dir/src#" "$OTELCOL_MANIFEST" >"$build_dir/builder-config.yaml"
  if ! (cd "$build_dir" && CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
    "$build_dir/bin/builder" --config "$build_dir/builder-config.yaml" --ldflags "-s -w") >>"$log_file" 2>&1; then
    tail -n 30 "$log_file" >&2
    die "otelcol-custodian: the builder failed"
  fi
  install -m 0755 "$build_dir/src/otelcol-custodian" "$OTELCOL_BIN"
  "$OTELCOL_BIN" --version >/dev/null 2>&1 || die "otelcol-custodian: the built binary does not run"
  printf '%s\n' "$want" >"$OTELCOL_STAMP"
  log "otelcol-custodian $OTELCOL_VERSION installed at $OTELCOL_BIN ($((SECONDS - started)) s)"
}

install_helm
install_telemetrygen
install_otelcol
[[ "${1:-}" == --print ]] && printf '%s\n' "$HELM_BIN"
exit 0
