-- Custodian's own trace store, its per-tenant data keys, and the per-minute rollups (issue #5
-- items 4, 7, 8; issue #6 usage and trace queries).
--
-- Handwritten, and deliberately NOT in schema.prisma: Prisma cannot express declarative
-- partitioning, and these tables are read and written by libs/store over `pg` only. Day
-- partitions (stored_spans_pYYYYMMDD) are created ahead of time by the worker
-- (libs/store partitions.ts, ensurePartitions) and dropped by the retention job; the DEFAULT
-- partition takes any span whose day has no partition, so an insert is never refused.

-- Spans, one row per (tenant, trace, span, start time). The partition key must be part of the
-- primary key; the key makes a redelivered span (at-least-once) an ON CONFLICT no-op.
CREATE TABLE "stored_spans" (
    "tenant_id"      UUID           NOT NULL,
    "trace_id"       BYTEA          NOT NULL,
    "span_id"        BYTEA          NOT NULL,
    "parent_span_id" BYTEA,
    "name"           TEXT           NOT NULL,
    "kind"           SMALLINT       NOT NULL,
    "status_code"    SMALLINT       NOT NULL,
    "status_message" TEXT           NOT NULL DEFAULT '',
    "service_name"   TEXT           NOT NULL DEFAULT '',
    "start_time"     TIMESTAMPTZ(6) NOT NULL,
    -- The exact OTLP times (nanoseconds since the epoch); start_time is their microsecond form.
    "start_unix_nano" BIGINT        NOT NULL,
    "end_unix_nano"   BIGINT        NOT NULL,
    "duration_ns"    BIGINT         NOT NULL,
    "run_id"         TEXT,
    "tool_name"      TEXT,
    "model"          TEXT,
    "is_error"       BOOLEAN        NOT NULL,
    -- Everything not restricted: span, resource and scope attributes, events, links
    -- (restricted values replaced by "[RESTRICTED]").
    "attributes"     JSONB          NOT NULL,
    -- The restricted values, AES-256-GCM under the tenant's data key (store_tenant_keys).
    "restricted"     BYTEA,
    -- Which keys `restricted` holds (names only, never values).
    "restricted_keys" TEXT[]        NOT NULL DEFAULT '{}',
    "retention_class" TEXT          NOT NULL,
    "retain_until"   TIMESTAMPTZ(3) NOT NULL,
    "received_at"    TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "stored_spans_pkey" PRIMARY KEY ("tenant_id", "trace_id", "span_id", "start_time")
) PARTITION BY RANGE ("start_time");

CREATE TABLE "stored_spans_default" PARTITION OF "stored_spans" DEFAULT;

-- The admin's trace search (issue #6): every query starts with tenant_id.
CREATE INDEX "stored_spans_tenant_start_idx" ON "stored_spans" ("tenant_id", "start_time" DESC);
CREATE INDEX "stored_spans_tenant_run_idx" ON "stored_spans" ("tenant_id", "run_id") WHERE "run_id" IS NOT NULL;
CREATE INDEX "stored_spans_tenant_service_name_idx" ON "stored_spans" ("tenant_id", "service_name", "name");
CREATE INDEX "stored_spans_tenant_tool_idx" ON "stored_spans" ("tenant_id", "tool_name") WHERE "tool_name" IS NOT NULL;
CREATE INDEX "stored_spans_tenant_trace_idx" ON "stored_spans" ("tenant_id", "trace_id");
CREATE INDEX "stored_spans_tenant_error_idx" ON "stored_spans" ("tenant_id", "start_time") WHERE "is_error";
CREATE INDEX "stored_spans_tenant_duration_idx" ON "stored_spans" ("tenant_id", "duration_ns");
-- The retention job's batched DELETE.
CREATE INDEX "stored_spans_retain_until_idx" ON "stored_spans" ("retain_until");

-- One data key per tenant for restricted values, stored encrypted under
-- CUSTODIAN_ENCRYPTION_KEY (AAD `store-dek:<tenant id>`). Deleting the row crypto-shreds every
-- restricted value the tenant ever stored: the ciphertexts stay, nothing can open them.
CREATE TABLE "store_tenant_keys" (
    "tenant_id"      UUID           NOT NULL,
    "key_ciphertext" BYTEA          NOT NULL,
    "created_at"     TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "store_tenant_keys_pkey" PRIMARY KEY ("tenant_id"),
    CONSTRAINT "store_tenant_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id")
        REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- Span metrics (issue #5 item 7): calls, errors and a duration histogram per tenant, minute,
-- service, span name, tool and model. Upserts ADD: several workers and several flushes of the
-- same minute sum up. bucket_counts follow libs/store span-metrics.ts SPAN_DURATION_BOUNDS_MS
-- (upper bounds in ms, inclusive; one more bucket for +Inf).
CREATE TABLE "span_metric_rollups" (
    "tenant_id"         UUID           NOT NULL,
    "minute"            TIMESTAMPTZ(0) NOT NULL,
    "service_name"      TEXT           NOT NULL,
    "span_name"         TEXT           NOT NULL,
    "tool_name"         TEXT           NOT NULL DEFAULT '',
    "model"             TEXT           NOT NULL DEFAULT '',
    "calls"             BIGINT         NOT NULL,
    "errors"            BIGINT         NOT NULL,
    "duration_sum_ns"   NUMERIC(30, 0) NOT NULL,
    "bucket_counts"     BIGINT[]       NOT NULL,
    -- Up to 5 trace ids (hex) of spans in this series, traces kept by sampling first.
    "exemplar_trace_ids" TEXT[]        NOT NULL DEFAULT '{}',
    CONSTRAINT "span_metric_rollups_pkey"
        PRIMARY KEY ("tenant_id", "minute", "service_name", "span_name", "tool_name", "model")
);

-- Usage per tenant per minute (issue #6): received and rejected (by reason) from the gateway,
-- sampled out, dropped and exported from the worker. Upserts ADD.
CREATE TABLE "usage_rollups" (
    "tenant_id" UUID           NOT NULL,
    "minute"    TIMESTAMPTZ(0) NOT NULL,
    "signal"    TEXT           NOT NULL,
    -- accepted | rejected | sampled_out | dropped | exported
    "metric"    TEXT           NOT NULL,
    -- rejected/sampled_out/dropped: the reason; exported: the sink id; otherwise ''.
    "reason"    TEXT           NOT NULL DEFAULT '',
    "count"     BIGINT         NOT NULL,
    CONSTRAINT "usage_rollups_pkey" PRIMARY KEY ("tenant_id", "minute", "signal", "metric", "reason")
);
