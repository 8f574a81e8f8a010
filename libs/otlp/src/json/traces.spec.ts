// Specs read their golden files; the no-I/O rule guards the library's runtime code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { SpanKind, StatusCode } from '../model';
import { OtlpJsonError } from './error';
import { hexToSpanId, hexToTraceId } from './hex';
import { tracesArb } from './model-arbitraries';
import { decodeTracesJson, encodeTracesJson } from './traces';

const testdata = (name: string) =>
  readFileSync(join(__dirname, '../../testdata/json', name), 'utf8');

function decodeError(doc: unknown): OtlpJsonError {
  try {
    decodeTracesJson(typeof doc === 'string' ? doc : JSON.stringify(doc));
  } catch (e) {
    if (e instanceof OtlpJsonError) return e;
    throw e;
  }
  throw new Error('expected an OtlpJsonError');
}

const oneSpan = (span: Record<string, unknown>) => ({
  resourceSpans: [{ scopeSpans: [{ spans: [span] }] }],
});

describe('decodeTracesJson', () => {
  it('decodes every field of the example document', () => {
    const data = decodeTracesJson(testdata('trace.json'));
    const rs = data.resourceSpans[0];
    expect(rs.schemaUrl).toBe('https://opentelemetry.io/schemas/1.26.0');
    expect(rs.resource).toEqual({
      attributes: [
        { key: 'service.name', value: { stringValue: 'agent-runner' } },
        { key: 'service.instance.id', value: { stringValue: 'pod-7f9c' } },
      ],
      droppedAttributesCount: 0,
    });
    const ss = rs.scopeSpans[0];
    expect(ss.scope).toEqual({
      name: 'custodian.agent',
      version: '1.4.0',
      attributes: [{ key: 'my.scope.attribute', value: { stringValue: 'some scope attribute' } }],
      droppedAttributesCount: 0,
    });
    const [llm, run] = ss.spans;
    expect(llm).toEqual({
      traceId: hexToTraceId('5b8efff798038103d269b633813fc60c'),
      spanId: hexToSpanId('eee19b7ec3c1b174'),
      parentSpanId: hexToSpanId('eee19b7ec3c1b173'),
      traceState: 'vendor=abc',
      flags: 257,
      name: 'llm.call',
      kind: SpanKind.Client,
      startTimeUnixNano: 1544712660000000000n,
      endTimeUnixNano: 1544712661000000000n,
      attributes: [
        { key: 'llm.model', value: { stringValue: 'gpt-4o' } },
        { key: 'llm.tokens', value: { intValue: 1234n } },
        { key: 'llm.temperature', value: { doubleValue: 0.2 } },
        { key: 'llm.cached', value: { boolValue: false } },
        { key: 'llm.prompt.hash', value: { bytesValue: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) } },
        {
          key: 'tool.names',
          value: { arrayValue: { values: [{ stringValue: 'search' }, { stringValue: 'fetch' }] } },
        },
        {
          key: 'run',
          value: {
            kvlistValue: {
              values: [
                { key: 'run_id', value: { stringValue: 'r-42' } },
                { key: 'attempt', value: { intValue: 2n } },
              ],
            },
          },
        },
      ],
      droppedAttributesCount: 1,
      events: [
        {
          timeUnixNano: 1544712660500000000n,
          name: 'first_token',
          attributes: [{ key: 'ttft_ms', value: { doubleValue: Infinity } }],
          droppedAttributesCount: 0,
        },
      ],
      droppedEventsCount: 2,
      links: [
        {
          traceId: hexToTraceId('00000000000000000000000000000001'),
          spanId: hexToSpanId('0000000000000002'),
          traceState: 'k=v',
          attributes: [{ key: 'link.kind', value: { stringValue: 'retry-of' } }],
          droppedAttributesCount: 0,
          flags: 1,
        },
      ],
      droppedLinksCount: 3,
      status: { code: StatusCode.Error, message: 'rate limited' },
    });
    expect(run.kind).toBe(SpanKind.Server);
    expect(run.startTimeUnixNano).toBe(1544712659000000000n);
    expect(run.parentSpanId).toHaveLength(0);
    expect(run.status).toEqual({ code: 0, message: '' });
  });

  it('accepts the proto field names (snake_case), enum names and null as default', () => {
    const snake = decodeTracesJson(testdata('trace-snake-case.json'));
    const span = snake.resourceSpans[0].scopeSpans[0].spans[0];
    expect(snake.resourceSpans[0].scopeSpans[0].schemaUrl).toBe(
      'https://opentelemetry.io/schemas/1.26.0',
    );
    expect(span.traceId).toEqual(hexToTraceId('5b8efff798038103d269b633813fc60c'));
    expect(span.kind).toBe(SpanKind.Client);
    expect(span.startTimeUnixNano).toBe(1544712660000000000n);
    expect(span.status).toEqual({ code: StatusCode.Ok, message: '' });
    expect(span.attributes).toEqual([
      { key: 'llm.tokens', value: { intValue: 1234n } },
      { key: 'llm.retry', value: { boolValue: true } },
      {
        key: 'nested',
        value: {
          kvlistValue: {
            values: [{ key: 'a', value: { arrayValue: { values: [{ doubleValue: 1.5 }] } } }],
          },
        },
      },
    ]);
  });

  it('keeps int64 precision beyond 2^53 even when sent as JSON numbers', () => {
    const text = JSON.stringify(
      oneSpan({ startTimeUnixNano: 'S', attributes: [{ key: 'i', value: { intValue: 'I' } }] }),
    )
      .replace('"S"', '1544712660000000001')
      .replace('"I"', '-9223372036854775808');
    const span = decodeTracesJson(text).resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.startTimeUnixNano).toBe(1544712660000000001n);
    expect(span.attributes[0].value.intValue).toBe(-(2n ** 63n));
  });

  it('decodes UTF-8 bytes and rejects invalid UTF-8 and non-objects', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(oneSpan({ name: 'héllo ✓' })));
    expect(decodeTracesJson(bytes).resourceSpans[0].scopeSpans[0].spans[0].name).toBe('héllo ✓');
    expect(() => decodeTracesJson(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow('invalid UTF-8');
    expect(decodeError('[]').message).toBe('expected a JSON object');
    expect(decodeError('{').message).toMatch(/^invalid JSON/);
    expect(decodeTracesJson('{}')).toEqual({ resourceSpans: [] });
  });

  it.each([
    [{ traceId: 'abc' }, 'traceId: expected 32 hex characters'],
    [{ traceId: '5b8efff798038103d269b633813fc6zz' }, 'traceId: expected 32 hex characters'],
    [{ traceId: 'W47/95gDgQPSabYzgT/GDA==' }, 'traceId: expected 32 hex characters'],
    [{ spanId: 'eee19b7ec3c1b17' }, 'spanId: expected 16 hex characters'],
    [{ parentSpanId: 7 }, 'parentSpanId: expected 16 hex characters'],
    [{ kind: 'SPAN_KIND_BOGUS' }, 'kind: unknown enum value "SPAN_KIND_BOGUS"'],
    [{ kind: 1.5 }, 'kind: expected an enum name or a 32-bit integer'],
    [{ flags: -1 }, 'flags: expected an unsigned 32-bit integer'],
    [{ startTimeUnixNano: '-1' }, 'startTimeUnixNano: out of range for an unsigned 64-bit integer'],
    [{ startTimeUnixNano: '1e9' }, 'startTimeUnixNano: expected an integer or a decimal string'],
    [{ endTimeUnixNano: 1.5 }, 'endTimeUnixNano: expected an integer'],
    [{ name: 5 }, 'name: expected a string'],
    [{ events: {} }, 'events: expected an array'],
    [{ events: [null] }, 'events[0]: expected an object'],
    [{ status: { code: 'OK' } }, 'status.code: unknown enum value "OK"'],
    [
      { attributes: [{ key: 'a', value: { intValue: '9223372036854775808' } }] },
      'attributes[0].value.intValue: out of range for a 64-bit integer',
    ],
    [
      { attributes: [{ key: 'a', value: { stringValue: 'x', intValue: 1 } }] },
      'attributes[0].value.intValue: more than one AnyValue field is set',
    ],
    [
      { attributes: [{ key: 'a', value: { bytesValue: 'not base64!' } }] },
      'attributes[0].value.bytesValue: expected base64',
    ],
    [
      { attributes: [{ key: 'a', value: { doubleValue: 'nan' } }] },
      'attributes[0].value.doubleValue: expected a number, "NaN", "Infinity" or "-Infinity"',
    ],
    [
      { attributes: [{ key: 'a', value: { arrayValue: { values: [{ boolValue: 'true' }] } } }] },
      'attributes[0].value.arrayValue.values[0].boolValue: expected true or false',
    ],
  ])('rejects %j with the path of the field', (span, message) => {
    const err = decodeError(oneSpan(span));
    expect(err.message).toBe(`resourceSpans[0].scopeSpans[0].spans[0].${message}`);
    expect(err.path).toBe(`resourceSpans[0].scopeSpans[0].spans[0].${message.split(':')[0]}`);
  });

  it('names the exact element in the path', () => {
    const doc = {
      resourceSpans: [
        {
          scopeSpans: [{ spans: [] }, { spans: [{}, {}, {}, { traceId: 'abc' }] }],
        },
      ],
    };
    expect(decodeError(doc).message).toBe(
      'resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex characters',
    );
  });

  it('caps AnyValue nesting at 64 levels without recursing on hostile depth', () => {
    const nest = (depth: number): unknown => {
      let v: unknown = { stringValue: 'leaf' };
      for (let i = 1; i < depth; i++) v = { arrayValue: { values: [v] } };
      return v;
    };
    const ok = oneSpan({ attributes: [{ key: 'deep', value: nest(64) }] });
    expect(() => decodeTracesJson(JSON.stringify(ok))).not.toThrow();
    const deep = oneSpan({ attributes: [{ key: 'deep', value: nest(65) }] });
    expect(decodeError(deep).message).toMatch(/AnyValue nested deeper than 64 levels$/);
    // 100k levels of raw nesting: JSON.parse copes, the decoder stops at level 65.
    const hostile =
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":' +
      '{"arrayValue":{"values":['.repeat(100000) +
      ']}}'.repeat(100000) +
      '}]}]}]}]}';
    expect(decodeError(hostile).message).toMatch(/nested deeper than 64 levels$/);
  });
});

describe('encodeTracesJson', () => {
  it('matches the golden document (hex ids, int64 strings, enums as integers, no defaults)', () => {
    const encoded = encodeTracesJson(decodeTracesJson(testdata('trace.json')));
    expect(JSON.parse(encoded)).toEqual(JSON.parse(testdata('trace.golden.json')));
    expect(encoded).toContain('"traceId":"5b8efff798038103d269b633813fc60c"');
    expect(encoded).toContain('"kind":3');
    expect(encoded).toContain('"startTimeUnixNano":"1544712660000000000"');
    expect(encoded).toContain('"doubleValue":"Infinity"');
    expect(encoded).toContain('"bytesValue":"3q2+7w=="');
    expect(encoded).not.toContain('parentSpanId":""');
  });

  it('writes a set oneof member even at its default, and nothing for empty fields', () => {
    const empty = new Uint8Array(0);
    const encoded = encodeTracesJson({
      resourceSpans: [
        {
          resource: undefined,
          schemaUrl: '',
          scopeSpans: [
            {
              scope: undefined,
              schemaUrl: '',
              spans: [
                {
                  traceId: empty,
                  spanId: empty,
                  traceState: '',
                  parentSpanId: empty,
                  flags: 0,
                  name: '',
                  kind: 0,
                  startTimeUnixNano: 0n,
                  endTimeUnixNano: 0n,
                  attributes: [
                    { key: 'zero', value: { intValue: 0n } },
                    { key: 'empty', value: { stringValue: '' } },
                    { key: 'neg0', value: { doubleValue: -0 } },
                    { key: 'none', value: {} },
                  ],
                  droppedAttributesCount: 0,
                  events: [],
                  droppedEventsCount: 0,
                  links: [],
                  droppedLinksCount: 0,
                },
              ],
            },
          ],
        },
      ],
    });
    expect(encoded).toBe(
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[' +
        '{"key":"zero","value":{"intValue":"0"}},{"key":"empty","value":{"stringValue":""}},' +
        '{"key":"neg0","value":{"doubleValue":-0}},{"key":"none","value":{}}]}]}]}]}',
    );
  });

  it('round-trips any traces (model → JSON → model, property)', () => {
    fc.assert(
      fc.property(tracesArb, (data) => {
        expect(decodeTracesJson(encodeTracesJson(data))).toEqual(data);
      }),
      { numRuns: 300 },
    );
  });
});
