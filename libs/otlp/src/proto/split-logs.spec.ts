import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import type { LogRecord, LogsData } from '../model';
import { partitionOfTraceId } from '../partition';
import * as arb from './arbitraries';
import { OtlpDecodeError } from './errors';
import { decodeLogs, encodeLogs } from './logs';
import { sdkLogRecords } from './sdk-fixtures';
import { splitLogs, validateLogSplitOptions } from './split-logs';
import { concat, id, ld, str } from './wire-builder';

const traceId = fc.oneof(
  { weight: 3, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(16)) },
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 20 }).filter((b) => b.length !== 16),
  },
);
const spanId = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.oneof(
      fc.constant(new Uint8Array(0)),
      fc.uint8Array({ minLength: 8, maxLength: 8 }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 10 }).filter((b) => b.length !== 8),
  },
);

const valid = (r: LogRecord) =>
  (r.traceId.length === 0 || r.traceId.length === 16) &&
  (r.spanId.length === 0 || r.spanId.length === 8);
const partitionOf = (r: LogRecord, partitions: number, fallback: number) =>
  r.traceId.length === 16 && r.traceId.some((b) => b !== 0)
    ? partitionOfTraceId(r.traceId, partitions)
    : fallback;

function expectedPart(data: LogsData, partitions: number, fallback: number, p: number): LogsData {
  return {
    resourceLogs: data.resourceLogs
      .map((rl) => ({
        ...rl,
        scopeLogs: rl.scopeLogs
          .map((sl) => ({
            ...sl,
            logRecords: sl.logRecords.filter(
              (r) => valid(r) && partitionOf(r, partitions, fallback) === p,
            ),
          }))
          .filter((sl) => sl.logRecords.length > 0),
      }))
      .filter((rl) => rl.scopeLogs.length > 0),
  };
}

const records = (d: LogsData) =>
  d.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));

describe('splitLogs', () => {
  it('routes records with a trace id by it and the rest to the fallback partition', () => {
    const wire = ProtobufLogsSerializer.serializeRequest(sdkLogRecords())!;
    const input = decodeLogs(wire);
    const result = splitLogs(wire, { partitions: 16, fallbackPartition: 3 });
    const withTrace = partitionOfTraceId(
      Buffer.from('5b8efff798038103d269b633813fc60c', 'hex'),
      16,
    );
    expect(result.parts.map((p) => [p.partition, p.logRecords])).toEqual(
      [
        [withTrace, 1],
        [3, 3],
      ].sort((a, b) => a[0] - b[0]),
    );
    for (const part of result.parts) {
      expect(decodeLogs(part.bytes)).toEqual(expectedPart(input, 16, 3, part.partition));
    }
    expect(result.logRecords).toBe(4);
  });

  it('for arbitrary requests: parts hold exactly the valid records, each in its partition', () => {
    fc.assert(
      fc.property(
        arb.logsWith(arb.logRecordWith(traceId, spanId)),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        (input, partitions, f) => {
          const fallback = f % partitions;
          const result = splitLogs(encodeLogs(input), { partitions, fallbackPartition: fallback });
          const all = records(input);
          expect(result.logRecords).toBe(all.filter(valid).length);
          expect(result.rejectedLogRecords).toBe(all.length - result.logRecords);
          expect(result.rejectReasons.invalid_trace_id).toBe(
            all.filter((r) => r.traceId.length !== 0 && r.traceId.length !== 16).length,
          );
          for (const part of result.parts) {
            const decoded = decodeLogs(part.bytes);
            expect(decoded).toEqual(expectedPart(input, partitions, fallback, part.partition));
            expect(part.logRecords).toBe(records(decoded).length);
          }
          expect(result.parts.reduce((n, p) => n + p.logRecords, 0)).toBe(result.logRecords);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('applies attribute limits to the record, not its body', () => {
    const record = (n: number, ...fields: Uint8Array[]) => ld(2, ld(10, id(n, 8)), ...fields);
    const attr = (v: string) => ld(6, str(1, 'k'), ld(2, str(1, v)));
    const bytes = ld(
      1,
      ld(
        2,
        record(1, ld(5, str(1, 'b'.repeat(100))), attr('ok')),
        record(2, attr('x'.repeat(9))),
        record(3, attr('1'), attr('2')),
      ),
    );
    const result = splitLogs(bytes, {
      partitions: 2,
      fallbackPartition: 1,
      maxAttributesPerItem: 1,
      maxAttributeValueBytes: 8,
    });
    expect(result.logRecords).toBe(1);
    expect(result.rejectReasons).toEqual({
      invalid_trace_id: 0,
      invalid_span_id: 0,
      attribute_limit: 2,
    });
    expect(result.parts).toEqual([
      {
        partition: 1,
        bytes: ld(1, ld(2, record(1, ld(5, str(1, 'b'.repeat(100))), attr('ok')))),
        logRecords: 1,
      },
    ]);
  });

  it('throws OtlpDecodeError for malformed requests, including invalid UTF-8 in a body', () => {
    const bad = ld(
      1,
      ld(2, ld(2, ld(5, ld(6, ld(1, str(1, 'k'), ld(2, ld(1, [0xed, 0xbf, 0xbf]))))))),
    );
    expect(() => splitLogs(bad, { partitions: 2, fallbackPartition: 0 })).toThrow(OtlpDecodeError);
    expect(() => splitLogs(bad, { partitions: 2, fallbackPartition: 0 })).toThrow(
      /invalid UTF-8 in AnyValue/,
    );
    const truncated = concat([0x0a, 0x20], ld(2, []));
    expect(() => splitLogs(truncated, { partitions: 2, fallbackPartition: 0 })).toThrow(
      OtlpDecodeError,
    );
  });

  it('accepts exactly what the decoder accepts', () => {
    fc.assert(
      fc.property(
        arb.logs,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        (input, at, b, cut) => {
          const bytes = encodeLogs(input).slice();
          if (bytes.length > 0) bytes[at % bytes.length] = b;
          const mutated = bytes.subarray(0, cut % (bytes.length + 1));
          const outcome = (f: () => unknown) => {
            try {
              f();
              return 'ok';
            } catch (e) {
              expect(e).toBeInstanceOf(OtlpDecodeError);
              return 'error';
            }
          };
          expect(outcome(() => splitLogs(mutated, { partitions: 3, fallbackPartition: 0 }))).toBe(
            outcome(() => decodeLogs(mutated)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('validates options, reporting every problem with its path', () => {
    expect(validateLogSplitOptions({ partitions: 4, fallbackPartition: 3 })).toEqual([]);
    expect(
      validateLogSplitOptions({
        partitions: 4,
        fallbackPartition: 4,
        maxAttributeValueBytes: -2,
      }).map((p) => p.path),
    ).toEqual(['fallbackPartition', 'maxAttributeValueBytes']);
    expect(() => splitLogs(new Uint8Array(0), { partitions: 2, fallbackPartition: -1 })).toThrow(
      /fallbackPartition/,
    );
  });
});
