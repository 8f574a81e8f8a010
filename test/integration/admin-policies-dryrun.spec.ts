/**
 * "A policy dry-run returns what the worker produces for the same input and version" (issue #6,
 * proven against the real PostgreSQL): the same OTLP JSON (agent runs serialized by the
 * OpenTelemetry SDK's own JSON serializer, plus logs) goes through the admin's dry-run and
 * through the worker's real pipeline — TenantPolicies compiling the tenant's active version
 * with the tenant's HMAC key from tenant_keys, and the PartitionProcessor fed the protobuf
 * records the gateway would produce — and each sink receives byte-identical OTLP JSON, with
 * the same tail decisions and the same discard counts.
 */
import { randomBytes } from 'node:crypto';
import { JsonLogsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import type { CustodianConfig } from '@custodian/config';
import {
  SinkRepository,
  TenantRepository,
  createPrismaClient,
  type PrismaClient,
  type PrismaService,
} from '@custodian/db';
import {
  decodeLogsJson,
  decodeTracesJson,
  encodeLogs,
  encodeLogsJson,
  encodeTraces,
  encodeTracesJson,
  type LogsData,
  type TracesData,
} from '@custodian/otlp';
import { AdminAudit } from '../../apps/admin/src/audit/admin-audit.service';
import { PoliciesService } from '../../apps/admin/src/policies/policies.service';
import {
  PartitionProcessor,
  type PipelineCounters,
} from '../../apps/worker/src/pipeline/partition-processor';
import type { DeliveryItem, TenantSink } from '../../apps/worker/src/pipeline/ports';
import { TenantPolicies } from '../../apps/worker/src/tenants/tenant-policies';
import { agentRuns } from '../support/agent-trace';

const ENCRYPTION_KEY = randomBytes(32);
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
let db: PrismaClient;
let service: PoliciesService;
let tenants: TenantRepository;

const POLICY = `
version: 1
attributes:
  - actions:
      - { key: run_id, action: hash }
      - { key: deployment.stage, value: prod, action: insert }
      - { key: prompt.version, action: delete }
redaction:
  customPatterns:
    - { name: ticket, pattern: 'TCK-[0-9]{6}', action: { action: hash } }
sampling:
  tail:
    decision_wait: 2s
    policies:
      - { name: failed-runs, type: status_code, status_code: { status_codes: [ERROR] } }
      - { name: big-runs, type: span_count, span_count: { min_spans: 50 } }
routes:
  - { sink: zipkin, select: all, restricted_fields: false }
  - { sink: vault, select: errors, restricted_fields: true }
  - { sink: ghost, select: all }
`;

function sdkTraces(): string {
  const spans = [...agentRuns(2, { failTool: true }), ...agentRuns(3, { service: 'ok-agent' })];
  return Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8');
}

function sdkLogs(traceIds: string[]): string {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'support-agent' }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger('custodian-it');
  const emit = (traceId: string | undefined, body: string) =>
    logger.emit({
      severityNumber: SeverityNumber.INFO,
      body,
      attributes: { run_id: 'run-x', note: 'ticket TCK-123456 from bob@example.com' },
      context: traceId
        ? trace.setSpanContext(context.active(), {
            traceId,
            spanId: '0102030405060708',
            traceFlags: 1,
          })
        : context.active(),
    });
  for (const t of traceIds) emit(t, `log of ${t}`);
  emit(undefined, 'no trace');
  const records: ReadableLogRecord[] = memory.getFinishedLogRecords();
  return Buffer.from(JsonLogsSerializer.serializeRequest(records)!).toString('utf8');
}

function traceIdsOf(json: string): string[] {
  const d = decodeTracesJson(json);
  const ids = new Set<string>();
  for (const rs of d.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) ids.add(Buffer.from(s.traceId).toString('hex'));
  return [...ids];
}

/** The worker's pipeline on the same tenant: real policy loading, fake Kafka and delivery. */
async function runWorker(tenantId: string, tracesJson: string, logsJson: string, t0: number) {
  const policies = new TenantPolicies(db, { encryptionKey: ENCRYPTION_KEY, logger: quiet });
  const rows = await new SinkRepository(db).list(tenantId);
  const sinks: TenantSink[] = rows
    .filter((r) => r.enabled)
    .map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      clearedForRestricted: r.clearedForRestricted,
      exporter: {} as never,
    }));
  const delivered: DeliveryItem[] = [];
  const discarded: { signal: string; reason: string; count: number }[] = [];
  const decided: string[] = [];
  const counters: PipelineCounters = {
    discarded: (_t, signal, reason, count) => {
      if (count > 0) discarded.push({ signal, reason, count });
    },
    routed: () => undefined,
    decided: (_t, sampled, cause) => decided.push(`${sampled}:${cause}`),
  };
  let now = t0;
  const proc = new PartitionProcessor({
    policies: { get: async (t) => (await policies.get(t)).compiled },
    sinks: { forTenant: async () => sinks },
    delivery: { submit: (item) => delivered.push(item) },
    counters,
    now: () => now,
  });
  const settle = () => new Promise((r) => setImmediate(r));
  await proc.handle({
    offset: '0',
    tenantId,
    signal: 'traces',
    value: Buffer.from(encodeTraces(decodeTracesJson(tracesJson))),
  });
  now += 2000;
  await proc.tick();
  await settle();
  await proc.handle({
    offset: '0',
    tenantId,
    signal: 'logs',
    value: Buffer.from(encodeLogs(decodeLogsJson(logsJson))),
  });
  await settle();
  await policies.stop();
  const bySink = new Map<string, { traces: TracesData; logs: LogsData }>();
  for (const item of delivered) {
    let s = bySink.get(item.sink.name);
    if (!s) {
      s = { traces: { resourceSpans: [] }, logs: { resourceLogs: [] } };
      bySink.set(item.sink.name, s);
    }
    if (item.signal === 'traces')
      s.traces.resourceSpans.push(...(item.data as TracesData).resourceSpans);
    else if (item.signal === 'logs')
      s.logs.resourceLogs.push(...(item.data as LogsData).resourceLogs);
  }
  return { bySink, discarded, decided };
}

beforeAll(() => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  tenants = new TenantRepository(db);
  const prisma = { client: db } as PrismaService;
  service = new PoliciesService(
    prisma,
    { encryptionKey: ENCRYPTION_KEY } as CustodianConfig,
    new AdminAudit(prisma),
  );
});
afterAll(() => db.$disconnect());

describe('policy dry-run', () => {
  it('produces exactly what the worker produces for the same input and version', async () => {
    const tenant = await tenants.create({
      slug: `dry-${randomBytes(4).toString('hex')}`,
      name: 'dry',
    });
    const sinkRepo = new SinkRepository(db);
    await sinkRepo.create(tenant.id, {
      name: 'zipkin',
      kind: 'zipkin',
      config: { endpoint: 'http://127.0.0.1:9' },
    });
    await sinkRepo.create(tenant.id, {
      name: 'vault',
      kind: 'otlphttp',
      config: { endpoint: 'http://127.0.0.1:9' },
      clearedForRestricted: true,
    });
    const submitted = await service.submit(null, tenant.id, { source: POLICY, format: 'yaml' });
    await service.activate(null, tenant.id, submitted.version.version);

    const tracesJson = sdkTraces();
    const ids = traceIdsOf(tracesJson);
    expect(ids).toHaveLength(5);
    const logsJson = sdkLogs(ids);
    const t0 = 1_800_000_000_000;

    const dry = await service.dryRun(tenant.id, { traces: tracesJson, logs: logsJson, nowMs: t0 });
    const worker = await runWorker(tenant.id, tracesJson, logsJson, t0);

    expect(dry).toMatchObject({ policySource: 'active', version: 1 });
    expect(dry.policyHash).toBe(submitted.version.checksum);
    // Which rules fired: two failed runs kept by their tail policy, three healthy ones not.
    const kept = dry.traceDecisions.filter((d) => d.sampled);
    expect(kept).toHaveLength(2);
    for (const d of kept)
      expect(d).toMatchObject({ policy: 'failed-runs', cause: 'decision_wait' });
    expect(dry.traceDecisions.map((d) => `${d.sampled}:${d.cause}`).sort()).toEqual(
      [...worker.decided].sort(),
    );
    expect(dry.redaction).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ signal: 'traces', rule: 'email', action: 'mask' }),
        expect.objectContaining({ signal: 'logs', rule: 'ticket', action: 'hash', count: 6 }),
      ]),
    );
    expect(dry.attributeChanges).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ target: 'span', key: 'run_id', change: 'changed' }),
        expect.objectContaining({ target: 'span', key: 'deployment.stage', change: 'added' }),
        expect.objectContaining({ target: 'span', key: 'prompt.version', change: 'removed' }),
      ]),
    );

    // Output per sink: byte-identical OTLP JSON.
    const dryBySink = Object.fromEntries(dry.sinks.map((s) => [s.sink, s]));
    expect(Object.keys(dryBySink).sort()).toEqual(['ghost', 'vault', 'zipkin']);
    expect(dryBySink.ghost).toMatchObject({ exists: false, delivered: false });
    expect(dry.warnings).toEqual([]); // vault is cleared for the restricted values it gets
    expect([...worker.bySink.keys()].sort()).toEqual(['vault', 'zipkin']);
    for (const name of ['zipkin', 'vault']) {
      const w = worker.bySink.get(name)!;
      expect(dryBySink[name].delivered).toBe(true);
      expect(dryBySink[name].tracesJson).toBe(encodeTracesJson(w.traces));
      expect(dryBySink[name].logsJson).toBe(
        w.logs.resourceLogs.length > 0 ? encodeLogsJson(w.logs) : null,
      );
    }
    // The hash action used the tenant's key: run_id hashes are the worker's, and not the input.
    expect(dryBySink.zipkin.tracesJson).not.toContain('"run-0"');
    expect(dryBySink.vault.spans).toBeGreaterThan(0);
    // The healthy runs' logs followed their traces out; the failed runs' and the traceless one stayed.
    expect(dryBySink.zipkin.logRecords).toBe(3);

    // Discards: same reasons and counts (no_such_sink for the route to a sink that does not exist).
    // (The worker counts per trace, the dry-run per signal and reason: compare the sums.)
    const sums = (list: { signal: string; reason: string; count: number }[]) => {
      const out: Record<string, number> = {};
      for (const d of list)
        out[`${d.signal}:${d.reason}`] = (out[`${d.signal}:${d.reason}`] ?? 0) + d.count;
      return out;
    };
    expect(sums(dry.discarded)).toEqual(sums(worker.discarded));
    expect(dry.discarded.map((d) => d.reason)).toEqual(
      expect.arrayContaining(['tail_sampled', 'no_such_sink']),
    );
  });

  it('runs a stored version, an unsaved source or the platform default, and refuses bad OTLP', async () => {
    const tenant = await tenants.create({
      slug: `dry2-${randomBytes(4).toString('hex')}`,
      name: 'dry',
    });
    const tracesJson = sdkTraces();
    const def = await service.dryRun(tenant.id, { traces: tracesJson });
    expect(def.policySource).toBe('default');
    expect(def.sinks.map((s) => [s.sink, s.spans, s.delivered])).toEqual([
      ['store', def.input.spans, false],
    ]);
    const unsaved = await service.dryRun(tenant.id, {
      traces: tracesJson,
      source: POLICY,
      format: 'yaml',
    });
    expect(unsaved.policySource).toBe('source');
    expect(unsaved.traceDecisions).toHaveLength(5);
    // A route cleared for restricted values to a sink that is not: the dry-run says so.
    await new SinkRepository(db).create(tenant.id, {
      name: 'vault',
      kind: 'otlphttp',
      config: { endpoint: 'http://127.0.0.1:9' },
    });
    const uncleared = await service.dryRun(tenant.id, {
      traces: tracesJson,
      source: POLICY,
      format: 'yaml',
    });
    expect(uncleared.warnings).toEqual([
      { path: 'routes', message: expect.stringContaining('"vault"') },
    ]);
    try {
      await service.dryRun(tenant.id, { traces: '{"resourceSpans": [{"scopeSpans": 3}]}' });
      throw new Error('expected an error');
    } catch (err) {
      const e = err as { extensions: { code: string; errors: { path: string }[] } };
      expect(e.extensions.code).toBe('BAD_USER_INPUT');
      expect(e.extensions.errors[0].path).toBe('traces');
    }
  });
});
