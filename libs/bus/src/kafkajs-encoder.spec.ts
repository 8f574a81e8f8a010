import { createRequire } from 'node:module';
import { patchKafkajsEncoder } from './kafkajs-encoder';

interface Encoder {
  buffer: Buffer;
  buf: Buffer;
  writeInt32(v: number): Encoder;
  writeBytes(b: Buffer): Encoder;
  writeEncoder(e: Encoder): Encoder;
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
});
