/**
 * The admin API's sinks against the real PostgreSQL and the real Zipkin server (issue #6 item
 * 3, "sinks"): settings validated per kind with every problem and its path; secrets accepted,
 * stored as AES-256-GCM ciphertext bound to `sink:<id>` (the worker's TenantSinks decrypts
 * them and sends the credential header), and never readable through the service — every field
 * of the view is checked; secret patches merge; connectivity tests succeed against Zipkin and
 * a local OTLP/HTTP server (which sees the secret header) and fail clearly, without secrets,
 * against a closed port. Every mutation is audited with field names, never values.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustodianConfig } from '@custodian/config';
import {
  TenantRepository,
  createPrismaClient,
  type PrismaClient,
  type PrismaService,
} from '@custodian/db';
import { encodeTraces } from '@custodian/otlp';
import { AdminAudit } from '../../apps/admin/src/audit/admin-audit.service';
import { SinksService, type SinkView } from '../../apps/admin/src/sinks/sinks.service';
import { TenantSinks } from '../../apps/worker/src/tenants/tenant-sinks';
import { freePort } from '../support/ports';

const ENCRYPTION_KEY = randomBytes(32);
const SECRET = `sk-live-${randomBytes(12).toString('hex')}`;
const SECRET2 = `rotated-${randomBytes(12).toString('hex')}`;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
let db: PrismaClient;
let service: SinksService;
let tenants: TenantRepository;
let server: Server;
let endpoint: string;
const received: { url: string; headers: IncomingHttpHeaders; bytes: number }[] = [];

const newTenant = async (p: string) =>
  (await tenants.create({ slug: `${p}-${randomBytes(4).toString('hex')}`, name: p })).id;

async function errorOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err as { message: string; extensions: Record<string, unknown> };
  }
  throw new Error('expected an error');
}

/** Audit rows as text (seq is a bigint). */
const auditText = (rows: object[]) =>
  JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** Every field of the view, serialized: what any API client could read. */
const everything = (v: SinkView) => JSON.stringify(v);

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  tenants = new TenantRepository(db);
  const prisma = { client: db } as PrismaService;
  service = new SinksService(
    prisma,
    { encryptionKey: ENCRYPTION_KEY } as CustodianConfig,
    new AdminAudit(prisma),
  );
  server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, bytes });
      if (req.headers['x-api-key'] !== SECRET) {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end(`bad key ${String(req.headers['x-api-key'])}`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await db.$disconnect();
});
beforeEach(() => {
  received.length = 0;
});

describe('SinksService', () => {
  it('keeps secrets write-only: ciphertext in the row, names only in the API', async () => {
    const t = await newTenant('sink-secret');
    const view = await service.create(null, t, {
      name: 'vendor',
      kind: 'otlphttp',
      config: { endpoint, headers: { 'x-team': 'agents' }, compression: 'none' },
      secret: { headers: { 'x-api-key': SECRET } },
    });
    expect(view).toMatchObject({
      name: 'vendor',
      kind: 'otlphttp',
      hasSecret: true,
      secretKeys: ['headers.x-api-key'],
      secretReadable: true,
      enabled: true,
      clearedForRestricted: false,
      config: { endpoint, headers: { 'x-team': 'agents' }, compression: 'none' },
    });
    for (const v of [view, await service.get(t, view.id), ...(await service.list(t))]) {
      expect(everything(v)).not.toContain(SECRET);
    }
    const row = await db.sink.findUniqueOrThrow({ where: { id: view.id } });
    expect(JSON.stringify(row.config)).not.toContain(SECRET);
    expect(Buffer.from(row.secretCiphertext!).includes(Buffer.from(SECRET))).toBe(false);
    expect(row.secretCiphertext![0]).toBe(1); // libs/auth blob version

    // The worker decrypts it (AAD sink:<id>) and its exporter sends the header.
    const worker = new TenantSinks(db, { encryptionKey: ENCRYPTION_KEY, logger: quiet });
    try {
      const [resolved] = await worker.forTenant(t);
      expect(resolved.name).toBe('vendor');
      await resolved.exporter.export({
        signal: 'traces',
        protobuf: encodeTraces({ resourceSpans: [] }),
        items: 0,
      });
      expect(received.map((r) => [r.headers['x-api-key'], r.headers['x-team']])).toEqual([
        [SECRET, 'agents'],
      ]);
    } finally {
      await worker.stop();
    }

    const audit = await db.auditEvent.findMany({ where: { tenantId: t } });
    expect(audit.map((e) => e.action)).toEqual(['sink.create']);
    expect(audit[0].fields).toContain('secret');
    expect(auditText(audit)).not.toContain(SECRET);
  });

  it('tests connectivity like the worker: the secret header reaches the backend, never the answer', async () => {
    const t = await newTenant('sink-conn');
    const ok = await service.create(null, t, {
      name: 'ok',
      kind: 'otlphttp',
      config: { endpoint, compression: 'none' },
      secret: { headers: { 'x-api-key': SECRET } },
    });
    const r = await service.testConnectivity(null, t, ok.id);
    expect(r).toMatchObject({ ok: true, status: 'ok', signal: 'traces' });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(received).toHaveLength(1);
    expect(received[0].url).toBe('/v1/traces');
    expect(received[0].headers['x-api-key']).toBe(SECRET);
    expect(received[0].bytes).toBeGreaterThan(0);

    // A backend that echoes the credential: the message has it scrubbed.
    const wrong = await service.create(null, t, {
      name: 'wrong',
      kind: 'otlphttp',
      config: { endpoint, compression: 'none' },
      secret: { headers: { 'x-api-key': SECRET2 } },
    });
    const bad = await service.testConnectivity(null, t, wrong.id);
    expect(bad).toMatchObject({ ok: false, status: 'rejected', retryable: false });
    expect(bad.message).toContain('HTTP 401');
    expect(bad.message).toContain('[REDACTED]');
    expect(bad.message).not.toContain(SECRET2);

    const audit = await db.auditEvent.findMany({ where: { tenantId: t, action: 'sink.test' } });
    expect(audit.map((e) => e.outcome).sort()).toEqual(['failure', 'success']);
  });

  it('reaches the real Zipkin server, and fails clearly against a closed port', async () => {
    const t = await newTenant('sink-zipkin');
    const zipkin = await service.create(null, t, {
      name: 'zipkin',
      kind: 'zipkin',
      config: { endpoint: process.env.ZIPKIN_URL! },
    });
    const r = await service.testConnectivity(null, t, zipkin.id);
    expect(r).toMatchObject({ ok: true, status: 'ok', signal: 'traces' });

    const port = await freePort();
    const closed = await service.create(null, t, {
      name: 'closed',
      kind: 'otlphttp',
      config: { endpoint: `http://127.0.0.1:${port}` },
      secret: { headers: { authorization: `Bearer ${SECRET}` } },
    });
    const c = await service.testConnectivity(null, t, closed.id);
    expect(c).toMatchObject({ ok: false, status: 'unreachable', retryable: true });
    expect(c.message).toMatch(/ECONNREFUSED/);
    expect(c.message).not.toContain(SECRET);

    const store = await service.create(null, t, { name: 'store', kind: 'store' });
    expect(await service.testConnectivity(null, t, store.id)).toMatchObject({
      ok: false,
      status: 'unsupported',
    });
  });

  it('reports every settings problem with its path, and refuses credentials in plain settings', async () => {
    const t = await newTenant('sink-bad');
    const err = await errorOf(
      service.create(null, t, {
        name: ' ',
        kind: 'otlphttp',
        config: {
          endpoint: 'ftp://x',
          encoding: 'xml',
          headers: { Authorization: 'Bearer abc' },
          timeoutMs: 5,
          colour: 'blue',
        },
        secret: { password: 'x' },
      }),
    );
    expect(err.extensions.code).toBe('BAD_USER_INPUT');
    const paths = (err.extensions.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'name',
        'config.endpoint',
        'config.encoding',
        'config.headers.Authorization',
        'config.timeoutMs',
        'config.colour',
        'secret.password',
      ]),
    );
    expect(JSON.stringify(err)).not.toContain('Bearer abc');
    const kafka = await errorOf(
      service.create(null, t, { name: 'k', kind: 'kafka', config: { topic: 'someone-else' } }),
    );
    expect((kafka.extensions.errors as { path: string; message: string }[])[0]).toMatchObject({
      path: 'config.topic',
      message: expect.stringContaining(`tenant.${t}.`),
    });
    const ok = await service.create(null, t, {
      name: 'k',
      kind: 'kafka',
      config: { topic: `tenant.${t}.agent-runs` },
    });
    expect(ok.kind).toBe('kafka');
    const dup = await errorOf(service.create(null, t, { name: 'k', kind: 'store' }));
    expect(dup.extensions.code).toBe('CONFLICT');
    expect(await db.sink.count({ where: { tenantId: t } })).toBe(1);
  });

  it('updates: secret patches merge, enable/disable, clear the secret, delete; other tenants see nothing', async () => {
    const t = await newTenant('sink-upd');
    const other = await newTenant('sink-other');
    const s = await service.create(null, t, {
      name: 'vendor',
      kind: 'otlphttp',
      config: { endpoint },
      secret: { headers: { 'x-api-key': SECRET, 'x-extra': 'one' } },
    });
    const patched = await service.update(null, t, s.id, {
      secret: { headers: { 'x-extra': null, 'x-new': SECRET2 } },
      enabled: false,
    });
    expect(patched).toMatchObject({
      enabled: false,
      secretKeys: ['headers.x-api-key', 'headers.x-new'],
    });
    expect(everything(patched)).not.toContain(SECRET2);
    const renamed = await service.update(null, t, s.id, {
      name: 'vendor-2',
      config: { endpoint, compression: 'none' },
      enabled: true,
    });
    expect(renamed).toMatchObject({ name: 'vendor-2', enabled: true, hasSecret: true });
    // The merged secret still works end to end (x-api-key kept through both updates).
    expect((await service.testConnectivity(null, t, s.id)).ok).toBe(true);
    const cleared = await service.update(null, t, s.id, { clearSecret: true });
    expect(cleared).toMatchObject({ hasSecret: false, secretKeys: [] });
    const row = await db.sink.findUniqueOrThrow({ where: { id: s.id } });
    expect(row.secretCiphertext).toBeNull();

    expect((await errorOf(service.get(other, s.id))).extensions.code).toBe('NOT_FOUND');
    expect(
      (await errorOf(service.update(null, other, s.id, { enabled: false }))).extensions.code,
    ).toBe('NOT_FOUND');
    expect((await errorOf(service.delete(null, other, s.id))).extensions.code).toBe('NOT_FOUND');
    expect(await service.delete(null, t, s.id)).toBe(true);
    expect(await service.list(t)).toEqual([]);

    const audit = await db.auditEvent.findMany({ where: { tenantId: t }, orderBy: { seq: 'asc' } });
    expect(audit.map((e) => [e.action, e.fields])).toEqual([
      ['sink.create', ['name', 'kind', 'config', 'secret', 'enabled', 'clearedForRestricted']],
      ['sink.update', ['secret', 'enabled']],
      ['sink.update', ['name', 'config', 'enabled']],
      ['sink.test', []],
      ['sink.update', ['secret']],
      ['sink.delete', []],
    ]);
    expect(auditText(audit)).not.toContain(SECRET);
    expect(auditText(audit)).not.toContain(SECRET2);
    expect(await db.auditEvent.count({ where: { tenantId: other } })).toBe(0);
  });
});
