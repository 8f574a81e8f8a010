import fc from 'fast-check';
import {
  bytesToHex,
  hexToBytes,
  hexToSpanId,
  hexToTraceId,
  isZeroId,
  spanIdToHex,
  traceIdToHex,
  tryHexToBytes,
} from './hex';

describe('hex ids', () => {
  it('encodes lower-case and decodes either case', () => {
    const id = hexToTraceId('5B8EFFF798038103d269b633813fc60c');
    expect(Array.from(id.subarray(0, 3))).toEqual([0x5b, 0x8e, 0xff]);
    expect(traceIdToHex(id)).toBe('5b8efff798038103d269b633813fc60c');
    expect(spanIdToHex(hexToSpanId('EEE19B7EC3C1B174'))).toBe('eee19b7ec3c1b174');
  });

  it('rejects wrong lengths and non-hex characters', () => {
    expect(() => hexToTraceId('abc')).toThrow(/expected 32 hex characters/);
    expect(() => hexToSpanId('eee19b7ec3c1b17g')).toThrow(RangeError);
    expect(tryHexToBytes('0g')).toBeUndefined();
    expect(tryHexToBytes('0')).toBeUndefined();
    expect(tryHexToBytes('\u0100\u0100')).toBeUndefined();
    expect(() => hexToBytes('zz')).toThrow(/even number/);
  });

  it('round-trips any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const hex = bytesToHex(bytes);
        expect(hex).toMatch(/^[0-9a-f]*$/);
        expect(hexToBytes(hex.toUpperCase())).toEqual(bytes);
        expect(hex).toBe(Buffer.from(bytes).toString('hex'));
      }),
    );
  });

  it('knows the all-zero (invalid) id', () => {
    expect(isZeroId(new Uint8Array(16))).toBe(true);
    expect(isZeroId(new Uint8Array(0))).toBe(true);
    expect(isZeroId(hexToSpanId('0000000000000100'))).toBe(false);
  });
});
