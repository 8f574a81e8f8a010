import fc from 'fast-check';
import {
  decodeTraces,
  encodeTraces,
  type ResourceSpans,
  type Span,
  type TracesData,
} from '@custodian/otlp';
import { mergeLogs, mergeMetrics, mergeTraces } from './merge';

function span(id: number): Span {
  return {
    traceId: new Uint8Array(16).fill(1),
    spanId: new Uint8Array(8).fill(id),
    traceState: '',
    parentSpanId: new Uint8Array(0),
    flags: 0,
    name: `s${id}`,
    kind: 1,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
  };
}

function rs(service: string, scope: string, ids: number[]): ResourceSpans {
  return {
    resource: {
      attributes: [{ key: 'service.name', value: { stringValue: service } }],
      droppedAttributesCount: 0,
    },
    schemaUrl: '',
    scopeSpans: [
      {
        scope: { name: scope, version: '', attributes: [], droppedAttributesCount: 0 },
        schemaUrl: '',
        spans: ids.map(span),
      },
    ],
  };
}

describe('mergeTraces', () => {
  it('combines equal resources and scopes into one group each', () => {
    const merged = mergeTraces([
      { resourceSpans: [rs('a', 'x', [1, 2])] },
      { resourceSpans: [rs('b', 'x', [3])] },
      { resourceSpans: [rs('a', 'x', [4]), rs('a', 'y', [5])] },
    ]);
    expect(merged.resourceSpans).toHaveLength(2);
    const a = merged.resourceSpans[0];
    expect(a.scopeSpans.map((s) => [s.scope?.name, s.spans.map((x) => x.name)])).toEqual([
      ['x', ['s1', 's2', 's4']],
      ['y', ['s5']],
    ]);
    expect(merged.resourceSpans[1].scopeSpans[0].spans.map((x) => x.name)).toEqual(['s3']);
  });

  it('does not mutate its inputs', () => {
    const input: TracesData = { resourceSpans: [rs('a', 'x', [1])] };
    const other: TracesData = { resourceSpans: [rs('a', 'x', [2])] };
    mergeTraces([input, other]);
    expect(input.resourceSpans[0].scopeSpans[0].spans).toHaveLength(1);
    expect(other.resourceSpans[0].scopeSpans[0].spans).toHaveLength(1);
  });

  it('keeps every span exactly once and survives an encode/decode round trip', () => {
    const arbRs = fc
      .tuple(
        fc.constantFrom('a', 'b', 'c'),
        fc.constantFrom('x', 'y'),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 5 }),
      )
      .map(([svc, scope, ids]) => rs(svc, scope, ids));
    fc.assert(
      fc.property(
        fc.array(fc.array(arbRs, { maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        (lists) => {
          const inputs = lists.map((resourceSpans) => ({ resourceSpans }));
          const names = (d: TracesData) =>
            d.resourceSpans.flatMap((r) =>
              r.scopeSpans.flatMap((s) =>
                s.spans.map(
                  (x) =>
                    `${r.resource?.attributes[0].value.stringValue}/${s.scope?.name}/${x.name}`,
                ),
              ),
            );
          const merged = mergeTraces(inputs);
          expect(names(merged).sort()).toEqual(inputs.flatMap(names).sort());
          const keys = merged.resourceSpans.map((r) => r.resource?.attributes[0].value.stringValue);
          // A single input is passed through as is (nothing to merge with).
          if (inputs.length > 1) expect(new Set(keys).size).toBe(keys.length);
          expect(names(decodeTraces(encodeTraces(merged))).sort()).toEqual(names(merged).sort());
        },
      ),
    );
  });
});

describe('mergeLogs / mergeMetrics', () => {
  it('merge by resource the same way', () => {
    const resource = { attributes: [], droppedAttributesCount: 0 };
    const logs = mergeLogs([
      {
        resourceLogs: [{ resource, schemaUrl: '', scopeLogs: [{ schemaUrl: '', logRecords: [] }] }],
      },
      {
        resourceLogs: [{ resource, schemaUrl: '', scopeLogs: [{ schemaUrl: '', logRecords: [] }] }],
      },
    ]);
    expect(logs.resourceLogs).toHaveLength(1);
    expect(logs.resourceLogs[0].scopeLogs).toHaveLength(1);
    const metrics = mergeMetrics([
      { resourceMetrics: [{ resource, schemaUrl: 'u1', scopeMetrics: [] }] },
      { resourceMetrics: [{ resource, schemaUrl: 'u2', scopeMetrics: [] }] },
    ]);
    expect(metrics.resourceMetrics.map((r) => r.schemaUrl)).toEqual(['u1', 'u2']);
  });
});
