import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import type { Span, TracesData } from '../model';
import { partitionOfTraceId } from '../partition';
import * as arb from './arbitraries';
import { OtlpDecodeError } from './errors';
import { richSpans } from './sdk-fixtures';
import { splitTraces, validateTraceSplitOptions } from './split-traces';
import { decodeTraces, encodeTraces } from './traces';
import { concat, id, ld, rawSpan, rawTraces, str, vfield } from './wire-builder';

const nonZero = (n: number) =>
  fc.uint8Array({ minLength: n, maxLength: n }).filter((b) => b.some((x) => x !== 0));
/** A few shared trace ids (so traces span resources) plus random ones. */
const pool = [id(1), id(2), id(3), id(200)];
const validTraceId = fc.oneof(fc.constantFrom(...pool), nonZero(16));
const traceIdMaybeBad = fc.oneof(
  { weight: 8, arbitrary: validTraceId },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(16)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }).filter((b) => b.length !== 16) },
);
const spanIdMaybeBad = fc.oneof(
  { weight: 8, arbitrary: nonZero(8) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(8)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 10 }).filter((b) => b.length !== 8) },
);

const isValid = (s: Span) =>
  s.traceId.length === 16 &&
  s.traceId.some((b) => b !== 0) &&
  s.spanId.length === 8 &&
  s.spanId.some((b) => b !== 0);

/** What one partition's request must decode to: the input, filtered, empty containers gone. */
function expectedPart(data: TracesData, partitions: number, p: number): TracesData {
  return {
    resourceSpans: data.resourceSpans
      .map((rs) => ({
        ...rs,
        scopeSpans: rs.scopeSpans
          .map((ss) => ({
            ...ss,
            spans: ss.spans.filter(
              (s) => isValid(s) && partitionOfTraceId(s.traceId, partitions) === p,
            ),
          }))
          .filter((ss) => ss.spans.length > 0),
      }))
      .filter((rs) => rs.scopeSpans.length > 0),
  };
}

const allSpans = (d: TracesData) =>
  d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

describe('splitTraces', () => {
  it('splits real exporter bytes: every span lands once, in its trace id partition', () => {
    const wire = ProtobufTraceSerializer.serializeRequest(richSpans())!;
    const input = decodeTraces(wire);
    const result = splitTraces(wire, { partitions: 7 });
    expect(result.rejectedSpans).toBe(0);
    expect(result.spans).toBe(allSpans(input).length);
    for (const part of result.parts) {
      expect(decodeTraces(part.bytes)).toEqual(expectedPart(input, 7, part.partition));
      expect(part.spans).toBe(allSpans(decodeTraces(part.bytes)).length);
    }
    expect(result.parts.reduce((n, p) => n + p.spans, 0)).toBe(result.spans);
  });

  it('for arbitrary requests: parts hold exactly the valid spans, grouped by partition', () => {
    const data = arb.tracesWith(arb.spanWith(traceIdMaybeBad, spanIdMaybeBad));
    fc.assert(
      fc.property(data, fc.integer({ min: 1, max: 9 }), (input, partitions) => {
        const result = splitTraces(encodeTraces(input), { partitions });
        const valid = allSpans(input).filter(isValid);
        expect(result.spans).toBe(valid.length);
        expect(result.rejectedSpans).toBe(allSpans(input).length - valid.length);

        const seen: Span[] = [];
        let last = -1;
        for (const part of result.parts) {
          expect(part.partition).toBeGreaterThan(last); // ascending, one per partition
          last = part.partition;
          const decoded = decodeTraces(part.bytes);
          expect(decoded).toEqual(expectedPart(input, partitions, part.partition));
          for (const s of allSpans(decoded)) {
            expect(partitionOfTraceId(s.traceId, partitions)).toBe(part.partition);
          }
          expect(part.spans).toBe(allSpans(decoded).length);
          seen.push(...allSpans(decoded));
        }
        // Concatenated parts = the valid input spans, as multisets.
        const key = (s: Span) =>
          Buffer.from(
            encodeTraces({
              resourceSpans: [
                {
                  resource: undefined,
                  schemaUrl: '',
                  scopeSpans: [{ scope: undefined, schemaUrl: '', spans: [s] }],
                },
              ],
            }),
          ).toString('base64');
        expect(seen.map(key).sort()).toEqual(valid.map(key).sort());
      }),
      { numRuns: 200 },
    );
  });

  it('with one partition and only valid spans, the part is the input, byte for byte', () => {
    fc.assert(
      fc.property(arb.tracesWith(arb.spanWith(validTraceId, nonZero(8))), (input) => {
        fc.pre(
          input.resourceSpans.every(
            (rs) => rs.scopeSpans.length > 0 && rs.scopeSpans.every((ss) => ss.spans.length > 0),
          ),
        );
        const bytes = encodeTraces(input);
        const result = splitTraces(bytes, { partitions: 1 });
        expect(result.parts).toHaveLength(input.resourceSpans.length > 0 ? 1 : 0);
        if (result.parts.length === 1) expect(result.parts[0].bytes).toEqual(bytes);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps resource, scope and unknown fields as the original bytes', () => {
    const unknown = vfield(77, 5);
    const bytes = ld(
      1,
      ld(1, ld(1, str(1, 'service.name'), ld(2, str(1, 'svc')))),
      ld(2, ld(1, str(1, 'scope')), ld(2, rawSpan(id(1), id(9, 8))), str(3, 'https://s'), unknown),
      str(3, 'https://r'),
      unknown,
    );
    const result = splitTraces(bytes, { partitions: 1 });
    expect(result.parts[0].bytes).toEqual(bytes);
  });

  it('rejects individual spans with bad ids, counting each reason', () => {
    const ok = rawSpan(id(1), id(1, 8));
    const bytes = rawTraces(
      ok,
      rawSpan(new Uint8Array(16), id(2, 8)), // all-zero trace id
      rawSpan(id(1).subarray(0, 15), id(3, 8)), // 15 bytes
      concat(ld(2, id(4, 8)), str(5, 'no trace id')),
      rawSpan(id(1), new Uint8Array(8)), // all-zero span id
      rawSpan(id(1), id(5, 4)), // 4 bytes
    );
    const result = splitTraces(bytes, { partitions: 4 });
    expect(result.spans).toBe(1);
    expect(result.rejectedSpans).toBe(5);
    expect(result.rejectReasons).toEqual({
      invalid_trace_id: 3,
      invalid_span_id: 2,
      attribute_limit: 0,
    });
    expect(result.parts).toEqual([
      { partition: partitionOfTraceId(id(1), 4), bytes: rawTraces(ok), spans: 1 },
    ]);
  });

  it('enforces attribute count and value size limits on the span itself', () => {
    const kv = (k: string, value: Uint8Array) => ld(9, str(1, k), ld(2, value));
    const s = (n: number, ...attrs: Uint8Array[]) => rawSpan(id(1), id(n, 8), ...attrs);
    const bytes = rawTraces(
      s(1, kv('a', str(1, 'x'.repeat(10))), kv('b', str(1, 'y'))), // fits
      s(2, kv('a', str(1, '1')), kv('b', str(1, '2')), kv('c', str(1, '3'))), // 3 > 2 attributes
      s(3, kv('big', str(1, 'z'.repeat(11)))), // 11 > 10 bytes
      s(4, kv('bytes', ld(7, new Uint8Array(11)))), // bytes value too
      s(5, kv('arr', ld(5, ld(1, str(1, 'abcd')), ld(1, str(1, 'efgh'))))), // encoded array 12 bytes
      // Event attributes do not count against the span's own limit.
      s(6, ld(11, str(2, 'ev'), ld(3, str(1, 'e'), ld(2, str(1, 'w'.repeat(50)))))),
    );
    const result = splitTraces(bytes, {
      partitions: 3,
      maxAttributesPerItem: 2,
      maxAttributeValueBytes: 10,
    });
    expect(result.rejectReasons.attribute_limit).toBe(4);
    expect(result.spans).toBe(2);
    const kept = result.parts.flatMap((p) => allSpans(decodeTraces(p.bytes)));
    expect(kept.map((sp) => sp.spanId[7]).sort()).toEqual([1, 6]);
  });

  it('checks ids before limits: a span with both problems counts once, as invalid_trace_id', () => {
    const bytes = rawTraces(
      rawSpan(new Uint8Array(3), id(1, 8), ld(9, str(1, 'k'), ld(2, str(1, 'vvvv')))),
    );
    const result = splitTraces(bytes, { partitions: 2, maxAttributeValueBytes: 1 });
    expect(result.rejectReasons).toEqual({
      invalid_trace_id: 1,
      invalid_span_id: 0,
      attribute_limit: 0,
    });
  });

  it('returns no parts for an empty request or one whose spans are all rejected', () => {
    expect(splitTraces(new Uint8Array(0), { partitions: 3 })).toEqual({
      parts: [],
      spans: 0,
      rejectedSpans: 0,
      rejectReasons: { invalid_trace_id: 0, invalid_span_id: 0, attribute_limit: 0 },
    });
    expect(
      splitTraces(rawTraces(rawSpan(new Uint8Array(16), id(1, 8))), { partitions: 3 }).parts,
    ).toEqual([]);
  });

  describe('malformed requests throw OtlpDecodeError as a whole', () => {
    const good = rawTraces(rawSpan(id(1), id(1, 8)));
    const inSpan = (...extra: Uint8Array[]) => rawTraces(rawSpan(id(1), id(1, 8), ...extra));
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated', good.subarray(0, good.length - 1), /truncated|overruns/],
      [
        'huge declared length',
        Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        /truncated length-delimited/,
      ],
      ['invalid UTF-8 in the span name', inSpan(ld(5, [0xff])), /invalid UTF-8 in Span.name/],
      [
        'invalid UTF-8 in a nested attribute value',
        inSpan(ld(9, str(1, 'k'), ld(2, ld(6, ld(1, str(1, 'n'), ld(2, ld(1, [0xc0, 0x80]))))))),
        /invalid UTF-8 in AnyValue.string_value/,
      ],
      [
        'invalid UTF-8 in an attribute key',
        inSpan(ld(9, ld(1, [0xe2, 0x82]))),
        /invalid UTF-8 in KeyValue.key/,
      ],
      [
        'invalid UTF-8 in an event name',
        inSpan(ld(11, ld(2, [0x80]))),
        /invalid UTF-8 in Span.Event.name/,
      ],
      [
        'invalid UTF-8 in a link trace state',
        inSpan(ld(13, ld(3, [0xfe]))),
        /invalid UTF-8 in Span.Link.trace_state/,
      ],
      [
        'invalid UTF-8 in the status message',
        inSpan(ld(15, ld(2, [0xff]))),
        /invalid UTF-8 in Status.message/,
      ],
      [
        'invalid UTF-8 in a resource attribute',
        ld(
          1,
          ld(1, ld(1, str(1, 'k'), ld(2, ld(1, [0xff])))),
          ld(2, ld(2, rawSpan(id(1), id(1, 8)))),
        ),
        /invalid UTF-8/,
      ],
      [
        'invalid UTF-8 in a long string (native path)',
        inSpan(ld(5, concat(new TextEncoder().encode('a'.repeat(200)), [0xff]))),
        /invalid UTF-8 in Span.name/,
      ],
      [
        'a known field with the wrong wire type',
        inSpan(Uint8Array.from(vfield(5, 1))),
        /field 5 of Span has unexpected wire type/,
      ],
      ['invalid wire type', inSpan(Uint8Array.from([0x4e])), /invalid wire type 6/],
    ];
    it.each(cases)('%s', (_name, bytes, message) => {
      expect(() => splitTraces(bytes, { partitions: 4 })).toThrow(OtlpDecodeError);
      expect(() => splitTraces(bytes, { partitions: 4 })).toThrow(message);
    });

    it('nesting deeper than 32', () => {
      let value: Uint8Array = str(1, 'leaf');
      for (let i = 0; i < 40; i++) value = ld(5, ld(1, value));
      expect(() =>
        splitTraces(rawTraces(rawSpan(id(1), id(1, 8), ld(9, str(1, 'k'), ld(2, value)))), {
          partitions: 2,
        }),
      ).toThrow(/nesting deeper than 32/);
    });

    it('a declared length of 2 GiB in a 10-byte buffer fails before anything is allocated', () => {
      const bytes = Uint8Array.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 2, 3, 4]);
      expect(() => splitTraces(bytes, { partitions: 2 })).toThrow(
        /truncated length-delimited field 1 at offset 1/,
      );
    });
  });

  it('accepts exactly what the decoder accepts (mutated and truncated inputs)', () => {
    fc.assert(
      fc.property(
        arb.tracesWith(arb.spanWith(traceIdMaybeBad, spanIdMaybeBad)),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.nat(),
        (input, flips, cut) => {
          const bytes = encodeTraces(input).slice();
          for (const [at, b] of flips) if (bytes.length > 0) bytes[at % bytes.length] = b;
          const mutated = bytes.subarray(0, cut % (bytes.length + 1));
          let decodeError: unknown;
          let splitError: unknown;
          try {
            decodeTraces(mutated);
          } catch (e) {
            decodeError = e;
          }
          try {
            splitTraces(mutated, { partitions: 5 });
          } catch (e) {
            splitError = e;
          }
          if (decodeError !== undefined) expect(decodeError).toBeInstanceOf(OtlpDecodeError);
          if (splitError !== undefined) expect(splitError).toBeInstanceOf(OtlpDecodeError);
          expect(splitError === undefined).toBe(decodeError === undefined);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('validates options, reporting every problem with its path', () => {
    expect(validateTraceSplitOptions({ partitions: 12, maxAttributesPerItem: 128 })).toEqual([]);
    expect(
      validateTraceSplitOptions({
        partitions: 0,
        maxAttributesPerItem: -1,
        maxAttributeValueBytes: 1.5,
      }).map((p) => p.path),
    ).toEqual(['partitions', 'maxAttributesPerItem', 'maxAttributeValueBytes']);
    expect(() => splitTraces(new Uint8Array(0), { partitions: Number.NaN })).toThrow(RangeError);
  });
});
