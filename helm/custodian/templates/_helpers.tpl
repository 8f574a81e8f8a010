{{/*
Shared names, labels and pod pieces. One image runs every role; the roles differ only in
`start --target=<role>`, their ports, and their scaling. Rules that span several values (and so
cannot live in values.schema.json) are checked in "custodian.validate".
*/}}

{{- define "custodian.roles" -}}
gateway worker admin
{{- end }}

{{- define "custodian.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "custodian.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of a role's resources: <fullname>-<role>, within 63 characters. */}}
{{- define "custodian.roleName" -}}
{{- printf "%s-%s" (include "custodian.fullname" .root | trunc 50 | trimSuffix "-") .role }}
{{- end }}

{{- define "custodian.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "custodian.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ (default .Chart.AppVersion .Values.image.tag) | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: custodian
{{- end }}

{{/* Selector labels of one role: dict "root" $ "role" "gateway". */}}
{{- define "custodian.selectorLabels" -}}
app.kubernetes.io/name: {{ include "custodian.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{- define "custodian.roleLabels" -}}
{{ include "custodian.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{- define "custodian.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "custodian.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "custodian.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the chart creates for development values given inline. */}}
{{- define "custodian.secretName" -}}
{{- include "custodian.fullname" . }}
{{- end }}

{{/* True ("true") when any secret is given inline, so the chart renders its own Secret. */}}
{{- define "custodian.hasInlineSecrets" -}}
{{- if or .Values.database.url .Values.redis.url .Values.secrets.apiKeyPepper.value .Values.secrets.encryptionKey.value .Values.secrets.adminJwtSecret.value }}true{{ end }}
{{- end }}

{{/*
One secret environment variable: dict "name" ENV "inline" VALUE "ref" {existingSecret, existingSecretKey}
"chartSecret" NAME. An inline value wins (it lives in the chart's Secret under the variable's name).
*/}}
{{- define "custodian.secretEnvVar" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      {{- if .inline }}
      name: {{ .chartSecret }}
      key: {{ .name }}
      {{- else }}
      name: {{ .ref.existingSecret }}
      key: {{ .ref.existingSecretKey }}
      {{- end }}
{{- end }}

{{/* DATABASE_URL, REDIS_URL and the two keys, from Secrets. */}}
{{- define "custodian.secretEnv" -}}
{{- $s := include "custodian.secretName" . }}
{{ include "custodian.secretEnvVar" (dict "name" "DATABASE_URL" "inline" .Values.database.url "ref" .Values.database "chartSecret" $s) }}
{{ include "custodian.secretEnvVar" (dict "name" "REDIS_URL" "inline" .Values.redis.url "ref" .Values.redis "chartSecret" $s) }}
{{ include "custodian.secretEnvVar" (dict "name" "CUSTODIAN_API_KEY_PEPPER" "inline" .Values.secrets.apiKeyPepper.value "ref" .Values.secrets.apiKeyPepper "chartSecret" $s) }}
{{ include "custodian.secretEnvVar" (dict "name" "CUSTODIAN_ENCRYPTION_KEY" "inline" .Values.secrets.encryptionKey.value "ref" .Values.secrets.encryptionKey "chartSecret" $s) }}
{{ include "custodian.secretEnvVar" (dict "name" "CUSTODIAN_ADMIN_JWT_SECRET" "inline" .Values.secrets.adminJwtSecret.value "ref" .Values.secrets.adminJwtSecret "chartSecret" $s) }}
{{- end }}

{{/* Whole seconds of a millisecond value, rounded up. */}}
{{- define "custodian.ceilSeconds" -}}
{{- div (add (int .) 999) 1000 }}
{{- end }}

{{/*
Grace period: the preStop sleep, then CUSTODIAN_SHUTDOWN_TIMEOUT_MS to drain and flush, then a
margin so the kubelet's SIGKILL never cuts a flush the process would finish on its own.
*/}}
{{- define "custodian.terminationGracePeriodSeconds" -}}
{{- $r := .root.Values }}
{{- add (int .cfg.preStopSleepSeconds) (include "custodian.ceilSeconds" $r.config.shutdownTimeoutMs | int) 5 }}
{{- end }}

{{/*
Cross-field rules, checked once (configmap.yaml, which always renders): `helm template`,
`helm install` and `helm upgrade` stop with one line per broken rule. (`helm lint` only logs
template failures; it enforces values.schema.json.)
*/}}
{{- define "custodian.validate" -}}
{{- $v := .Values }}
{{- $errors := list }}
{{- $partitions := int $v.kafka.partitions }}
{{- if $v.worker.autoscaling.enabled }}
{{- if gt (int $v.worker.autoscaling.maxReplicas) $partitions }}
{{- $errors = append $errors (printf "worker.autoscaling.maxReplicas (%d) must not exceed kafka.partitions (%d): a worker beyond the partition count consumes nothing" (int $v.worker.autoscaling.maxReplicas) $partitions) }}
{{- end }}
{{- else if gt (int $v.worker.replicaCount) $partitions }}
{{- $errors = append $errors (printf "worker.replicaCount (%d) must not exceed kafka.partitions (%d): a worker beyond the partition count consumes nothing" (int $v.worker.replicaCount) $partitions) }}
{{- end }}
{{- range $role := splitList " " (include "custodian.roles" .) }}
{{- $a := (index $v $role).autoscaling }}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- $errors = append $errors (printf "%s.autoscaling.minReplicas (%d) must not exceed %s.autoscaling.maxReplicas (%d)" $role (int $a.minReplicas) $role (int $a.maxReplicas)) }}
{{- end }}
{{- end }}
{{- if not (or $v.database.url $v.database.existingSecret) }}
{{- $errors = append $errors "database: set database.existingSecret (a Secret with the PostgreSQL URL) or database.url" }}
{{- end }}
{{- if not (or $v.redis.url $v.redis.existingSecret) }}
{{- $errors = append $errors "redis: set redis.existingSecret (a Secret with the Redis URL) or redis.url" }}
{{- end }}
{{- range $k := list "apiKeyPepper" "encryptionKey" "adminJwtSecret" }}
{{- $s := index $v.secrets $k }}
{{- if not (or $s.value $s.existingSecret) }}
{{- $errors = append $errors (printf "secrets.%s: set secrets.%s.existingSecret or secrets.%s.value" $k $k $k) }}
{{- end }}
{{- end }}
{{- $reserved := list "CUSTODIAN_TARGET" "CUSTODIAN_INSTANCE_ID" "DATABASE_URL" "REDIS_URL" "CUSTODIAN_API_KEY_PEPPER" "CUSTODIAN_ENCRYPTION_KEY" "CUSTODIAN_ADMIN_JWT_SECRET" }}
{{- $configured := include "custodian.configEnv" . | fromYaml }}
{{- range $name, $_ := $v.config.extra }}
{{- if or (has $name $reserved) (hasKey $configured $name) }}
{{- $errors = append $errors (printf "config.extra.%s: the chart sets %s itself; use the matching chart value" $name $name) }}
{{- end }}
{{- end }}
{{- if $errors }}
{{- fail (printf "\n\ninvalid values:\n  - %s\n" (join "\n  - " $errors)) }}
{{- end }}
{{- end }}

{{/*
The worker's memory budget in MiB (CUSTODIAN_WORKER_MEMORY_MIB), read from the worker
container's memory limit so the two cannot disagree: Custodian derives its buffers and its V8
heap limit from it (apps/worker/src/consume/memory-budget.ts). Whole Gi, Mi, G, M or bytes.
*/}}
{{- define "custodian.workerMemoryMiB" -}}
{{- $q := toString .Values.worker.resources.limits.memory -}}
{{- $mib := 0 -}}
{{- if regexMatch "^[0-9]+Gi$" $q -}}{{- $mib = mul (trimSuffix "Gi" $q | int64) 1024 -}}
{{- else if regexMatch "^[0-9]+Mi$" $q -}}{{- $mib = trimSuffix "Mi" $q | int64 -}}
{{- else if regexMatch "^[0-9]+G$" $q -}}{{- $mib = div (mul (trimSuffix "G" $q | int64) 1000000000) 1048576 -}}
{{- else if regexMatch "^[0-9]+M$" $q -}}{{- $mib = div (mul (trimSuffix "M" $q | int64) 1000000) 1048576 -}}
{{- else if regexMatch "^[0-9]+$" $q -}}{{- $mib = div ($q | int64) 1048576 -}}
{{- else -}}{{- fail (printf "worker.resources.limits.memory %q: use a whole number of Gi, Mi, G, M or bytes" $q) -}}
{{- end -}}
{{- if lt (int64 $mib) 512 -}}{{- fail (printf "worker.resources.limits.memory %q: the worker needs at least 512Mi" $q) -}}{{- end -}}
{{- $mib -}}
{{- end -}}

{{/*
The worker's NODE_OPTIONS: V8's old generation limit, 60% of the memory budget (MEMORY_SHARES
in apps/worker/src/consume/memory-budget.ts; Node reads it at start only).
*/}}
{{- define "custodian.workerNodeOptions" -}}
--max-old-space-size={{ div (mul (include "custodian.workerMemoryMiB" . | int64) 60) 100 }}
{{- end -}}

{{/*
The non-secret settings as environment variables (ConfigMap data), one per chart value. The
names are libs/config/src/settings.ts's; test/helm checks that every setting is wired.
*/}}
{{- define "custodian.configEnv" -}}
{{- $c := .Values.config }}
{{- $k := .Values.kafka }}
{{- $p := .Values.ports }}
CUSTODIAN_ENV: {{ $c.environment | quote }}
CUSTODIAN_LOG_LEVEL: {{ $c.logLevel | quote }}
CUSTODIAN_BIND_HOST: {{ $c.bindHost | quote }}
CUSTODIAN_OPS_PORT: {{ $p.ops | int | quote }}
CUSTODIAN_OTLP_GRPC_PORT: {{ $p.otlpGrpc | int | quote }}
CUSTODIAN_OTLP_HTTP_PORT: {{ $p.otlpHttp | int | quote }}
CUSTODIAN_ZIPKIN_PORT: {{ $p.zipkin | int | quote }}
CUSTODIAN_ADMIN_PORT: {{ $p.admin | int | quote }}
CUSTODIAN_ADMIN_CORS_ORIGINS: {{ $c.adminCorsOrigins | quote }}
KAFKA_BROKERS: {{ $k.brokers | quote }}
KAFKA_CLIENT_ID: {{ $k.clientId | quote }}
KAFKA_TOPIC_PARTITIONS: {{ $k.partitions | int | quote }}
KAFKA_REPLICATION_FACTOR: {{ $k.replicationFactor | int | quote }}
KAFKA_CREATE_TOPICS: {{ $k.createTopics | toString | quote }}
KAFKA_MAX_MESSAGE_BYTES: {{ $k.maxMessageBytes | int64 | quote }}
KAFKA_COMPRESSION: {{ $k.compression | quote }}
KAFKA_WORKER_GROUP: {{ $k.workerGroup | quote }}
KAFKA_WORKER_SESSION_TIMEOUT_MS: {{ $k.workerSessionTimeoutMs | int64 | quote }}
KAFKA_WORKER_HEARTBEAT_MS: {{ $k.workerHeartbeatMs | int64 | quote }}
KAFKA_WORKER_FETCH_MIN_BYTES: {{ $k.workerFetchMinBytes | int64 | quote }}
KAFKA_WORKER_FETCH_MAX_WAIT_MS: {{ $k.workerFetchMaxWaitMs | int64 | quote }}
CUSTODIAN_DELIVERY_KEY_PREFIX: {{ $c.delivery.keyPrefix | quote }}
CUSTODIAN_DELIVERY_MAX_ATTEMPTS: {{ $c.delivery.maxAttempts | int64 | quote }}
CUSTODIAN_DELIVERY_INITIAL_BACKOFF_MS: {{ $c.delivery.initialBackoffMs | int64 | quote }}
CUSTODIAN_DELIVERY_MAX_BACKOFF_MS: {{ $c.delivery.maxBackoffMs | int64 | quote }}
CUSTODIAN_DELIVERY_MAX_PENDING_ITEMS: {{ $c.delivery.maxPendingItems | int64 | quote }}
CUSTODIAN_WORKER_MEMORY_MIB: {{ include "custodian.workerMemoryMiB" . | quote }}
CUSTODIAN_RETENTION_INTERVAL_MS: {{ $c.store.retentionIntervalMs | int64 | quote }}
CUSTODIAN_PRODUCE_TIMEOUT_MS: {{ $c.gateway.produceTimeoutMs | int64 | quote }}
CUSTODIAN_MAX_INFLIGHT_BYTES: {{ $c.gateway.maxInflightBytes | int64 | quote }}
CUSTODIAN_HTTP_MAX_BODY_BYTES: {{ $c.gateway.httpMaxBodyBytes | int64 | quote }}
CUSTODIAN_GRPC_MAX_MESSAGE_BYTES: {{ $c.gateway.grpcMaxMessageBytes | int64 | quote }}
CUSTODIAN_API_KEY_CACHE_TTL_MS: {{ $c.gateway.apiKeyCacheTtlMs | int64 | quote }}
CUSTODIAN_LIMIT_SPANS_PER_SECOND: {{ $c.limits.spansPerSecond | int64 | quote }}
CUSTODIAN_LIMIT_LOG_RECORDS_PER_SECOND: {{ $c.limits.logRecordsPerSecond | int64 | quote }}
CUSTODIAN_LIMIT_DATA_POINTS_PER_SECOND: {{ $c.limits.dataPointsPerSecond | int64 | quote }}
CUSTODIAN_LIMIT_BURST_SECONDS: {{ $c.limits.burstSeconds | int64 | quote }}
CUSTODIAN_LIMIT_MAX_ATTRIBUTES: {{ $c.limits.maxAttributes | int64 | quote }}
CUSTODIAN_LIMIT_MAX_ATTRIBUTE_VALUE_BYTES: {{ $c.limits.maxAttributeValueBytes | int64 | quote }}
CUSTODIAN_READINESS_TIMEOUT_MS: {{ $c.readinessTimeoutMs | int64 | quote }}
CUSTODIAN_SHUTDOWN_TIMEOUT_MS: {{ $c.shutdownTimeoutMs | int64 | quote }}
{{- end }}

{{/* Pod-level pieces shared by the Deployments and the migration Job. */}}
{{- define "custodian.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{- define "custodian.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}
