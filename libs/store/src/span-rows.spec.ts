import type { KeyValue, Span, TracesData } from '@custodian/otlp';
import { StatusCode } from '@custodian/otlp';
import { RESTRICTED_KEYS_ATTRIBUTE, RESTRICTED_PLACEHOLDER } from '@custodian/policy';
import { anyValueToJson, nanosToIsoMicros, spanRows } from './span-rows';

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const marker = (...keys: string[]): KeyValue => ({
  key: RESTRICTED_KEYS_ATTRIBUTE,
  value: { arrayValue: { values: keys.map((k) => ({ stringValue: k })) } },
});

function span(over: Partial<Span> = {}): Span {
  return {
    traceId: new Uint8Array(16).fill(1),
    spanId: new Uint8Array(8).fill(2),
    traceState: '',
    parentSpanId: new Uint8Array(0),
    flags: 0,
    name: 'agent.run',
    kind: 1,
    startTimeUnixNano: 1_764_000_000_123_456_789n,
    endTimeUnixNano: 1_764_000_001_123_456_789n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    ...over,
  };
}

function batch(spans: Span[], resource: KeyValue[] = [str('service.name', 'agent')]): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: resource, droppedAttributesCount: 0 },
        scopeSpans: [{ scope: undefined, spans, schemaUrl: '' }],
        schemaUrl: '',
      },
    ],
  };
}

describe('spanRows', () => {
  it('derives the search columns from span, then resource attributes', () => {
    const { rows } = spanRows(
      batch(
        [
          span({
            attributes: [str('gen_ai.tool.name', 'search'), str('llm.model', 'gpt-4o')],
            status: { code: StatusCode.Error, message: 'boom' },
          }),
        ],
        [str('service.name', 'agent'), str('session.id', 'run-9')],
      ),
    );
    expect(rows[0]).toMatchObject({
      serviceName: 'agent',
      runId: 'run-9',
      toolName: 'search',
      model: 'gpt-4o',
      isError: true,
      statusMessage: 'boom',
      durationNs: 1_000_000_000n,
      parentSpanId: null,
    });
  });

  it('keeps restricted values out of the clear attributes and out of the search columns', () => {
    const { rows } = spanRows(
      batch([
        span({
          attributes: [
            str('run_id', 'secret-run'),
            str('gen_ai.prompt', 'my password is hunter2'),
            str('ok', 'visible'),
            marker('run_id', 'gen_ai.prompt'),
          ],
          events: [
            {
              timeUnixNano: 1n,
              name: 'e',
              attributes: [str('gen_ai.completion', 'answer'), marker('gen_ai.completion')],
              droppedAttributesCount: 0,
            },
          ],
        }),
      ]),
    );
    const row = rows[0];
    expect(row.runId).toBeNull();
    expect(row.attributes.span['gen_ai.prompt']).toBe(RESTRICTED_PLACEHOLDER);
    expect(row.attributes.span.ok).toBe('visible');
    expect(row.attributes.events[0].attributes['gen_ai.completion']).toBe(RESTRICTED_PLACEHOLDER);
    expect(JSON.stringify(row.attributes)).not.toContain('hunter2');
    expect(row.restrictedKeys).toEqual(['run_id', 'gen_ai.prompt', 'events[0]:gen_ai.completion']);
    expect(row.restricted).toEqual({
      run_id: 'secret-run',
      'gen_ai.prompt': 'my password is hunter2',
      'events[0]:gen_ai.completion': 'answer',
    });
  });

  it('reads the retention class the policy stamped, with the platform default otherwise', () => {
    const { rows } = spanRows(
      batch([
        span({
          attributes: [
            str('custodian.retention.class', 'prompts'),
            { key: 'custodian.retention.days', value: { intValue: 7n } },
          ],
        }),
        span({ spanId: new Uint8Array(8).fill(3) }),
      ]),
    );
    expect(rows.map((r) => [r.retentionClass, r.retentionDays])).toEqual([
      ['prompts', 7],
      ['standard', 30],
    ]);
  });

  it('leaves out and counts spans with malformed ids', () => {
    const { rows, invalid } = spanRows(batch([span({ traceId: new Uint8Array(3) }), span()]));
    expect([rows.length, invalid]).toEqual([1, 1]);
  });
});

describe('anyValueToJson / nanosToIsoMicros', () => {
  it('maps OTLP values to plain JSON without losing large integers', () => {
    expect(
      anyValueToJson({
        kvlistValue: {
          values: [
            { key: 'big', value: { intValue: 9007199254740993n } },
            { key: 'n', value: { intValue: 5n } },
            { key: 'list', value: { arrayValue: { values: [{ boolValue: true }, {}] } } },
          ],
        },
      }),
    ).toEqual({ big: '9007199254740993', n: 5, list: [true, null] });
  });

  it('keeps microseconds', () => {
    expect(nanosToIsoMicros(1_764_000_000_123_456_789n)).toBe('2025-11-24T16:00:00.123456Z');
  });
});
