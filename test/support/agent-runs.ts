/**
 * Agent runs whose outcome the test decides: each run is one trace of four spans (agent.run →
 * chat, execute_tool, retrieve) with known ids, an email and an OpenAI-style API key in GenAI
 * attributes, and — as asked — a failed tool call (status ERROR) or a slow run (the run span
 * lasts `slowMs`). Sent to the gateway as OTLP/HTTP protobuf, several runs per request, so a
 * test knows exactly which traces and spans the gateway acknowledged.
 */
import { randomBytes } from 'node:crypto';
import { encodeTraces, type KeyValue, type Span, type TracesData } from '@custodian/otlp';

export const SECRET_EMAIL = 'jane.doe@example.com';
/** Shaped like an OpenAI project key (the openai_api_key detector's prefix and length). */
export const SECRET_API_KEY = 'sk-proj-Q9xV2mT7bK4nR8wZ1cY6hJ3pL5sD0fGa';

export interface AgentRun {
  traceId: string;
  spanIds: string[];
  error: boolean;
  slow: boolean;
}

function kv(key: string, value: string | number): KeyValue {
  return {
    key,
    value: typeof value === 'string' ? { stringValue: value } : { intValue: BigInt(value) },
  };
}

function span(
  traceId: Buffer,
  parent: Buffer | undefined,
  name: string,
  startNs: bigint,
  durMs: number,
  attributes: KeyValue[],
  error = false,
): Span {
  return {
    traceId,
    spanId: randomBytes(8),
    traceState: '',
    parentSpanId: parent ?? new Uint8Array(0),
    flags: 1,
    name,
    kind: 1,
    startTimeUnixNano: startNs,
    endTimeUnixNano: startNs + BigInt(durMs) * 1_000_000n,
    attributes,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: error ? { code: 2, message: 'tool timed out' } : undefined,
  };
}

/** One run's spans; the run span lasts `slowMs` when slow, 300 ms otherwise. */
export function agentRun(opts: { error?: boolean; slow?: boolean; slowMs?: number } = {}): {
  run: AgentRun;
  spans: Span[];
} {
  const traceId = randomBytes(16);
  const start = BigInt(Date.now() - 10_000) * 1_000_000n;
  const runMs = opts.slow ? (opts.slowMs ?? 3000) : 300;
  const root = span(traceId, undefined, 'agent.run', start, runMs, [
    kv('run_id', `run-${traceId.toString('hex').slice(0, 8)}`),
    kv('prompt.version', 'v7'),
  ]);
  const rootId = Buffer.from(root.spanId);
  const spans = [
    root,
    span(traceId, rootId, 'chat gpt-4o', start + 10_000_000n, 120, [
      kv('gen_ai.request.model', 'gpt-4o'),
      kv('gen_ai.usage.input_tokens', 1234),
      kv('gen_ai.request.user', SECRET_EMAIL),
      kv('gen_ai.agent.description', `escalates to ${SECRET_EMAIL} using ${SECRET_API_KEY}`),
      kv('gen_ai.input.messages', JSON.stringify([{ role: 'user', content: SECRET_API_KEY }])),
    ]),
    span(
      traceId,
      rootId,
      'execute_tool search',
      start + 140_000_000n,
      50,
      [kv('gen_ai.tool.name', 'search'), kv('tool.name', 'search')],
      opts.error === true,
    ),
    span(traceId, rootId, 'retrieve', start + 200_000_000n, 40, [kv('retrieval.top_k', 5)]),
  ];
  return {
    run: {
      traceId: traceId.toString('hex'),
      spanIds: spans.map((s) => Buffer.from(s.spanId).toString('hex')),
      error: opts.error === true,
      slow: opts.slow === true,
    },
    spans,
  };
}

/** An ExportTraceServiceRequest holding `spans` under one agent service resource. */
export function tracesRequest(spans: Span[], service = 'agent-e2e'): Uint8Array {
  const data: TracesData = {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', service)], droppedAttributesCount: 0 },
        scopeSpans: [
          {
            scope: {
              name: 'custodian-e2e',
              version: '1',
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
  return encodeTraces(data);
}

/**
 * Sends runs to the gateway's OTLP/HTTP endpoint, `perRequest` runs per request. Returns the
 * runs of the requests the gateway acknowledged (200) and the statuses of the others.
 */
export async function sendRuns(
  httpPort: number,
  key: string,
  runs: { run: AgentRun; spans: Span[] }[],
  perRequest = 20,
): Promise<{ acked: AgentRun[]; refused: number[] }> {
  const acked: AgentRun[] = [];
  const refused: number[] = [];
  for (let i = 0; i < runs.length; i += perRequest) {
    const chunk = runs.slice(i, i + perRequest);
    let status = 0;
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${key}` },
        body: Buffer.from(tracesRequest(chunk.flatMap((r) => r.spans))),
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      status = -1;
    }
    if (status === 200) acked.push(...chunk.map((r) => r.run));
    else refused.push(status);
  }
  return { acked, refused };
}
