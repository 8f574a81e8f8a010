import fc from 'fast-check';
import type { TracesData } from '../model';
import * as arb from './arbitraries';
import { OtlpDecodeError } from './errors';
import { decodeLogs, encodeLogs } from './logs';
import { decodeMetrics, encodeMetrics } from './metrics';
import { decodeExportResponse, encodeExportResponse } from './responses';
import { AttributeKeys } from './common';
import { decodeTraces, encodeTraces } from './traces';
import {
  concat,
  fixed32,
  fixed64,
  id,
  ld,
  rawSpan,
  rawTraces,
  str,
  tag,
  varint,
  vfield,
} from './wire-builder';

const RUNS = { numRuns: 300 };

describe('protobuf codec: encode ∘ decode is the identity on the model', () => {
  it('traces', () => {
    fc.assert(
      fc.property(arb.traces, (data) => {
        const bytes = encodeTraces(data);
        expect(decodeTraces(bytes)).toEqual(data);
        // Canonical: re-encoding the decoded value gives the same bytes.
        expect(encodeTraces(decodeTraces(bytes))).toEqual(bytes);
      }),
      RUNS,
    );
  });

  it('logs', () => {
    fc.assert(
      fc.property(arb.logs, (data) => {
        const bytes = encodeLogs(data);
        expect(decodeLogs(bytes)).toEqual(data);
        expect(encodeLogs(decodeLogs(bytes))).toEqual(bytes);
      }),
      RUNS,
    );
  });

  it('metrics (all five types, exemplars)', () => {
    fc.assert(
      fc.property(arb.metrics, (data) => {
        const bytes = encodeMetrics(data);
        expect(decodeMetrics(bytes)).toEqual(data);
        expect(encodeMetrics(decodeMetrics(bytes))).toEqual(bytes);
      }),
      RUNS,
    );
  });

  it('export responses with and without partial success', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('traces' as const, 'logs' as const, 'metrics' as const),
        fc.option(fc.record({ rejected: arb.int64, errorMessage: arb.text }), { nil: undefined }),
        (signal, partialSuccess) => {
          const bytes = encodeExportResponse(signal, partialSuccess);
          expect(decodeExportResponse(signal, bytes)).toEqual(
            partialSuccess === undefined ? {} : { partialSuccess },
          );
        },
      ),
      RUNS,
    );
  });
});

describe('protobuf decode: ids', () => {
  it('copies ids out of the request: overwriting the request bytes changes no decoded id', () => {
    fc.assert(
      fc.property(arb.traces, (data) => {
        const bytes = encodeTraces(data);
        const decoded = decodeTraces(bytes);
        const before = structuredClone(decoded);
        bytes.fill(0xee);
        expect(decoded).toEqual(before);
        expect(decoded).toEqual(data);
      }),
      RUNS,
    );
  });

  it('gives every id its own bytes even when many share one slab', () => {
    const spans = Array.from({ length: 300 }, (_, i) => {
      const traceId = new Uint8Array(16).fill(i & 0xff);
      const spanId = new Uint8Array(8).fill((i * 7) & 0xff);
      return { traceId, spanId };
    });
    const data: TracesData = {
      resourceSpans: [
        {
          resource: undefined,
          schemaUrl: '',
          scopeSpans: [
            {
              scope: undefined,
              schemaUrl: '',
              spans: spans.map(({ traceId, spanId }) => ({
                traceId,
                spanId,
                traceState: '',
                parentSpanId: new Uint8Array(0),
                flags: 0,
                name: 's',
                kind: 0,
                startTimeUnixNano: 0n,
                endTimeUnixNano: 0n,
                attributes: [],
                droppedAttributesCount: 0,
                events: [],
                droppedEventsCount: 0,
                links: [
                  {
                    traceId,
                    spanId,
                    traceState: '',
                    attributes: [],
                    droppedAttributesCount: 0,
                    flags: 0,
                  },
                ],
                droppedLinksCount: 0,
                status: undefined,
              })),
            },
          ],
        },
      ],
    };
    const out = decodeTraces(encodeTraces(data)).resourceSpans[0].scopeSpans[0].spans;
    out.forEach((s, i) => {
      expect(s.traceId).toEqual(spans[i].traceId);
      expect(s.spanId).toEqual(spans[i].spanId);
      expect(s.links[0].traceId).toEqual(spans[i].traceId);
      expect(s.parentSpanId.length).toBe(0);
    });
  });
});

describe('protobuf decode: traceFilter', () => {
  const keep = (id: Uint8Array) => id.length > 0 && (id[0] & 1) === 0;
  /** The model's answer: the spans `keep` accepts, empty scopes and resources left out. */
  const filtered = (data: TracesData): TracesData => ({
    resourceSpans: data.resourceSpans
      .map((rs) => ({
        ...rs,
        scopeSpans: rs.scopeSpans
          .map((ss) => ({ ...ss, spans: ss.spans.filter((s) => keep(s.traceId)) }))
          .filter((ss) => ss.spans.length > 0),
      }))
      .filter((rs) => rs.scopeSpans.length > 0),
  });

  it('decodes exactly the spans of the accepted traces, as a filter of the full decode would', () => {
    fc.assert(
      fc.property(arb.traces, (data) => {
        const bytes = encodeTraces(data);
        expect(decodeTraces(bytes, { traceFilter: keep })).toEqual(filtered(data));
      }),
      RUNS,
    );
  });

  it('skips a rejected span unread and still filters when the trace id is not the first field', () => {
    const a = new Uint8Array(16).fill(2); // accepted
    const b = new Uint8Array(16).fill(3); // rejected
    // A rejected span whose body past its id is garbage is never read; a span that puts its
    // name before its trace id is decoded, then filtered.
    const scope = concat(
      ld(2, ld(1, a), str(5, 'first')),
      ld(2, ld(1, b), [0xff, 0xff, 0xff]),
      ld(2, str(5, 'late-kept'), ld(1, a)),
      ld(2, str(5, 'late-dropped'), ld(1, b)),
    );
    const bytes = ld(1, ld(2, scope));
    const seen: number[] = [];
    const out = decodeTraces(bytes, {
      traceFilter: (traceId) => {
        seen.push(traceId[0]);
        return traceId[0] === 2;
      },
    });
    expect(out.resourceSpans[0].scopeSpans[0].spans.map((s) => s.name)).toEqual([
      'first',
      'late-kept',
    ]);
    expect(seen).toEqual([2, 3, 2, 3]);
    expect(() => decodeTraces(bytes)).toThrow(OtlpDecodeError);
  });
});

describe('protobuf decode: skeleton', () => {
  it('decodes only the chosen resource and span attributes and no events or links', () => {
    const keys = ['a', 'bb', 'key', '\u00e9t\u00e9'];
    const skeleton = { resourceKeys: new AttributeKeys(keys), spanKeys: new AttributeKeys(keys) };
    const wanted = (kv: { key: string }) => keys.includes(kv.key);
    fc.assert(
      fc.property(arb.traces, (data) => {
        const bytes = encodeTraces(data);
        const expected: TracesData = {
          resourceSpans: data.resourceSpans.map((rs) => ({
            ...rs,
            resource: rs.resource && {
              ...rs.resource,
              attributes: rs.resource.attributes.filter(wanted),
            },
            scopeSpans: rs.scopeSpans.map((ss) => ({
              ...ss,
              spans: ss.spans.map((sp) => ({
                ...sp,
                attributes: sp.attributes.filter(wanted),
                events: [],
                links: [],
              })),
            })),
          })),
        };
        expect(decodeTraces(bytes, { skeleton })).toEqual(expected);
        // The option does not stick: the next decode is whole again.
        expect(decodeTraces(bytes)).toEqual(data);
      }),
      RUNS,
    );
  });

  it('matches keys written after their value, and skips unread what it does not want', () => {
    const skeleton = {
      resourceKeys: new AttributeKeys(['service.name']),
      spanKeys: new AttributeKeys(['tool.name']),
    };
    const kv = (k: string, v: string) => concat(str(1, k), ld(2, str(1, v)));
    const valueFirst = (k: string, v: string) => concat(ld(2, str(1, v)), str(1, k));
    const span = concat(
      ld(1, new Uint8Array(16).fill(1)),
      str(5, 'call'),
      ld(9, kv('tool.name', 'search')),
      ld(9, str(1, 'prompt'), [0x12, 0x05, 0x0a, 0x03, 0xff, 0xfe, 0xfd]), // invalid UTF-8 value
      ld(9, valueFirst('tool.name', 'late-key')),
      ld(9, valueFirst('other', 'x')),
      ld(11, str(2, 'event')),
    );
    const resource = ld(1, ld(1, kv('service.name', 'agent')), ld(1, kv('host', 'h')));
    const bytes = ld(1, resource, ld(2, ld(2, span)));
    const out = decodeTraces(bytes, { skeleton });
    const rs = out.resourceSpans[0];
    expect(rs.resource?.attributes.map((a) => a.key)).toEqual(['service.name']);
    const sp = rs.scopeSpans[0].spans[0];
    expect(sp.attributes.map((a) => a.value.stringValue)).toEqual(['search', 'late-key']);
    expect(sp.events).toEqual([]);
    expect(() => decodeTraces(bytes)).toThrow(OtlpDecodeError);
  });
});

describe('protobuf codec: exact wire form', () => {
  it('encodes the empty response as zero bytes and partial success per the spec', () => {
    expect(encodeExportResponse('traces')).toHaveLength(0);
    expect(Array.from(encodeExportResponse('logs', { rejected: 3n, errorMessage: 'x' }))).toEqual([
      0x0a, 5, 0x08, 3, 0x12, 1, 0x78,
    ]);
  });

  it('keeps values the number type cannot: 2^64-1 times, int64 extremes, -0, NaN', () => {
    const data: TracesData = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'min', value: { intValue: -(2n ** 63n) } },
              { key: 'max', value: { intValue: 2n ** 63n - 1n } },
              { key: 'negzero', value: { doubleValue: -0 } },
              { key: 'nan', value: { doubleValue: Number.NaN } },
              { key: 'empty', value: { stringValue: '' } },
              { key: 'none', value: {} },
            ],
            droppedAttributesCount: 0,
          },
          scopeSpans: [],
          schemaUrl: '',
        },
      ],
    };
    const out = decodeTraces(encodeTraces(data));
    const attrs = out.resourceSpans[0].resource!.attributes;
    expect(attrs[0].value.intValue).toBe(-(2n ** 63n));
    expect(attrs[1].value.intValue).toBe(2n ** 63n - 1n);
    expect(Object.is(attrs[2].value.doubleValue, -0)).toBe(true);
    expect(attrs[3].value.doubleValue).toBeNaN();
    expect(attrs[4].value).toEqual({ stringValue: '' });
    expect(attrs[5].value).toEqual({});
  });

  it('encodes negative int64 as a 10-byte varint', () => {
    const bytes = encodeTraces({
      resourceSpans: [
        {
          resource: {
            attributes: [{ key: 'k', value: { intValue: -1n } }],
            droppedAttributesCount: 0,
          },
          scopeSpans: [],
          schemaUrl: '',
        },
      ],
    });
    const hex = Buffer.from(bytes).toString('hex');
    expect(hex).toContain('18ffffffffffffffffff01');
  });

  it('rejects model values outside their wire type instead of wrapping them', () => {
    const bad = (intValue: bigint): TracesData => ({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'k', value: { intValue } }], droppedAttributesCount: 0 },
          scopeSpans: [],
          schemaUrl: '',
        },
      ],
    });
    expect(() => encodeTraces(bad(2n ** 63n))).toThrow(RangeError);
    expect(() => encodeTraces(bad(-(2n ** 63n) - 1n))).toThrow(RangeError);
  });
});

describe('protobuf decode: unknown fields and lenient-but-valid input', () => {
  const traceId = id(1);
  const spanId = id(2, 8);

  it('skips unknown fields of every wire type at every level, including groups', () => {
    const unknown = [
      ...vfield(100, 2n ** 63n),
      ...fixed64(101, 5n),
      ...fixed32(102, 7),
      ...ld(103, [1, 2, 3]),
      ...tag(104, 3), // group start
      ...vfield(1, 1),
      ...ld(2, [9]),
      ...tag(104, 4), // group end
    ];
    const plain = rawTraces(rawSpan(traceId, spanId));
    const noisy = concat(
      ld(1, ld(2, ld(2, rawSpan(traceId, spanId, unknown)), unknown), unknown),
      unknown,
    );
    expect(decodeTraces(noisy)).toEqual(decodeTraces(plain));
    expect(decodeTraces(plain).resourceSpans[0].scopeSpans[0].spans[0].name).toBe('op');
  });

  it('accepts padded (non-minimal) varints and the last value of a repeated scalar', () => {
    const bytes = rawTraces(
      rawSpan(traceId, spanId, [...tag(6, 0), 0x82, 0x80, 0x80, 0x00], str(5, 'second')),
    );
    const s = decodeTraces(bytes).resourceSpans[0].scopeSpans[0].spans[0];
    expect(s.kind).toBe(2);
    expect(s.name).toBe('second');
  });

  it('accepts unpacked repeated scalars as well as packed ones', () => {
    const point = concat(
      fixed64(4, 3n),
      fixed64(6, 1n), // bucket_counts, unpacked
      fixed64(6, 2n),
      [...tag(7, 1), ...new Uint8Array(new Float64Array([2.5]).buffer)], // explicit_bounds, unpacked
      ld(7, new Uint8Array(new Float64Array([5]).buffer)), // explicit_bounds, packed
    );
    const bytes = ld(1, ld(2, ld(2, str(1, 'h'), ld(9, ld(1, point)))));
    const dp =
      decodeMetrics(bytes).resourceMetrics[0].scopeMetrics[0].metrics[0].histogram!.dataPoints[0];
    expect(dp.count).toBe(3n);
    expect(dp.bucketCounts).toEqual([1n, 2n]);
    expect(dp.explicitBounds).toEqual([2.5, 5]);
  });

  it('keeps a UTF-8 BOM and astral characters exactly', () => {
    const name = '\uFEFFbom 𝄞 ✓';
    const bytes = rawTraces(rawSpan(traceId, spanId, str(5, name)));
    expect(decodeTraces(bytes).resourceSpans[0].scopeSpans[0].spans[0].name).toBe(name);
  });
});

describe('protobuf decode: malformed input throws OtlpDecodeError', () => {
  const traceId = id(1);
  const spanId = id(2, 8);
  const good = rawTraces(rawSpan(traceId, spanId));

  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated input', good.subarray(0, good.length - 3), /truncated|overruns/],
    ['invalid wire type 6', Uint8Array.from([0x0e, 0x00]), /invalid wire type 6/],
    ['invalid wire type 7', Uint8Array.from([0x0f]), /invalid wire type 7/],
    ['field number 0', Uint8Array.from([0x02, 0x00]), /invalid field number 0/],
    ['stray end-group', Uint8Array.from([0x0c]), /invalid wire type 4/],
    ['unterminated group', Uint8Array.from([0x13, 0x08, 0x01]), /unterminated group/],
    ['mismatched end-group', Uint8Array.from([0x13, 0x1c]), /mismatched end-group/],
    [
      'varint longer than 10 bytes',
      Uint8Array.from([0x10, ...new Array(11).fill(0xff), 0x01]),
      /longer than 10/,
    ],
    ['truncated varint', Uint8Array.from([0x10, 0xff, 0xff]), /truncated varint/],
    [
      'huge declared length',
      Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00]),
      /truncated length-delimited field 1/,
    ],
    ['length past its parent', ld(1, [0x12, 0x05, 0x00]), /truncated length-delimited field 2/],
    ['truncated fixed64', Uint8Array.from([0x11, 1, 2, 3]), /truncated fixed64 field 2/],
    [
      'known field with the wrong wire type',
      rawTraces(concat(vfield(1, 5))),
      /field 1 of Span has unexpected wire type varint/,
    ],
    [
      'invalid UTF-8 in a span name',
      rawTraces(rawSpan(traceId, spanId, ld(5, [0xc3, 0x28]))),
      /invalid UTF-8 in Span.name/,
    ],
    [
      'invalid UTF-8 in a nested attribute',
      rawTraces(
        rawSpan(
          traceId,
          spanId,
          ld(9, str(1, 'k'), ld(2, ld(5, ld(1, ld(1, [0xed, 0xa0, 0x80]))))),
        ),
      ),
      /invalid UTF-8 in AnyValue.string_value/,
    ],
  ];

  it.each(cases)('%s', (_name, bytes, message) => {
    let thrown: unknown;
    try {
      decodeTraces(bytes);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(OtlpDecodeError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).toMatch(/at offset \d+/);
  });

  it('refuses nesting deeper than 32 (an AnyValue bomb)', () => {
    let value: Uint8Array = str(1, 'leaf');
    for (let i = 0; i < 40; i++) value = ld(5, ld(1, value)); // array_value → values → ...
    const bytes = rawTraces(rawSpan(traceId, spanId, ld(9, str(1, 'k'), ld(2, value))));
    expect(() => decodeTraces(bytes)).toThrow(/nesting deeper than 32/);
  });

  it('accepts nesting right up to the limit', () => {
    let value: Uint8Array = str(1, 'leaf');
    // Request(0) > ResourceSpans(1) > ScopeSpans(2) > Span(3) > KeyValue(4) > AnyValue(5);
    // each level below adds ArrayValue + AnyValue.
    for (let i = 0; i < 13; i++) value = ld(5, ld(1, value));
    const bytes = rawTraces(rawSpan(traceId, spanId, ld(9, str(1, 'k'), ld(2, value))));
    expect(() => decodeTraces(bytes)).not.toThrow();
  });

  it('never throws anything but OtlpDecodeError on arbitrary or mutated bytes', () => {
    fc.assert(
      fc.property(
        arb.traces,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (data, flips, cut) => {
          const bytes = encodeTraces(data).slice();
          for (const [at, b] of flips) if (bytes.length > 0) bytes[at % bytes.length] = b;
          const input = bytes.subarray(0, bytes.length === 0 ? 0 : cut % (bytes.length + 1));
          for (const decode of [decodeTraces, decodeLogs, decodeMetrics]) {
            try {
              decode(input);
            } catch (e) {
              expect(e).toBeInstanceOf(OtlpDecodeError);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects invalid UTF-8 in logs and metrics too, naming the field', () => {
    const badLog = ld(1, ld(2, ld(2, ld(3, [0xff]))));
    expect(() => decodeLogs(badLog)).toThrow(/invalid UTF-8 in LogRecord.severity_text/);
    const badMetric = ld(1, ld(2, ld(2, ld(1, [0xf8, 0x88, 0x80, 0x80, 0x80]))));
    expect(() => decodeMetrics(badMetric)).toThrow(/invalid UTF-8 in Metric.name/);
  });

  it('reports a varint-encoded field length exactly where it starts', () => {
    const bytes = Uint8Array.from([0x0a, ...varint(1000), 1, 2]);
    expect(() => decodeTraces(bytes)).toThrow(/truncated length-delimited field 1 at offset 1/);
  });
});
