/**
 * Kafka record-batch compression codecs, registered process-wide. kafkajs keeps one codec table
 * for the whole process (CompressionCodecs), shared by producers and consumers, so the
 * registration lives here, where createKafka and the producers import it: whatever makes a
 * Kafka client in Custodian — the gateway's producer, the worker's consumer, the test taps —
 * can write and read every KAFKA_COMPRESSION value.
 *
 * Why LZ4 (issue #3's benchmark): gzip, even at level 1, was the gateway's largest single cost
 * (29% of its CPU). LZ4 frame compression of the same record batches costs about a fifth of
 * that for a similar ratio on OTLP protobuf (bench/gateway/codecs.bench.ts prints both).
 * Kafka 3.9 brokers and every Kafka client read LZ4 (the frame format, KIP-57); lz4-napi
 * writes standard frames with independent 64 KiB blocks, which is what Kafka's own
 * KafkaLZ4BlockInputStream expects.
 *
 * LZ4 runs synchronously, on purpose: lz4-napi's async functions cost 2 to 8 times the CPU of
 * the sync ones (measured with the bench payload: 585 µs against 75 µs for a 580 KB batch), and
 * the work is short — about 0.1 ms per 1 MB batch compressed, 0.4 ms decompressed — so the
 * event loop is held less than by the hop to the thread pool. gzip stays on the thread pool.
 */
import { promisify } from 'node:util';
import { gzip, unzip } from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';

/** The values of KAFKA_COMPRESSION, in the setting's words. */
export type KafkaCompression = 'lz4' | 'gzip' | 'none';

const KAFKAJS_TYPE: Record<KafkaCompression, CompressionTypes> = {
  lz4: CompressionTypes.LZ4,
  gzip: CompressionTypes.GZIP,
  none: CompressionTypes.None,
};

/** The kafkajs compression type of a KAFKA_COMPRESSION value. */
export function compressionType(c: KafkaCompression): CompressionTypes {
  return KAFKAJS_TYPE[c];
}

const gzipAsync = promisify(gzip);
const unzipAsync = promisify(unzip);

interface Encoder {
  buffer: Buffer;
}

let registered = false;

/** Registers Custodian's codecs in kafkajs's process-wide table (idempotent). */
export function registerKafkaCodecs(): void {
  if (registered) return;
  registered = true;
  // kafkajs's own gzip codec compresses at zlib's default level 6; level 1 is several times
  // cheaper for a slightly larger output, and any consumer reads it, since it is still gzip.
  CompressionCodecs[CompressionTypes.GZIP] = () => ({
    compress: (encoder: Encoder) => gzipAsync(encoder.buffer, { level: 1 }),
    decompress: (buffer: Buffer) => unzipAsync(buffer),
  });
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: Encoder) => compressFrameSync(encoder.buffer),
    decompress: async (buffer: Buffer) => decompressFrameSync(buffer),
  });
}

registerKafkaCodecs();
