import { createRequire } from 'node:module';
import { GROWTH_SLACK, patchKafkajsEncoder } from './kafkajs-encoder';

interface Encoder {
  buffer: Buffer;
  buf: Buffer;
  writeInt32(v: number): Encoder;
  writeBytes(b: Buffer): Encoder;
  writeEncoder(e: Encoder): Encoder;
  writeEncoderArray(e: unknown): Encoder;
  writeVarIntBytes(b: Buffer): Encoder;
}
const EncoderClass = createRequire(__filename)('kafkajs/src/protocol/encoder') as new (
  size?: number,
) => Encoder;

describe('kafkajs Encoder growth without zero-fill', () => {
  it('applies to the kafkajs version installed (fails on an upgrade that moved the Encoder)', () => {
    expect(patchKafkajsEncoder()).toBe(true);
  });

  it('encodes exactly the bytes written, across many growths, and nothing past them', () => {
    patchKafkajsEncoder();
    const values = Array.from({ length: 40 }, (_, i) => Buffer.alloc(97 * i + 1, i + 1));
    const inner = new EncoderClass();
    for (const v of values) inner.writeBytes(v);
    const outer = new EncoderClass().writeInt32(7).writeEncoder(inner);
    const expected = Buffer.concat([
      Buffer.from([0, 0, 0, 7]),
      ...values.map((v) => Buffer.concat([Buffer.from([0, 0, v.length >> 8, v.length & 255]), v])),
    ]);
    expect(outer.buffer.equals(expected)).toBe(true);
    // The backing buffer is larger than what was written; only the written part is exposed.
    expect(outer.buf.length).toBeGreaterThan(outer.buffer.length);
  });

  it('grows a record for its value in one step, with room for the headers after it', () => {
    patchKafkajsEncoder();
    const value = Buffer.alloc(12_000, 5);
    const record = new EncoderClass().writeInt32(1).writeVarIntBytes(value);
    const grownTo = record.buf.length;
    expect(grownTo).toBe(4 + 3 + value.length + GROWTH_SLACK); // int32, zigzag varint length
    record.writeBytes(Buffer.alloc(200, 1)); // the headers: no second growth
    expect(record.buf.length).toBe(grownTo);
    expect(record.buffer.subarray(7, 7 + value.length).equals(value)).toBe(true);
  });

  it('concatenates an encoder array in one growth, byte for byte', () => {
    patchKafkajsEncoder();
    const parts = Array.from({ length: 30 }, (_, i) =>
      new EncoderClass().writeBytes(Buffer.alloc(50 * i + 3, i + 1)),
    );
    const all = new EncoderClass().writeInt32(parts.length);
    const grow = jest.spyOn(Buffer, 'allocUnsafe');
    try {
      all.writeEncoderArray(parts);
      expect(grow).toHaveBeenCalledTimes(1);
    } finally {
      grow.mockRestore();
    }
    const expected = Buffer.concat([Buffer.from([0, 0, 0, 30]), ...parts.map((p) => p.buffer)]);
    expect(all.buffer.equals(expected)).toBe(true);
  });

  it('keeps many small appends linear (doubling), not a growth per append', () => {
    patchKafkajsEncoder();
    const e = new EncoderClass();
    const grow = jest.spyOn(Buffer, 'allocUnsafe');
    try {
      for (let i = 0; i < 10_000; i++) e.writeInt32(i);
      expect(grow.mock.calls.length).toBeLessThanOrEqual(8); // 512 B -> 40 KB by doubling
    } finally {
      grow.mockRestore();
    }
    expect(e.buffer.readInt32BE(4 * 9_999)).toBe(9_999);
  });

  it('still refuses an array that is not all encoders, as kafkajs does', () => {
    patchKafkajsEncoder();
    expect(() => new EncoderClass().writeEncoderArray([Buffer.alloc(1)])).toThrow(
      'all values should be an instance of Encoder[]',
    );
  });

  it('starts every encoder empty and takes its first bytes from the shared pool', () => {
    patchKafkajsEncoder();
    const e = new EncoderClass();
    expect(e.buf.length).toBe(0);
    e.writeInt32(42);
    expect(e.buf.buffer.byteLength).toBe(Buffer.poolSize); // a slice of the pool
    expect(e.buffer).toEqual(Buffer.from([0, 0, 0, 42]));
  });
});
