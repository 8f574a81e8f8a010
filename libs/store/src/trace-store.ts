/**
 * Custodian's own trace store in PostgreSQL (issue #5 item 4; issue #6 trace queries): the
 * write side used by the `store` sink, and the read side the admin API exposes.
 *
 * Writes are multi-row `INSERT … ON CONFLICT DO NOTHING` on the primary key (tenant, trace,
 * span, start time), so a batch delivered twice (at-least-once) inserts nothing the second
 * time; the difference is reported as duplicates. Restricted values are encrypted per span
 * under the tenant's data key (keyring.ts) before they leave the process.
 *
 * Every method takes the tenant it acts in as its first parameter, and every statement filters
 * on it: tenant B asking for tenant A's trace id finds nothing (CONVENTIONS.md, "Tenancy").
 */
import type { Pool } from 'pg';
import { decryptSecret, encryptSecret } from '@custodian/auth';
import type { TracesData } from '@custodian/otlp';

import { StoreKeyring, storeSpanAad } from './keyring';
import {
  nanosToIsoMicros,
  spanRows,
  type JsonMap,
  type JsonValue,
  type SpanRow,
  type StoredAttributes,
} from './span-rows';

const COLUMNS = [
  'tenant_id',
  'trace_id',
  'span_id',
  'parent_span_id',
  'name',
  'kind',
  'status_code',
  'status_message',
  'service_name',
  'start_time',
  'start_unix_nano',
  'end_unix_nano',
  'duration_ns',
  'run_id',
  'tool_name',
  'model',
  'is_error',
  'attributes',
  'restricted',
  'restricted_keys',
  'retention_class',
  'retain_until',
  'received_at',
] as const;
/** Rows per INSERT statement: well below PostgreSQL's 65535 parameters. */
const ROWS_PER_STATEMENT = 500;
const DAY_MS = 86_400_000;

export interface WriteResult {
  /** Spans inserted. */
  inserted: number;
  /** Spans already stored (redelivery): ignored. */
  duplicates: number;
  /** Spans with a trace id or span id of the wrong length: not stored. */
  invalid: number;
}

export interface TraceSearch {
  runId?: string;
  service?: string;
  spanName?: string;
  toolName?: string;
  /** true: traces with an error span; false: traces without one. */
  error?: boolean;
  /** Trace duration (first span start to last span end) at least this. */
  minDurationMs?: number;
  maxDurationMs?: number;
  /** A span of the trace started in [from, to). */
  from: Date;
  to: Date;
  /** 1–500; default 50. */
  limit?: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
}

export interface TraceSummary {
  traceId: string;
  rootSpanName: string;
  service: string;
  start: Date;
  durationMs: number;
  spanCount: number;
  error: boolean;
  runId: string | null;
}

export interface TraceSearchPage {
  traces: TraceSummary[];
  /** Pass to the next search for the following page; undefined on the last page. */
  nextCursor?: string;
}

export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  statusCode: number;
  statusMessage: string;
  service: string;
  startUnixNano: string;
  endUnixNano: string;
  durationNs: string;
  runId: string | null;
  toolName: string | null;
  model: string | null;
  error: boolean;
  /** Restricted values appear as "[RESTRICTED]"; `restrictedKeys` says which. */
  attributes: StoredAttributes;
  /** `key` (span attribute), `resource:key`, `scope:key`, `events[i]:key`, `links[i]:key`. */
  restrictedKeys: string[];
  retentionClass: string;
  retainUntil: Date;
  receivedAt: Date;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'InvalidCursorError';
  }
}

export interface TraceStoreOptions {
  /** Milliseconds since the epoch; default Date.now (received_at and retain_until). */
  clock?: () => number;
}

const HEX_TRACE = /^[0-9a-f]{32}$/;
const HEX_SPAN = /^[0-9a-f]{16}$/;

export class TraceStore {
  private readonly clock: () => number;

  constructor(
    private readonly pool: Pool,
    private readonly keyring: StoreKeyring,
    opts: TraceStoreOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Stores the spans of one batch of one tenant. */
  async write(tenantId: string, data: TracesData): Promise<WriteResult> {
    const { rows, invalid } = spanRows(data);
    if (rows.length === 0) return { inserted: 0, duplicates: 0, invalid };
    const key = rows.some((r) => r.restricted) ? await this.keyring.dataKey(tenantId) : undefined;
    const receivedAt = this.clock();
    let inserted = 0;
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
      const params: unknown[] = [];
      const tuples: string[] = [];
      for (const row of chunk) {
        const base = params.length;
        params.push(...this.values(tenantId, row, key, receivedAt));
        tuples.push(`(${COLUMNS.map((_, j) => `$${base + j + 1}`).join(', ')})`);
      }
      const r = await this.pool.query(
        `INSERT INTO stored_spans (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}
         ON CONFLICT DO NOTHING`,
        params,
      );
      inserted += r.rowCount ?? 0;
    }
    return { inserted, duplicates: rows.length - inserted, invalid };
  }

  private values(
    tenantId: string,
    row: SpanRow,
    key: Buffer | undefined,
    receivedAt: number,
  ): unknown[] {
    const traceHex = row.traceId.toString('hex');
    const spanHex = row.spanId.toString('hex');
    const restricted =
      row.restricted && key
        ? encryptSecret(
            key,
            Buffer.from(JSON.stringify(row.restricted), 'utf8'),
            storeSpanAad(tenantId, traceHex, spanHex),
          )
        : null;
    return [
      tenantId,
      row.traceId,
      row.spanId,
      row.parentSpanId,
      row.name,
      row.kind,
      row.statusCode,
      row.statusMessage,
      row.serviceName,
      nanosToIsoMicros(row.startUnixNano),
      row.startUnixNano.toString(),
      row.endUnixNano.toString(),
      row.durationNs.toString(),
      row.runId,
      row.toolName,
      row.model,
      row.isError,
      JSON.stringify(row.attributes),
      restricted,
      row.restrictedKeys,
      row.retentionClass,
      new Date(receivedAt + row.retentionDays * DAY_MS).toISOString(),
      new Date(receivedAt).toISOString(),
    ];
  }

  /**
   * Trace summaries, newest first (by the trace's first span), for traces that have a span
   * starting in [from, to) and meet every filter: run id, service, span name and tool each
   * matched by some span of the trace, error by any span, durations by the whole trace.
   */
  async search(tenantId: string, q: TraceSearch): Promise<TraceSearchPage> {
    const limit = Math.min(Math.max(Math.floor(q.limit ?? 50), 1), 500);
    const params: unknown[] = [tenantId, q.from.toISOString(), q.to.toISOString()];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    // Each filter is met by SOME span of the trace (the run id sits on the root, the tool on
    // a child): the most selective one picks candidate traces through its index, and every
    // filter is then checked over the trace's spans.
    const where = ['tenant_id = $1', 'start_time >= $2', 'start_time < $3'];
    const having: string[] = [];
    const spanFilters: [string, string | undefined][] = [
      ['run_id', q.runId],
      ['tool_name', q.toolName],
      ['name', q.spanName],
      ['service_name', q.service],
    ];
    let narrowed = false;
    for (const [col, value] of spanFilters) {
      if (value === undefined) continue;
      const ref = p(value);
      having.push(`bool_or(s.${col} = ${ref})`);
      if (!narrowed) {
        where.push(`${col} = ${ref}`);
        narrowed = true;
      }
    }
    if (q.error === true) {
      having.push('bool_or(s.is_error)');
      if (!narrowed) where.push('is_error');
    }
    if (q.error === false) having.push('NOT bool_or(s.is_error)');
    const dur = 'max(s.end_unix_nano) - min(s.start_unix_nano)';
    if (q.minDurationMs !== undefined)
      having.push(`${dur} >= ${p(BigInt(Math.round(q.minDurationMs * 1e6)).toString())}::bigint`);
    if (q.maxDurationMs !== undefined)
      having.push(`${dur} <= ${p(BigInt(Math.round(q.maxDurationMs * 1e6)).toString())}::bigint`);
    if (q.cursor !== undefined) {
      const c = decodeCursor(q.cursor);
      having.push(
        `(min(s.start_unix_nano), s.trace_id) < (${p(c.start)}::bigint, decode(${p(c.trace)}, 'hex'))`,
      );
    }
    const sql = `
      WITH matched AS (SELECT DISTINCT trace_id FROM stored_spans WHERE ${where.join(' AND ')})
      SELECT encode(s.trace_id, 'hex') AS trace_id,
             min(s.start_unix_nano)::text AS start_ns,
             min(s.start_time) AS start,
             (${dur})::text AS duration_ns,
             count(*)::int AS span_count,
             bool_or(s.is_error) AS error,
             (array_agg(s.name ORDER BY (s.parent_span_id IS NULL) DESC, s.start_unix_nano))[1] AS root_name,
             (array_agg(s.service_name ORDER BY (s.parent_span_id IS NULL) DESC, s.start_unix_nano))[1] AS service,
             (array_agg(s.run_id ORDER BY (s.parent_span_id IS NULL) DESC, s.start_unix_nano)
                FILTER (WHERE s.run_id IS NOT NULL))[1] AS run_id
        FROM stored_spans s JOIN matched m ON m.trace_id = s.trace_id
       WHERE s.tenant_id = $1
       GROUP BY s.trace_id
       ${having.length ? `HAVING ${having.join(' AND ')}` : ''}
       ORDER BY min(s.start_unix_nano) DESC, s.trace_id DESC
       LIMIT ${limit + 1}`;
    const r = await this.pool.query<{
      trace_id: string;
      start_ns: string;
      start: Date;
      duration_ns: string;
      span_count: number;
      error: boolean;
      root_name: string;
      service: string;
      run_id: string | null;
    }>(sql, params);
    const rows = r.rows.slice(0, limit);
    const last = rows[rows.length - 1];
    return {
      traces: rows.map((x) => ({
        traceId: x.trace_id,
        rootSpanName: x.root_name,
        service: x.service,
        start: x.start,
        durationMs: Number(BigInt(x.duration_ns)) / 1e6,
        spanCount: x.span_count,
        error: x.error,
        runId: x.run_id,
      })),
      nextCursor:
        r.rows.length > limit && last ? encodeCursor(last.start_ns, last.trace_id) : undefined,
    };
  }

  /** The trace's spans (oldest first), restricted values masked; empty when not found. */
  async getTrace(tenantId: string, traceId: string): Promise<StoredSpan[]> {
    const trace = traceId.toLowerCase();
    if (!HEX_TRACE.test(trace)) return [];
    const r = await this.pool.query<{
      trace_id: string;
      span_id: string;
      parent_span_id: string | null;
      name: string;
      kind: number;
      status_code: number;
      status_message: string;
      service_name: string;
      start_unix_nano: string;
      end_unix_nano: string;
      duration_ns: string;
      run_id: string | null;
      tool_name: string | null;
      model: string | null;
      is_error: boolean;
      attributes: StoredAttributes;
      restricted_keys: string[];
      retention_class: string;
      retain_until: Date;
      received_at: Date;
    }>(
      `SELECT encode(trace_id, 'hex') AS trace_id, encode(span_id, 'hex') AS span_id,
              encode(parent_span_id, 'hex') AS parent_span_id, name, kind, status_code,
              status_message, service_name, start_unix_nano::text, end_unix_nano::text,
              duration_ns::text, run_id, tool_name, model, is_error, attributes, restricted_keys,
              retention_class, retain_until, received_at
         FROM stored_spans
        WHERE tenant_id = $1 AND trace_id = decode($2, 'hex')
        ORDER BY start_unix_nano, span_id`,
      [tenantId, trace],
    );
    return r.rows.map((x) => ({
      traceId: x.trace_id,
      spanId: x.span_id,
      parentSpanId: x.parent_span_id,
      name: x.name,
      kind: x.kind,
      statusCode: x.status_code,
      statusMessage: x.status_message,
      service: x.service_name,
      startUnixNano: x.start_unix_nano,
      endUnixNano: x.end_unix_nano,
      durationNs: x.duration_ns,
      runId: x.run_id,
      toolName: x.tool_name,
      model: x.model,
      error: x.is_error,
      attributes: x.attributes,
      restrictedKeys: x.restricted_keys,
      retentionClass: x.retention_class,
      retainUntil: x.retain_until,
      receivedAt: x.received_at,
    }));
  }

  /**
   * One restricted value, decrypted. `{ found: false }` when the tenant has no such span or the
   * span no such restricted key. The caller checks the permission and writes the audit event
   * BEFORE returning the value to anyone. Throws NoTenantKeyError when the tenant's key was
   * erased (crypto-shredded).
   */
  async revealValue(
    tenantId: string,
    traceId: string,
    spanId: string,
    key: string,
  ): Promise<{ found: false } | { found: true; value: JsonValue }> {
    const trace = traceId.toLowerCase();
    const span = spanId.toLowerCase();
    if (!HEX_TRACE.test(trace) || !HEX_SPAN.test(span)) return { found: false };
    const r = await this.pool.query<{ restricted: Buffer | null; restricted_keys: string[] }>(
      `SELECT restricted, restricted_keys FROM stored_spans
        WHERE tenant_id = $1 AND trace_id = decode($2, 'hex') AND span_id = decode($3, 'hex')
        LIMIT 1`,
      [tenantId, trace, span],
    );
    const row = r.rows[0];
    if (!row?.restricted || !row.restricted_keys.includes(key)) return { found: false };
    const dek = await this.keyring.existingKey(tenantId);
    const plain = decryptSecret(dek, row.restricted, storeSpanAad(tenantId, trace, span));
    try {
      const values = JSON.parse(plain.toString('utf8')) as JsonMap;
      return key in values ? { found: true, value: values[key] } : { found: false };
    } finally {
      plain.fill(0);
    }
  }
}

function encodeCursor(startNs: string, traceHex: string): string {
  return Buffer.from(`${startNs}:${traceHex}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { start: string; trace: string } {
  const m = /^(-?\d{1,20}):([0-9a-f]{32})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError();
  return { start: m[1], trace: m[2] };
}
