/**
 * Kafka record-batch codecs on OTLP protobuf (issue #3: compression was the gateway's largest
 * cost): CPU per MB to compress and to decompress, and the ratio, for gzip level 1 (zlib, on
 * the thread pool, as registered before) and LZ4 frames (lz4-napi), sync and async. CPU time is
 * the process's (process.cpuUsage), so work done on the thread pool counts too. The input is
 * the realistic agent-run export from bench/otlp, repeated to the sizes of real produce batches.
 *
 * Run: taskset -c 1 node --require ./bench/register.js bench/gateway/codecs.bench.ts
 * Prints one JSON object per line.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { compressFrame, compressFrameSync, decompressFrame, decompressFrameSync } from 'lz4-napi';
import { agentRunPayload } from '../otlp/agent-payload';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

type Op = (b: Buffer) => Promise<Buffer>;

const CODECS: Record<string, { compress: Op; decompress: Op }> = {
  'gzip-1-async': {
    compress: (b) => gzipAsync(b, { level: 1 }),
    decompress: (b) => gunzipAsync(b),
  },
  'lz4-async': { compress: (b) => compressFrame(b), decompress: (b) => decompressFrame(b) },
  'lz4-sync': {
    compress: async (b) => compressFrameSync(b),
    decompress: async (b) => decompressFrameSync(b),
  },
};

/** CPU µs per MB of uncompressed data, with 4 operations in flight (as a busy producer has). */
async function cpuPerMb(op: Op, input: Buffer, uncompressed: number): Promise<number> {
  const n = Math.max(8, Math.round(64e6 / uncompressed));
  await op(input);
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i += 4) await Promise.all([op(input), op(input), op(input), op(input)]);
  const c = process.cpuUsage(c0);
  return Math.round((c.user + c.system) / (n / 4) / 4 / (uncompressed / 1e6));
}

async function main(): Promise<void> {
  const one = Buffer.from(agentRunPayload().bytes);
  for (const copies of [1, 8]) {
    const input = Buffer.concat(Array.from({ length: copies }, () => one));
    for (const [codec, { compress, decompress }] of Object.entries(CODECS)) {
      const packed = await compress(input);
      console.log(
        JSON.stringify({
          bench: 'kafka-codecs',
          codec,
          batch_bytes: input.length,
          ratio: Math.round((input.length / packed.length) * 100) / 100,
          compress_cpu_us_per_mb: await cpuPerMb(compress, input, input.length),
          decompress_cpu_us_per_mb: await cpuPerMb(decompress, packed, input.length),
        }),
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
