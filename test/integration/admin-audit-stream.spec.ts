/**
 * A tenant's audit events streamed to its own OTLP/HTTP sink as OTLP logs (issue #6 item 4),
 * against the real PostgreSQL: configured through GraphQL (owners and admins only, audited),
 * delivered in seq order with the chain hashes, held back (and reported) while the sink is
 * down, then delivered without a gap; never to another tenant's sink or a sink without logs.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { parseApiKey } from '@custodian/auth';
import { SinkRepository } from '@custodian/db';
import { decodeLogs, type LogRecord } from '@custodian/otlp';
import { AuditStreamService } from '../../apps/admin/src/audit/audit-stream.service';
import { waitFor } from '../support/ports';
import { AdminHarness, code } from './admin-harness';

/** An OTLP/HTTP logs receiver that can be told to answer 503. */
class LogSink {
  readonly records: LogRecord[] = [];
  resources: Record<string, string | undefined>[] = [];
  down = false;
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.body(req).then((body) => {
        if (this.down || req.url !== '/v1/logs') {
          res.writeHead(this.down ? 503 : 404).end();
          return;
        }
        const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
        const data = decodeLogs(raw);
        for (const rl of data.resourceLogs) {
          this.resources.push(
            Object.fromEntries(
              (rl.resource?.attributes ?? []).map((a) => [a.key, a.value.stringValue]),
            ),
          );
          for (const sl of rl.scopeLogs) this.records.push(...sl.logRecords);
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private body(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
    });
  }

  attr(rec: LogRecord, key: string): string | undefined {
    return rec.attributes.find((a) => a.key === key)?.value.stringValue;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const CONFIGURE = `mutation($t: ID!, $s: ID, $b: Boolean) {
  configureAuditStream(tenantId: $t, sinkId: $s, fromBeginning: $b) { sinkName lastSeq pending lastError }
}`;
const STATUS = `query($t: ID!) { auditStream(tenantId: $t) { sinkName lastSeq pending lastError lastDeliveredAt } }`;
const CREATE_KEY = `mutation($t: ID!) { createApiKey(input: { tenantId: $t, name: "k" }) { key } }`;

let h: AdminHarness;
let streams: AuditStreamService;
const sink = new LogSink();

beforeAll(async () => {
  h = await AdminHarness.start();
  streams = h.running.app.get(AuditStreamService);
  await sink.start();
});

afterAll(async () => {
  await h?.stop();
  await sink.stop();
});

async function drain(tenantId: string, until: () => boolean): Promise<void> {
  await waitFor(
    'audit events at the sink',
    async () => {
      await streams.streamOnce(tenantId);
      return until() || undefined;
    },
    15_000,
    100,
  );
}

it('streams a tenant’s audit events to its sink in seq order, and waits out an outage without a gap', async () => {
  const tenant = await h.createTenant('audit-stream');
  const sinks = new SinkRepository(h.db);
  const logs = await sinks.create(tenant.id, {
    name: 'siem',
    kind: 'otlphttp',
    config: { endpoint: `http://127.0.0.1:${sink.port}` },
    clearedForRestricted: false,
  });
  const owner = await h.member(tenant.id, 'owner');

  const configured = await h.ok<{ configureAuditStream: { sinkName: string } }>(
    CONFIGURE,
    { t: tenant.id, s: logs.id },
    owner.token,
  );
  expect(configured.configureAuditStream.sinkName).toBe('siem');

  const created = await h.ok<{ createApiKey: { key: string } }>(
    CREATE_KEY,
    { t: tenant.id },
    owner.token,
  );
  const expected = () => h.auditEvents({ tenantId: tenant.id });
  // the configuration event itself and the key creation (the sign-in is a platform event)
  let want = (await expected()).filter((e) => e.action !== 'auth.login');
  await drain(tenant.id, () => sink.records.length >= want.length);
  expect(sink.records.map((r) => sink.attr(r, 'custodian.audit.action'))).toEqual(
    want.map((e) => e.action),
  );
  expect(sink.records.map((r) => sink.attr(r, 'custodian.audit.seq'))).toEqual(
    want.map((e) => e.seq.toString()),
  );
  expect(sink.resources[0]).toMatchObject({
    'service.name': 'custodian-audit',
    'custodian.tenant.id': tenant.id,
    'custodian.tenant.slug': tenant.slug,
  });
  // each record carries its chain link: the next one's prev_hash is this one's hash
  for (let i = 1; i < sink.records.length; i++) {
    expect(sink.attr(sink.records[i], 'custodian.audit.prev_hash')).toBe(
      sink.attr(sink.records[i - 1], 'custodian.audit.hash'),
    );
  }
  // the key's secret never travels (parsed: a base64url secret may itself contain "_")
  const secret = parseApiKey(created.createApiKey.key)!.secret;
  expect(secret.length).toBeGreaterThan(20);
  expect(
    JSON.stringify(sink.records, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
  ).not.toContain(secret);

  // the sink goes down: nothing is skipped, the status says why
  sink.down = true;
  await h.ok(CREATE_KEY, { t: tenant.id }, owner.token);
  await h.ok(CREATE_KEY, { t: tenant.id }, owner.token);
  const before = sink.records.length;
  const failed = await streams.streamOnce(tenant.id);
  expect(failed.error).toMatch(/503/);
  const status = await h.ok<{ auditStream: { pending: number; lastError: string } }>(
    STATUS,
    { t: tenant.id },
    owner.token,
  );
  expect(status.auditStream.pending).toBeGreaterThanOrEqual(2);
  expect(status.auditStream.lastError).toMatch(/503/);
  expect(sink.records).toHaveLength(before);

  sink.down = false;
  want = (await expected()).filter((e) => e.action !== 'auth.login');
  await drain(tenant.id, () => sink.records.length >= want.length);
  expect(sink.records.map((r) => sink.attr(r, 'custodian.audit.seq'))).toEqual(
    want.slice(0, sink.records.length).map((e) => e.seq.toString()),
  );
  const after = await h.ok<{ auditStream: { lastError: string | null } }>(
    STATUS,
    { t: tenant.id },
    owner.token,
  );
  expect(after.auditStream.lastError).toBeNull();

  // stopping the stream is audited and ends delivery
  await h.ok(CONFIGURE, { t: tenant.id, s: null }, owner.token);
  const stopped = await h.ok<{ auditStream: unknown }>(STATUS, { t: tenant.id }, owner.token);
  expect(stopped.auditStream).toBeNull();
  expect((await expected()).map((e) => e.action)).toContain('audit.stream_disable');
});

it('refuses sinks that take no logs, other tenants’ sinks, and roles below admin', async () => {
  const a = await h.createTenant('audit-a');
  const b = await h.createTenant('audit-b');
  const sinks = new SinkRepository(h.db);
  const zipkin = await sinks.create(a.id, {
    name: 'zipkin',
    kind: 'zipkin',
    config: { endpoint: 'http://127.0.0.1:9/api/v2/spans' },
    clearedForRestricted: false,
  });
  const foreign = await sinks.create(b.id, {
    name: 'siem',
    kind: 'otlphttp',
    config: { endpoint: `http://127.0.0.1:${sink.port}` },
    clearedForRestricted: false,
  });
  const owner = await h.member(a.id, 'owner');

  const noLogs = await h.gql(CONFIGURE, { t: a.id, s: zipkin.id }, owner.token);
  expect(code(noLogs)).toBe('BAD_USER_INPUT');
  expect(noLogs.errors?.[0].message).toMatch(/does not accept OTLP logs/);

  const cross = await h.gql(CONFIGURE, { t: a.id, s: foreign.id }, owner.token);
  expect(code(cross)).toBe('NOT_FOUND');
  await expect(
    h.db.auditStream.create({ data: { tenantId: a.id, sinkId: foreign.id } }),
  ).rejects.toThrow(/Foreign key constraint/); // the database's trigger, not only the API
  expect(await h.db.auditStream.count({ where: { tenantId: a.id } })).toBe(0);

  for (const role of ['security', 'operator', 'analyst', 'viewer'] as const) {
    const m = await h.member(a.id, role);
    const r = await h.gql(CONFIGURE, { t: a.id, s: zipkin.id }, m.token);
    expect(code(r)).toBe('FORBIDDEN');
  }
  const denied = await h.auditEvents({ tenantId: a.id, action: 'authz.denied' });
  expect(denied.length).toBeGreaterThanOrEqual(4);
});
