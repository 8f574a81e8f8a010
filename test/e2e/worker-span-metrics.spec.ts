/**
 * Issue #5 item 7, "exported to a sink as OTLP metrics with exemplars pointing to kept traces":
 * a tenant's policy asks (`span_metrics.export_to`) and the worker sends each closed series of
 * its span metrics to that sink — an OpenTelemetry Collector (not our code), which decodes the
 * OTLP and writes it out. The calls Sum counts every span before sampling (the sampled-out run
 * too), and the duration histogram carries an exemplar whose trace id is the run the same sink
 * received as a kept trace — never the run that tail sampling dropped.
 */
import { randomUUID } from 'node:crypto';
import { CONTENT_VERSION, HEADERS, TOPICS } from '@custodian/bus';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { agentRun, tracesRequest } from '../support/agent-runs';
import { CollectorSink, activatePolicy, collectorSink } from '../support/collector';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey } from '../support/gateway-process';
import { waitFor } from '../support/ports';
import { groupAtEnd, testKafka } from '../support/worker-setup';

jest.setTimeout(150_000);

const GROUP = `e2e-span-metrics-${randomUUID()}`;
const KEY_PREFIX = `e2e-span-metrics-${randomUUID().slice(0, 8)}`;

let db: PrismaClient;
let collector: CollectorSink;
let worker: CustodianProcess;

interface JsonExemplar {
  traceId?: string;
  spanId?: string;
  asDouble?: number;
}
interface JsonPoint {
  attributes?: { key: string; value?: { stringValue?: string } }[];
  asInt?: string;
  count?: string;
  explicitBounds?: number[];
  exemplars?: JsonExemplar[];
}
interface JsonMetric {
  name: string;
  sum?: { dataPoints?: JsonPoint[] };
  histogram?: { dataPoints?: JsonPoint[] };
}

/** Every metric the Collector wrote, with its resource's service.name. */
function receivedMetrics(sink: CollectorSink): { service: string; metric: JsonMetric }[] {
  const out: { service: string; metric: JsonMetric }[] = [];
  for (const line of sink.rawText().split('\n')) {
    if (!line.includes('"resourceMetrics"')) continue;
    const req = JSON.parse(line) as {
      resourceMetrics?: {
        resource?: { attributes?: { key: string; value?: { stringValue?: string } }[] };
        scopeMetrics?: { metrics?: JsonMetric[] }[];
      }[];
    };
    for (const rm of req.resourceMetrics ?? []) {
      const service =
        rm.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? '';
      for (const sm of rm.scopeMetrics ?? [])
        for (const metric of sm.metrics ?? []) out.push({ service, metric });
    }
  }
  return out;
}

const attr = (p: JsonPoint, key: string) =>
  p.attributes?.find((a) => a.key === key)?.value?.stringValue;

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  collector = await CollectorSink.start();
  await groupAtEnd(GROUP);
  ({ proc: worker } = await startGateway(
    { KAFKA_WORKER_GROUP: GROUP, CUSTODIAN_DELIVERY_KEY_PREFIX: KEY_PREFIX },
    true,
    'worker',
  ));
  await worker.waitForLog('worker partitions assigned');
});

afterAll(async () => {
  if (worker) expect(await worker.stop()).toEqual({ code: 0, signal: null });
  await collector?.close();
  await db?.$disconnect();
});

it('exports span metrics to the sink with exemplars of kept traces only', async () => {
  const { tenantId } = await tenantWithKey(db);
  await collectorSink(db, tenantId, 'collector', collector);
  await activatePolicy(db, tenantId, {
    version: 1,
    sampling: {
      tail: {
        decision_wait: '1s',
        policies: [
          { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
        ],
      },
    },
    routes: [{ sink: 'collector', select: 'all', restricted_fields: false }],
    span_metrics: { export_to: ['collector'], interval: '10s' },
  });
  await new Promise((r) => setTimeout(r, 3000));

  // A unique service name, so this test's series are its own.
  const service = `agent-${randomUUID().slice(0, 8)}`;
  const failed = agentRun({ error: true });
  const healthy = agentRun();
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: TOPICS.traces,
      acks: -1,
      // One record: both runs reach the same partition and are counted in the same instant.
      messages: [
        {
          key: null,
          value: Buffer.from(tracesRequest([...failed.spans, ...healthy.spans], service)),
          headers: {
            [HEADERS.tenantId]: tenantId,
            [HEADERS.signal]: 'traces',
            [HEADERS.receivedAt]: String(Date.now()),
            [HEADERS.contentVersion]: CONTENT_VERSION,
            [HEADERS.gatewayId]: 'e2e-span-metrics',
          },
        },
      ],
    });
  } finally {
    await producer.disconnect();
  }

  // The kept run arrives as a trace; the sampled-out one never does.
  await collector.waitForSpans('the failed run in the Collector', (got) =>
    got.filter((s) => s.traceId === failed.run.traceId).length === 4 ? true : undefined,
  );

  const mine = await waitFor(
    'span metrics of the tool span in the Collector',
    () => {
      const got = receivedMetrics(collector).filter((m) => m.service === service);
      const h = got.find((m) => m.metric.name === 'custodian.span.duration');
      const point = h?.metric.histogram?.dataPoints?.find(
        (p) => attr(p, 'span.name') === 'execute_tool search',
      );
      return point ? { got, point } : undefined;
    },
    90_000,
    500,
  );
  // Counted before sampling: both runs' tool spans.
  const calls = mine.got
    .find((m) => m.metric.name === 'custodian.span.calls')!
    .metric.sum!.dataPoints!.find((p) => attr(p, 'span.name') === 'execute_tool search')!;
  expect(Number(calls.asInt)).toBe(2);
  expect(attr(calls, 'tool.name')).toBe('search');
  expect(attr(calls, 'service.name')).toBe(service);
  const errors = mine.got
    .find((m) => m.metric.name === 'custodian.span.errors')!
    .metric.sum!.dataPoints!.find((p) => attr(p, 'span.name') === 'execute_tool search')!;
  expect(Number(errors.asInt)).toBe(1);

  const point = mine.point;
  expect(Number(point.count)).toBe(2);
  expect(point.explicitBounds).toEqual([
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
  ]);
  // The exemplar points at the kept run — a trace the same sink received — and its tool span.
  const toolSpanId = failed.run.spanIds[2];
  expect(point.exemplars?.map((e) => [e.traceId, e.spanId])).toEqual([
    [failed.run.traceId, toolSpanId],
  ]);
  const inSink = collector.spans().find((s) => s.spanId === toolSpanId);
  expect(inSink?.traceId).toBe(failed.run.traceId);
  expect(JSON.stringify(mine.got)).not.toContain(healthy.run.traceId);
});
