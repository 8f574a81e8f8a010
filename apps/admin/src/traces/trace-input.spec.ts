import {
  checkDuration,
  checkPageSize,
  checkRange,
  checkReason,
  checkSpanId,
  checkTraceId,
} from './trace-input';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const H = 3_600_000;

describe('ids', () => {
  it('accepts hex ids in either case and normalizes them to lower case', () => {
    const out: string[] = [];
    expect(checkTraceId('0AF7651916CD43DD8448EB211C80319C', 'traceId', out)).toBe(
      '0af7651916cd43dd8448eb211c80319c',
    );
    expect(checkSpanId('B7AD6B7169203331', 'spanId', out)).toBe('b7ad6b7169203331');
    expect(out).toEqual([]);
  });

  it('names the field, the expected form and what it got', () => {
    const out: string[] = [];
    checkTraceId('abc', 'traceId', out);
    checkSpanId('0af7651916cd43dd8448eb211c80319c', 'spanId', out);
    checkTraceId('0'.repeat(32), 'traceId', out);
    expect(out).toEqual([
      'traceId: expected a trace id of 32 hexadecimal characters, got "abc"',
      'spanId: expected a span id of 16 hexadecimal characters, got "0af7651916cd43dd8448eb211c80319c"',
      'traceId: the all-zero trace id is invalid',
    ]);
  });
});

describe('checkRange', () => {
  it('defaults to the last 24 hours', () => {
    const out: string[] = [];
    expect(checkRange(undefined, undefined, 'filter', out, NOW)).toEqual({
      from: new Date(NOW - 24 * H),
      to: new Date(NOW),
    });
    expect(checkRange(null, new Date(NOW - H), 'filter', out, NOW).from).toEqual(
      new Date(NOW - 25 * H),
    );
    expect(out).toEqual([]);
  });

  it('refuses an inverted range and one longer than 31 days', () => {
    const out: string[] = [];
    checkRange(new Date(NOW), new Date(NOW - H), 'filter', out, NOW);
    checkRange(new Date(NOW - 32 * 24 * H), new Date(NOW), 'filter', out, NOW);
    expect(out).toEqual([
      'filter.from: must be before to (2026-11-24T11:00:00.000Z)',
      'filter.from: the range may cover at most 31 days, got 32.0',
    ]);
  });
});

describe('other checks', () => {
  it('page sizes, durations and reveal reasons report every problem with its path', () => {
    const out: string[] = [];
    expect(checkPageSize(undefined, 'first', out)).toBe(50);
    expect(checkPageSize(0, 'first', out)).toBe(50);
    expect(checkDuration(-1, 'filter.minDurationMs', out)).toBeUndefined();
    expect(checkReason('  why  ', 'reason', out)).toBe('why');
    expect(checkReason('incident INC-4711: customer complaint', 'reason', out)).toBe(
      'incident INC-4711: customer complaint',
    );
    expect(out).toEqual([
      'first: expected 1..200, got 0',
      'filter.minDurationMs: expected milliseconds between 0 and 2678400000, got -1',
      'reason: say why you need the value, at least 10 characters (it is kept in the audit log), got 3',
    ]);
  });
});
