/**
 * Builders for OTLP model objects used by the policy specs and benchmarks: small, explicit
 * spans and batches, and agent-shaped traces (one run = one trace: plan, LLM calls, tool calls,
 * retrieval) like the ones Custodian's first users send.
 */
import type { AnyValue, KeyValue, LogRecord, LogsData, Span, TracesData } from '@custodian/otlp';

export function attr(key: string, value: string | number | boolean | bigint): KeyValue {
  let v: AnyValue;
  if (typeof value === 'string') v = { stringValue: value };
  else if (typeof value === 'boolean') v = { boolValue: value };
  else if (typeof value === 'bigint') v = { intValue: value };
  else v = Number.isInteger(value) ? { intValue: BigInt(value) } : { doubleValue: value };
  return { key, value: v };
}

/** A 16-byte trace id whose bytes spell `n` (big-endian in the last 4 bytes), or random. */
export function traceId(n?: number): Uint8Array {
  const id = new Uint8Array(16);
  if (n === undefined) {
    for (let i = 0; i < 16; i++) id[i] = Math.floor(Math.random() * 256);
    return id;
  }
  id[0] = 0xab;
  new DataView(id.buffer).setUint32(12, n >>> 0);
  return id;
}

let spanSeq = 0;
export function spanId(): Uint8Array {
  const id = new Uint8Array(8);
  new DataView(id.buffer).setUint32(4, ++spanSeq);
  return id;
}

export interface SpanInit {
  traceId: Uint8Array;
  name?: string;
  kind?: number;
  startMs?: number;
  durationMs?: number;
  attributes?: KeyValue[];
  status?: number;
  traceState?: string;
  flags?: number;
}

export function span(init: SpanInit): Span {
  const start = BigInt(init.startMs ?? 1_700_000_000_000) * 1_000_000n;
  const end = start + BigInt(init.durationMs ?? 10) * 1_000_000n;
  return {
    traceId: init.traceId,
    spanId: spanId(),
    traceState: init.traceState ?? '',
    parentSpanId: new Uint8Array(0),
    flags: init.flags ?? 0,
    name: init.name ?? 'op',
    kind: init.kind ?? 1,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: init.attributes ?? [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: init.status === undefined ? undefined : { code: init.status, message: '' },
  };
}

/** One ResourceSpans (service `service`) with one ScopeSpans holding `spans`. */
export function batch(
  spans: Span[],
  service = 'agent',
  resourceAttrs: KeyValue[] = [],
): TracesData {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [attr('service.name', service), ...resourceAttrs],
          droppedAttributesCount: 0,
        },
        scopeSpans: [
          {
            scope: {
              name: 'custodian.test',
              version: '1.0.0',
              attributes: [],
              droppedAttributesCount: 0,
            },
            spans,
            schemaUrl: '',
          },
        ],
        schemaUrl: '',
      },
    ],
  };
}

export function logRecord(init: {
  traceId?: Uint8Array;
  attributes?: KeyValue[];
  severity?: number;
  body?: string;
}): LogRecord {
  return {
    timeUnixNano: 1_700_000_000_000_000_000n,
    observedTimeUnixNano: 0n,
    severityNumber: init.severity ?? 9,
    severityText: '',
    body: init.body === undefined ? undefined : { stringValue: init.body },
    attributes: init.attributes ?? [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: init.traceId ?? new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: '',
  };
}

export function logBatch(records: LogRecord[], service = 'agent'): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: [attr('service.name', service)], droppedAttributesCount: 0 },
        scopeLogs: [{ scope: undefined, logRecords: records, schemaUrl: '' }],
        schemaUrl: '',
      },
    ],
  };
}

/** Every span in a TracesData, in order. */
export function allSpans(data: { resourceSpans: TracesData['resourceSpans'] }): Span[] {
  const out: Span[] = [];
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) out.push(...ss.spans);
  return out;
}

const TOOLS = ['web_search', 'sql_query', 'read_file', 'send_email', 'calculator'];

/**
 * An agent run as one trace: a root `agent.run`, a plan, then LLM calls, tool calls and
 * retrievals, with the attributes such runs carry (run_id, llm.model, gen_ai.*, tool.name).
 */
export function agentTrace(
  id: Uint8Array,
  spans: number,
  opts: { error?: boolean; seed?: number } = {},
): Span[] {
  const out: Span[] = [];
  const runId = `run-${opts.seed ?? 0}`;
  const t0 = 1_700_000_000_000;
  out.push(
    span({
      traceId: id,
      name: 'agent.run',
      kind: 2,
      startMs: t0,
      durationMs: 5_000 + spans * 50,
      attributes: [
        attr('run_id', runId),
        attr('prompt.version', 'v7'),
        attr('user.email', 'ada@example.com'),
      ],
      status: opts.error ? 2 : 0,
    }),
  );
  for (let i = 1; i < spans; i++) {
    const k = i % 4;
    const common = [attr('run_id', runId)];
    if (k === 1) {
      out.push(
        span({
          traceId: id,
          name: 'llm.chat',
          kind: 3,
          startMs: t0 + i * 40,
          durationMs: 800,
          attributes: [
            ...common,
            attr('llm.model', 'gpt-4o'),
            attr('gen_ai.usage.input_tokens', 1200 + i),
            attr('gen_ai.usage.output_tokens', 300),
            attr(
              'gen_ai.prompt',
              `You are a helpful agent. Step ${i}: summarise the user's request`,
            ),
          ],
        }),
      );
    } else if (k === 2) {
      out.push(
        span({
          traceId: id,
          name: 'tool.call',
          kind: 1,
          startMs: t0 + i * 40,
          durationMs: 120,
          attributes: [
            ...common,
            attr('tool.name', TOOLS[i % TOOLS.length]),
            attr('tool.arguments', `{"query":"step ${i}","limit":10}`),
          ],
        }),
      );
    } else if (k === 3) {
      out.push(
        span({
          traceId: id,
          name: 'rag.retrieve',
          kind: 3,
          startMs: t0 + i * 40,
          durationMs: 60,
          attributes: [...common, attr('db.system', 'pgvector'), attr('rag.documents', 5)],
        }),
      );
    } else {
      out.push(
        span({
          traceId: id,
          name: 'agent.plan',
          startMs: t0 + i * 40,
          durationMs: 5,
          attributes: common,
        }),
      );
    }
  }
  return out;
}
