/**
 * Realistic agent runs for bench/policy/pipeline.bench.ts and the redaction specs (issue #4's
 * benchmark shape): one trace per run — 1 root, 2–3 LLM calls with ~2 KB of prompt JSON and 2
 * events each, 3–4 tool calls, 1 retrieval — 15 attributes per span. A few secrets and PII sit
 * in `secretRate` of the prompts (5% by default). Deterministic: a seeded generator, so two
 * calls with the same seed build equal data (redaction mutates in place; each round needs fresh
 * spans).
 */
import type { KeyValue, Span, TracesData } from '@custodian/otlp';
import { int, kv, str } from './testkit';

const WORDS = (
  'the agent retrieves context from vector store then plans tool calls and summarises results ' +
  'for user refund policy duplicate charges are refunded within five business days once ' +
  'confirmed by billing team customers should not share full card numbers escalate disputes ' +
  'to a human today order invoice shipping delay warehouse tracking account settings password ' +
  'reset login issue two factor authentication mobile app version release notes feature request'
).split(' ');

/** A small linear congruential generator: deterministic, fast, good enough for test data. */
class Rng {
  constructor(private seed: number) {}
  next(): number {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    return this.seed / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

function prose(rng: Rng, chars: number): string {
  let s = '';
  while (s.length < chars) {
    s += rng.pick(WORDS);
    const r = rng.int(20);
    s += r === 0 ? '. ' : r === 1 ? ', ' : r === 2 ? `. Step ${rng.int(12) + 1}: ` : ' ';
  }
  return s.slice(0, chars);
}

const SECRETS = [
  (i: number) => `my email is jane.doe${i}@example.com`,
  () => 'card 4111 1111 1111 1111 exp 12/29',
  () => 'call me on +1 415 555 2671',
  () => 'our key is sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234',
  () => 'the server at 10.12.0.7 timed out',
  () => 'password=hunter22!',
];

/** ~2 KB of GenAI input messages (the OTel GenAI semantic conventions' JSON shape). */
function promptJson(rng: Rng, withSecrets: boolean, i: number): string {
  const user = prose(rng, 380);
  const messages = [
    { role: 'system', parts: [{ type: 'text', content: prose(rng, 700) }] },
    {
      role: 'user',
      parts: [
        {
          type: 'text',
          content: withSecrets
            ? `${user.slice(0, 150)} ${rng.pick(SECRETS)(i)} ${user.slice(150, 260)} ${rng.pick(SECRETS)(i)}`
            : user,
        },
      ],
    },
    {
      role: 'assistant',
      parts: [
        {
          type: 'tool_call',
          id: `call_${i}`,
          name: 'search_kb',
          arguments: { query: prose(rng, 40), top_k: 5 },
        },
      ],
    },
    {
      role: 'tool',
      parts: [{ type: 'tool_call_response', id: `call_${i}`, response: prose(rng, 600) }],
    },
  ];
  return JSON.stringify(messages);
}

function span(name: string, kind: number, runIndex: number, step: number, attrs: KeyValue[]): Span {
  const traceId = new Uint8Array(16);
  new DataView(traceId.buffer).setUint32(0, runIndex + 1);
  traceId[15] = 7;
  const spanId = new Uint8Array(8);
  spanId[0] = step + 1;
  spanId[7] = runIndex & 0xff;
  return {
    traceId,
    spanId,
    traceState: '',
    parentSpanId: step === 0 ? new Uint8Array(0) : new Uint8Array(8).fill(1),
    flags: 1,
    name,
    kind,
    startTimeUnixNano: 1_700_000_000_000_000_000n + BigInt(step) * 1_000_000n,
    endTimeUnixNano: 1_700_000_000_000_000_000n + BigInt(step + 1) * 1_000_000n,
    attributes: attrs,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
  };
}

export interface AgentRunsOptions {
  /** Number of runs (traces). */
  runs: number;
  /** Share of prompts that carry secrets and PII (default 0.05). */
  secretRate?: number;
  seed?: number;
}

/** Agent runs as one OTLP export (one resource, one scope). */
export function agentRuns(opts: AgentRunsOptions): TracesData {
  const rng = new Rng(opts.seed ?? 42);
  const secretRate = opts.secretRate ?? 0.05;
  const spans: Span[] = [];
  for (let r = 0; r < opts.runs; r++) {
    let step = 0;
    const common = (): KeyValue[] => [
      str('run_id', `run-2024-05-01-${10_000 + r}`),
      str('agent.name', 'support-agent'),
      str('session.id', `sess-${(r * 7919) % 100_000}`),
      str('user.id', `u-${(r * 31) % 5000}`),
      str('prompt.version', 'v12'),
      str('tenant.region', 'eu-west-1'),
      int('agent.step', BigInt(step)),
    ];
    spans.push(
      span('agent.run', 2, r, step++, [
        ...common(),
        str('http.route', '/v1/agents/{agent}/runs'),
        str('http.request.method', 'POST'),
        str('url.path', '/v1/agents/support/runs'),
        str('user.email', `customer${r % 977}@example.org`),
        str('user_agent.original', 'acme-sdk-python/2.3.1 (Linux x86_64)'),
        str('client.address', `10.${r % 200}.${(r * 7) % 250}.${(r * 13) % 250}`),
        int('http.response.status_code', 200n),
        str('service.instance.id', 'agent-7f9c-4b2d'),
      ]),
    );
    const llmCalls = 2 + rng.int(2);
    const toolCalls = 3 + rng.int(2);
    for (let l = 0; l < llmCalls; l++) {
      const s = span('chat gpt-4o', 3, r, step++, [
        ...common(),
        str('gen_ai.system', 'openai'),
        str('gen_ai.request.model', 'gpt-4o-2024-08-06'),
        str('gen_ai.response.id', `chatcmpl-9x${r}AbCd${l}`),
        int('gen_ai.usage.input_tokens', BigInt(800 + rng.int(2000))),
        int('gen_ai.usage.output_tokens', BigInt(50 + rng.int(400))),
        str('gen_ai.input.messages', promptJson(rng, rng.next() < secretRate, r * 10 + l)),
        str(
          'gen_ai.output.messages',
          JSON.stringify([
            { role: 'assistant', parts: [{ type: 'text', content: prose(rng, 300) }] },
          ]),
        ),
        str('llm.model', 'gpt-4o'),
      ]);
      s.events.push(
        {
          timeUnixNano: s.startTimeUnixNano,
          name: 'gen_ai.content.prompt',
          attributes: [str('gen_ai.prompt.role', 'user'), int('gen_ai.prompt.index', 0n)],
          droppedAttributesCount: 0,
        },
        {
          timeUnixNano: s.endTimeUnixNano,
          name: 'gen_ai.choice',
          attributes: [str('gen_ai.response.finish_reason', 'stop'), int('index', 0n)],
          droppedAttributesCount: 0,
        },
      );
      spans.push(s);
    }
    for (let t = 0; t < toolCalls; t++) {
      const tool = rng.pick(['search_kb', 'create_ticket', 'lookup_order', 'send_email']);
      spans.push(
        span(`tool ${tool}`, 1, r, step++, [
          ...common(),
          str('tool.name', tool),
          str('tool.call.id', `call_${r}_${t}`),
          str('tool.arguments', JSON.stringify({ query: prose(rng, 60), top_k: 5 })),
          int('tool.result.count', BigInt(rng.int(10))),
          str('http.url', `https://api.acme.internal/v2/${tool}?lang=en`),
          int('http.status_code', 200n),
          kv('tool.duration_ms', { doubleValue: 12.5 + t }),
        ]),
      );
    }
    spans.push(
      span('rag.retrieve', 1, r, step++, [
        ...common(),
        str('rag.index', 'kb-v3'),
        int('rag.top_k', 5n),
        str('rag.query', prose(rng, 90)),
        kv('rag.doc_ids', {
          arrayValue: { values: ['d1', 'd7', 'd9', 'd12', 'd40'].map((d) => ({ stringValue: d })) },
        }),
        str('db.system', 'qdrant'),
        str('server.address', 'qdrant.internal'),
        str('internal.trace_note', 'cache miss'),
        kv('rag.score.max', { doubleValue: 0.87 }),
      ]),
    );
  }
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            str('service.name', 'support-agent'),
            str('service.version', '2.3.1'),
            str('deployment.environment', 'prod'),
            str('telemetry.sdk.language', 'python'),
          ],
          droppedAttributesCount: 0,
        },
        scopeSpans: [
          {
            scope: {
              name: 'agent-runtime',
              version: '2.3.1',
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

/** Spans in a batch. */
export function spanCount(data: TracesData): number {
  let n = 0;
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}
