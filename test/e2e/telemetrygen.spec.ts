/**
 * Interop with telemetrygen, the OpenTelemetry Collector project's load generator (Go OTLP
 * exporters, gRPC and HTTP): every span it sends is in Kafka, in its trace's partition.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { REPO_ROOT, type CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey, type GatewayPorts } from '../support/gateway-process';
import { endOffsets, inTraceIdPartition, tracesInKafka } from '../support/kafka-read';

const run = promisify(execFile);
const TELEMETRYGEN = process.env.TELEMETRYGEN ?? join(REPO_ROOT, '.stack', 'bin', 'telemetrygen');
const PARTITIONS = Number(process.env.KAFKA_PARTITIONS ?? '6');

let db: PrismaClient;
let gateway: { proc: CustodianProcess; ports: GatewayPorts };

beforeAll(async () => {
  if (!existsSync(TELEMETRYGEN)) {
    throw new Error(`telemetrygen not found at ${TELEMETRYGEN}: run deploy/local/install-tools.sh`);
  }
  db = createPrismaClient(process.env.DATABASE_URL!);
  gateway = await startGateway();
});

afterAll(async () => {
  expect(await gateway.proc.stop()).toEqual({ code: 0, signal: null });
  await db.$disconnect();
});

describe('telemetrygen → gateway → Kafka', () => {
  it.each([
    ['gRPC', (p: GatewayPorts) => [`--otlp-endpoint=127.0.0.1:${p.grpc}`]],
    ['HTTP', (p: GatewayPorts) => [`--otlp-endpoint=127.0.0.1:${p.http}`, '--otlp-http']],
  ])('over %s: every generated span lands, by trace id', async (_name, endpoint) => {
    const { tenantId, key } = await tenantWithKey(db);
    const from = await endOffsets('traces');
    const traces = 60;
    const children = 4;
    await run(
      TELEMETRYGEN,
      [
        'traces',
        ...endpoint(gateway.ports),
        '--otlp-insecure',
        `--otlp-header=authorization="Bearer ${key}"`,
        `--traces=${traces}`,
        `--child-spans=${children}`,
        '--workers=2',
        '--rate=0',
        '--service=telemetrygen-agent',
      ],
      { timeout: 60000 },
    );
    const expected = traces * 2 * (children + 1);
    const spans = await tracesInKafka(tenantId, from, (s) => s.length >= expected);
    expect(spans).toHaveLength(expected);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(expected);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(traces * 2);
    expect(spans.every((s) => inTraceIdPartition(s, PARTITIONS))).toBe(true);
  });
});
