/**
 * The gateway's Produce request encoding (issue #3): kafkajs's own encoder against the one-pass
 * encoder of libs/bus/src/kafkajs-produce.ts, in the same run, on the gateway's shape — a batch
 * of client requests, each split into one record per partition (the agent-run export of
 * bench/otlp regrouped by trace id), with the 5 Custodian headers shared by each request's
 * records, LZ4-compressed, for an idempotent producer. The two are alternated round by round.
 * Reports CPU µs per request batch and per span, and the bytes each allocates per batch
 * (Buffer allocations counted by wrapping Buffer.allocUnsafe / Buffer.from / Buffer.alloc).
 *
 * Run: taskset -c 1 node --require ./bench/register.js bench/gateway/produce-encode.bench.ts
 * Prints one JSON object per line.
 */
import { createRequire } from 'node:module';
import { encodeProduceBody, registerKafkaCodecs } from '@custodian/bus';
import { decodeTraces, encodeTraces } from '@custodian/otlp';
import { agentRunPayload } from '../otlp/agent-payload';

const kafkajs = createRequire(__filename);
const produceV3 = kafkajs('kafkajs/src/protocol/requests/produce/v3/request') as (
  args: unknown,
) => { encode(): Promise<{ buffer: Buffer }> };
const compression = kafkajs('kafkajs/src/protocol/message/compression');
const crc32C = kafkajs('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
const Long = kafkajs('kafkajs/src/utils/long') as { fromValue(v: unknown): { value: bigint } };
const LZ4 = 3;
const PARTITIONS = 6;
const REQUESTS_PER_BATCH = 3;
const ROUNDS = 400;

registerKafkaCodecs();

/** One client request's records: its spans regrouped into one OTLP export per partition. */
function requestRecords(payload: Uint8Array, r: number) {
  const data = decodeTraces(payload);
  const part = (traceId: Uint8Array): number => (traceId[0] + r) % PARTITIONS;
  const groups = Array.from({ length: PARTITIONS }, (_, p) =>
    data.resourceSpans
      .map((rs) => ({
        ...rs,
        scopeSpans: rs.scopeSpans
          .map((ss) => ({ ...ss, spans: ss.spans.filter((span) => part(span.traceId) === p) }))
          .filter((ss) => ss.spans.length > 0),
      }))
      .filter((rs) => rs.scopeSpans.length > 0),
  );
  const headers = {
    'custodian-tenant-id': `tenant-${r % 4}`,
    'custodian-signal': 'traces',
    'custodian-received-at': String(1_765_000_000_000 + r),
    'custodian-content-version': '1',
    'custodian-gateway-id': 'gw-0',
  };
  return groups.map((resourceSpans, partition) => ({
    partition,
    key: null,
    value: Buffer.from(encodeTraces({ resourceSpans })),
    headers,
  }));
}

const payload = agentRunPayload().bytes;
const spansPerRequest = decodeTraces(payload).resourceSpans.reduce(
  (n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0),
  0,
);
const requests = Array.from({ length: 12 }, (_, r) => requestRecords(payload, r));

function batchArgs(round: number) {
  const byPartition = Array.from({ length: PARTITIONS }, (_, partition) => ({
    partition,
    firstSequence: round * 10,
    messages: [] as ReturnType<typeof requestRecords>,
  }));
  for (let k = 0; k < REQUESTS_PER_BATCH; k++)
    for (const rec of requests[(round + k) % requests.length])
      byPartition[rec.partition].messages.push(rec);
  return {
    acks: -1,
    timeout: 5000,
    producerId: Long.fromValue(4242n),
    producerEpoch: 0,
    compression: LZ4,
    topicData: [{ topic: 'otlp.traces', partitions: byPartition }],
  };
}

let allocated = 0;
for (const name of ['allocUnsafe', 'alloc', 'from', 'allocUnsafeSlow'] as const) {
  const original = Buffer[name] as (...a: unknown[]) => Buffer;
  (Buffer as unknown as Record<string, unknown>)[name] = function (this: unknown, ...a: unknown[]) {
    const b = original.apply(Buffer, a);
    allocated += b.length;
    return b;
  };
}

const variants: [string, (args: unknown) => Promise<Buffer>][] = [
  ['kafkajs encoder', async (args) => (await produceV3(args).encode()).buffer],
  [
    'one-pass encoder (kafkajs-produce.ts)',
    async (args) => (await encodeProduceBody(args as never, { compression, crc32C, Long }))!,
  ],
];

async function main(): Promise<void> {
  for (let r = 0; r < 50; r++) for (const [, f] of variants) await f(batchArgs(r)); // warm-up
  const cpu = variants.map(() => 0);
  const bytes = variants.map(() => 0);
  let size = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (let v = 0; v < variants.length; v++) {
      const args = batchArgs(r);
      const a0 = allocated;
      const c0 = process.cpuUsage();
      const out = await variants[v][1](args);
      const c = process.cpuUsage(c0);
      cpu[v] += c.user + c.system;
      bytes[v] += allocated - a0;
      size = out.length;
    }
  }
  const spans = spansPerRequest * REQUESTS_PER_BATCH;
  variants.forEach(([name], v) => {
    console.log(
      JSON.stringify({
        bench: 'produce-encode',
        name,
        requests_per_batch: REQUESTS_PER_BATCH,
        spans_per_batch: spans,
        request_bytes: size,
        cpu_us_per_batch: Math.round((cpu[v] / ROUNDS) * 10) / 10,
        cpu_ns_per_span: Math.round((cpu[v] * 1000) / ROUNDS / spans),
        buffer_bytes_allocated_per_batch: Math.round(bytes[v] / ROUNDS),
      }),
    );
  });
}

void main();
