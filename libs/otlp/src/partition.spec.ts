import fc from 'fast-check';
import { partitionOfTraceId, traceIdHashAt } from './partition';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** Reference FNV-1a 32 in BigInt arithmetic, independent of the Math.imul implementation. */
function referenceFnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
  return Number(h);
}

describe('partitionOfTraceId (Kafka record contract)', () => {
  it('matches golden vectors: changing these re-homes every in-flight trace', () => {
    // Computed independently (Python: FNV-1a 32 over the 16 bytes, unsigned, mod n).
    expect(traceIdHashAt(hex('0102030405060708090a0b0c0d0e0f10'), 0)).toBe(0xae8e8135);
    expect(partitionOfTraceId(hex('0102030405060708090a0b0c0d0e0f10'), 12)).toBe(9);
    expect(traceIdHashAt(hex('ffffffffffffffffffffffffffffffff'), 0)).toBe(0x360779f5);
    expect(traceIdHashAt(hex('4bf92f3577b34da6a3ce929d0e0e4736'), 0)).toBe(0x3e91661d);
    expect(partitionOfTraceId(hex('4bf92f3577b34da6a3ce929d0e0e4736'), 64)).toBe(29);
  });

  it('is FNV-1a over exactly the 16 id bytes, unsigned, modulo the partition count', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 1, max: 5000 }),
        (traceId, n) => {
          const p = partitionOfTraceId(traceId, n);
          expect(p).toBe(referenceFnv1a(traceId) % n);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThan(n);
        },
      ),
    );
  });

  it('hashes at an offset inside a larger buffer the same way (the splitter path)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 40 }), fc.nat(24), (buf, off) => {
        fc.pre(off + 16 <= buf.length);
        expect(traceIdHashAt(buf, off)).toBe(referenceFnv1a(buf.subarray(off, off + 16)));
      }),
    );
  });

  it('spreads sequential trace ids over all partitions', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const tid = new Uint8Array(16);
      new DataView(tid.buffer).setUint32(12, i);
      seen.add(partitionOfTraceId(tid, 32));
    }
    expect(seen.size).toBe(32);
  });

  it('rejects ids that are not 16 bytes and bad partition counts', () => {
    expect(() => partitionOfTraceId(new Uint8Array(8), 4)).toThrow(RangeError);
    expect(() => partitionOfTraceId(new Uint8Array(16), 0)).toThrow(RangeError);
    expect(() => partitionOfTraceId(new Uint8Array(16), 2.5)).toThrow(RangeError);
    expect(() => partitionOfTraceId(new Uint8Array(16), Number.NaN)).toThrow(RangeError);
  });
});
