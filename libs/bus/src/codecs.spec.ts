import { randomBytes } from 'node:crypto';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compressionType, registerKafkaCodecs } from './codecs';

/** What kafkajs calls when it writes and reads a record batch. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
const codec = (t: CompressionTypes): Codec =>
  (CompressionCodecs as unknown as Record<number, () => Codec>)[t]();

describe('Kafka codecs', () => {
  beforeAll(() => registerKafkaCodecs());

  const data = Buffer.concat(
    Array.from({ length: 4000 }, (_, i) =>
      Buffer.concat([Buffer.from(`span ${i % 17} gen_ai.request.model gpt-4o `), randomBytes(8)]),
    ),
  );

  it('maps every KAFKA_COMPRESSION value to its kafkajs type', () => {
    expect(compressionType('lz4')).toBe(CompressionTypes.LZ4);
    expect(compressionType('gzip')).toBe(CompressionTypes.GZIP);
    expect(compressionType('none')).toBe(CompressionTypes.None);
  });

  it('lz4 writes a standard LZ4 frame (what Kafka reads) with independent blocks, and reads it back', async () => {
    const lz4 = codec(CompressionTypes.LZ4);
    const out = await lz4.compress({ buffer: data });
    // Frame magic 0x184D2204 (little endian); FLG: version 01, block independence set.
    expect(out.readUInt32LE(0)).toBe(0x184d2204);
    expect(out[4] & 0xc0).toBe(0x40);
    expect(out[4] & 0x20).toBe(0x20);
    expect(out.length).toBeLessThan(data.length);
    expect((await lz4.decompress(out)).equals(data)).toBe(true);
  });

  it('gzip writes gzip that any reader inflates, and reads it back', async () => {
    const gz = codec(CompressionTypes.GZIP);
    const out = await gz.compress({ buffer: data });
    expect([out[0], out[1]]).toEqual([0x1f, 0x8b]);
    expect((await gz.decompress(out)).equals(data)).toBe(true);
  });

  it('rejects a corrupt lz4 frame instead of returning garbage', async () => {
    const lz4 = codec(CompressionTypes.LZ4);
    const out = await lz4.compress({ buffer: data });
    await expect(lz4.decompress(out.subarray(0, out.length - 20))).rejects.toThrow();
  });
});
