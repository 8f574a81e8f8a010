/**
 * Builders for OTLP items in the redaction specs and bench/policy/redaction.bench.ts, including
 * a realistic agent LLM-call span.
 */
import type {
  AnyValue,
  KeyValue,
  LogRecord,
  LogsData,
  MetricsData,
  Span,
  TracesData,
} from '@custodian/otlp';

export const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
export const int = (key: string, v: bigint): KeyValue => ({ key, value: { intValue: v } });
export const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

export function makeSpan(attributes: KeyValue[], name = 'chat gpt-4o'): Span {
  return {
    traceId: new Uint8Array(16).fill(1),
    spanId: new Uint8Array(8).fill(2),
    traceState: '',
    parentSpanId: new Uint8Array(0),
    flags: 1,
    name,
    kind: 3,
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    endTimeUnixNano: 1_700_000_000_500_000_000n,
    attributes,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
  };
}

export function traces(
  spans: Span[],
  resource: KeyValue[] = [],
  scope: KeyValue[] = [],
): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: resource, droppedAttributesCount: 0 },
        scopeSpans: [
          {
            scope: { name: 'agent', version: '1.0', attributes: scope, droppedAttributesCount: 0 },
            spans,
            schemaUrl: '',
          },
        ],
        schemaUrl: '',
      },
    ],
  };
}

export function makeLog(body: AnyValue | undefined, attributes: KeyValue[] = []): LogRecord {
  return {
    timeUnixNano: 1n,
    observedTimeUnixNano: 1n,
    severityNumber: 9,
    severityText: 'INFO',
    body,
    attributes,
    droppedAttributesCount: 0,
    flags: 0,
    traceId: new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: '',
  };
}

export function logs(records: LogRecord[], resource: KeyValue[] = []): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: resource, droppedAttributesCount: 0 },
        scopeLogs: [{ logRecords: records, schemaUrl: '' }],
        schemaUrl: '',
      },
    ],
  };
}

export function gaugeMetrics(pointAttributes: KeyValue[][]): MetricsData {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [], droppedAttributesCount: 0 },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'llm.tokens',
                description: '',
                unit: '1',
                metadata: [],
                gauge: {
                  dataPoints: pointAttributes.map((attributes) => ({
                    attributes,
                    startTimeUnixNano: 0n,
                    timeUnixNano: 1n,
                    asInt: 5n,
                    exemplars: [],
                    flags: 0,
                  })),
                },
              },
            ],
            schemaUrl: '',
          },
        ],
        schemaUrl: '',
      },
    ],
  };
}

/** Attribute value by key (undefined when absent). */
export const attr = (attrs: KeyValue[], key: string): AnyValue | undefined =>
  attrs.find((a) => a.key === key)?.value;

/**
 * A realistic agent LLM-call span: 20 attributes, ~3 KB of prompt JSON, a few secrets.
 * Used by the benchmark and the end-to-end spec.
 */
export function agentSpan(i = 0): Span {
  const messages = [
    {
      role: 'system',
      parts: [
        {
          type: 'text',
          content:
            'You are a support agent for Acme Corp. Answer politely, cite the knowledge base, never reveal internal notes. ' +
            'Escalate billing disputes to a human. Today is 2024-05-01. '.repeat(3),
        },
      ],
    },
    {
      role: 'user',
      parts: [
        {
          type: 'text',
          content:
            `Hi, my name is Jane and my email is jane.doe${i}@example.com. I was charged twice on card 4111 1111 1111 1111 ` +
            'last week for order 1234 and I would like a refund. My phone is +1 415 555 2671 if you need to call. ' +
            'Also, the integration keeps failing with our key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234, can you check the logs? ' +
            'The error says the upstream returned 502 from 10.12.0.7 after 30 seconds. Thanks a lot for your help!',
        },
      ],
    },
    {
      role: 'assistant',
      parts: [
        {
          type: 'tool_call',
          id: 'call_1',
          name: 'search_kb',
          arguments: { query: 'double charge refund policy', top_k: 5 },
        },
      ],
    },
    {
      role: 'tool',
      parts: [
        {
          type: 'tool_call_response',
          id: 'call_1',
          response:
            'Refund policy: duplicate charges are refunded within 5 business days once confirmed by the billing team. ' +
            'Customers should not share full card numbers; agents must never ask for CVV codes. '.repeat(
              4,
            ) +
            'Escalation path: tier 1 support, then billing operations, then finance. '.repeat(4),
        },
      ],
    },
  ];
  const output = [
    {
      role: 'assistant',
      parts: [
        {
          type: 'text',
          content:
            'I am sorry about the duplicate charge, Jane. I have opened a refund request for order 1234; you will get an email ' +
            'confirmation within one business day. For security, please rotate the API key you shared and avoid posting keys in chat. ' +
            'Is there anything else I can help you with today?',
        },
      ],
      finish_reason: 'stop',
    },
  ];
  return makeSpan(
    [
      str('gen_ai.operation.name', 'chat'),
      str('gen_ai.system', 'openai'),
      str('gen_ai.request.model', 'gpt-4o-2024-08-06'),
      str('gen_ai.response.model', 'gpt-4o-2024-08-06'),
      str('gen_ai.response.id', `chatcmpl-9x${i}AbCdEfGh`),
      int('gen_ai.usage.input_tokens', 812n),
      int('gen_ai.usage.output_tokens', 96n),
      kv('gen_ai.request.temperature', { doubleValue: 0.2 }),
      kv('gen_ai.response.finish_reasons', { arrayValue: { values: [{ stringValue: 'stop' }] } }),
      str('gen_ai.input.messages', JSON.stringify(messages)),
      str('gen_ai.output.messages', JSON.stringify(output)),
      str('run_id', `run-2024-05-01-${1000 + i}`),
      str('agent.name', 'support-agent'),
      str('agent.step', 'llm_call'),
      str('prompt.version', 'v12'),
      str('tool.name', 'search_kb'),
      str('server.address', 'api.openai.com'),
      int('server.port', 443n),
      str('http.request.header.authorization', 'Bearer sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234'),
      str('user.id', `u-${i}`),
    ],
    'chat gpt-4o',
  );
}
