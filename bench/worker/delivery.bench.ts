/**
 * Delivery throughput to a local, fast OTLP/HTTP sink (node:http answering 200 at once):
 *   - baseline: the naive path, one direct OtlpHttpExporter.export per Kafka record (2 in flight);
 *   - batched: SinkBatcher (merge + one encode per 2000 spans) + SinkDelivery;
 *   - queued: the same with the sink answering 503, so every batch goes to the Redis retry queue
 *     (the durable path the consumer waits on before committing offsets).
 * One JSON line per measurement: name, items/s (spans), ns/item, batches/s. Needs Redis
 * (source deploy/local/env.sh). Run: node --require ./bench/register.js bench/worker/delivery.bench.ts
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { OtlpHttpExporter } from '@custodian/exporters';
import { encodeTraces, type TracesData } from '@custodian/otlp';
import { SinkBatcher, SinkDelivery } from '@custodian/delivery';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 5000);
const SPANS_PER_RECORD = 20;

function record(i: number): TracesData {
  const traceId = randomBytes(16);
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: `agent-${i % 4}` } }],
          droppedAttributesCount: 0,
        },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: { name: 'agent', version: '1', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            spans: Array.from({ length: SPANS_PER_RECORD }, (_, s) => ({
              traceId,
              spanId: randomBytes(8),
              traceState: '',
              parentSpanId: new Uint8Array(0),
              flags: 1,
              name: s === 0 ? 'agent.run' : `execute_tool t${s}`,
              kind: 3,
              startTimeUnixNano: now,
              endTimeUnixNano: now + 5_000_000n,
              attributes: [
                { key: 'run_id', value: { stringValue: `run-${i}` } },
                { key: 'llm.model', value: { stringValue: 'gpt-x' } },
                { key: 'gen_ai.usage.input_tokens', value: { intValue: 1234n } },
              ],
              droppedAttributesCount: 0,
              events: [],
              droppedEventsCount: 0,
              links: [],
              droppedLinksCount: 0,
            })),
          },
        ],
      },
    ],
  };
}

function report(name: string, spans: number, batches: number, ms: number): void {
  console.log(
    JSON.stringify({
      name,
      'items/s': Math.round((spans / ms) * 1000),
      'ns/item': Math.round((ms * 1e6) / spans),
      'batches/s': Math.round((batches / ms) * 1000),
      spans,
      batches,
    }),
  );
}

async function main(): Promise<void> {
  let status = 200;
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(status, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const exporter = new OtlpHttpExporter({ endpoint, compression: 'none' });
  const records = Array.from({ length: RECORDS }, (_, i) => record(i));
  const spans = RECORDS * SPANS_PER_RECORD;

  // Baseline: one export per record, 2 in flight.
  {
    requests = 0;
    const t0 = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < records.length) {
        const data = records[next++];
        await exporter.export({
          signal: 'traces',
          data,
          protobuf: encodeTraces(data),
          items: SPANS_PER_RECORD,
        });
      }
    };
    await Promise.all([lane(), lane()]);
    report('direct-export-per-record (baseline)', spans, requests, performance.now() - t0);
  }

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const keyPrefix = `cdbench-${randomBytes(4).toString('hex')}`;
  const delivery = new SinkDelivery({
    redisUrl,
    registry: new Registry(),
    resolveSink: async () => exporter,
    config: {
      keyPrefix,
      initialBackoffMs: 3_600_000,
      maxBackoffMs: 3_600_000,
      maxRetryQueueBatches: 1_000_000,
    },
  });
  const sink = { tenantId: 'bench', sinkId: 'fast', exporter };
  for (const [name, answer] of [
    ['batcher+delivery exported', 200],
    ['batcher+delivery queued_retry (sink 503 → Redis)', 503],
  ] as const) {
    status = answer;
    requests = 0;
    let batches = 0;
    const batcher = new SinkBatcher(
      sink,
      'traces',
      {
        deliver: (s, b) => {
          batches++;
          return delivery.deliver(s, b);
        },
      },
      { maxItems: 2000, maxDelayMs: 200 },
    );
    let done = 0;
    const t0 = performance.now();
    for (const data of records)
      batcher.add({ data, items: SPANS_PER_RECORD, onDone: () => done++ });
    await batcher.close();
    const ms = performance.now() - t0;
    if (done !== records.length) throw new Error(`onDone ${done} of ${records.length}`);
    report(name, spans, batches, ms);
  }
  await delivery.close();
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await exporter.close();
  server.close();
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
