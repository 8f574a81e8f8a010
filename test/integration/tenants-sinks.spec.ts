/**
 * Tenant sinks from the real PostgreSQL (issue #5 item 4): secrets are stored as ciphertext
 * only and decrypted in memory into the exporter (an otlphttp sink's secret header reaches a
 * real HTTP server; a zipkin sink delivers to the real Zipkin server), changes apply within
 * 5 s and close the replaced exporters, and tenants never see each other's sinks.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encryptSecretJson, sinkSecretAad } from '@custodian/auth';
import {
  SinkRepository,
  TenantRepository,
  createPrismaClient,
  type PrismaClient,
} from '@custodian/db';
import { encodeTraces } from '@custodian/otlp';
import {
  defaultSinkExporterFactory,
  type SinkExporter,
  type SinkExporterFactory,
} from '@custodian/exporters';
import { TenantSinks } from '../../apps/worker/src/tenants/tenant-sinks';
import { attr, batch, span } from '../../libs/policy/testdata/fixtures';
import { waitFor } from '../support/ports';

const ENCRYPTION_KEY = randomBytes(32);
const SECRET = `sk-live-${randomBytes(12).toString('hex')}`;
let db: PrismaClient;
let tenants: TenantRepository;
let sinks: SinkRepository;
let server: Server;
let endpoint: string;
const received: IncomingHttpHeaders[] = [];
const logLines: string[] = [];
const logger = {
  info: (obj: object, msg: string) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj: object, msg: string) => logLines.push(JSON.stringify({ obj, msg })),
  error: (obj: object, msg: string) => logLines.push(JSON.stringify({ obj, msg })),
};
const open: TenantSinks[] = [];
const closedExporters: string[] = [];

/** The real exporters, with close() recorded. */
const trackingFactory: SinkExporterFactory = (kind, config) => {
  const exp = defaultSinkExporterFactory(kind, config);
  if (!exp) return undefined;
  const close = exp.close.bind(exp);
  const endpointOf = String(config.endpoint);
  return Object.assign(exp, {
    close: async () => {
      closedExporters.push(endpointOf);
      await close();
    },
  }) as SinkExporter;
};

function newSinks(reloadIntervalMs = 200): TenantSinks {
  const s = new TenantSinks(db, {
    encryptionKey: ENCRYPTION_KEY,
    logger,
    reloadIntervalMs,
    createExporter: trackingFactory,
  });
  open.push(s);
  return s;
}

const newTenant = (p: string) =>
  tenants.create({ slug: `${p}-${randomBytes(4).toString('hex')}`, name: p });

const seal = (value: unknown) => (sinkId: string) =>
  encryptSecretJson(ENCRYPTION_KEY, value, sinkSecretAad(sinkId));

function traceBatch() {
  const traceId = randomBytes(16);
  const data = batch(
    [span({ traceId, name: 'llm.call', startMs: Date.now(), attributes: [attr('run_id', 'r1')] })],
    'tenant-sinks-it',
  );
  return {
    traceHex: traceId.toString('hex'),
    batch: { signal: 'traces' as const, protobuf: encodeTraces(data), data, items: 1 },
  };
}

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  tenants = new TenantRepository(db);
  sinks = new SinkRepository(db);
  server = createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of open) await s.stop();
  await new Promise((r) => server.close(r));
  await db.$disconnect();
});
beforeEach(() => {
  received.length = 0;
  logLines.length = 0;
});

describe('TenantSinks', () => {
  it('stores the secret as ciphertext only and sends the decrypted header from memory', async () => {
    const t = await newTenant('secret');
    const row = await sinks.create(t.id, {
      name: 'vendor',
      kind: 'otlphttp',
      config: { endpoint, headers: { 'x-plain': 'visible' }, compression: 'none' },
      sealSecret: seal({ headers: { 'x-api-key': SECRET } }),
    });
    const raw = await db.$queryRawUnsafe<{ t: string; hex: string }[]>(
      `SELECT row_to_json(s)::text AS t, encode(secret_ciphertext, 'hex') AS hex FROM sinks s WHERE id = $1::uuid`,
      row.id,
    );
    expect(raw[0].t).not.toContain(SECRET);
    expect(raw[0].hex).not.toContain(Buffer.from(SECRET).toString('hex'));
    expect(raw[0].t).toContain('x-plain');

    const ts = newSinks();
    const [resolved] = await ts.forTenant(t.id);
    expect(resolved).toMatchObject({
      id: row.id,
      name: 'vendor',
      kind: 'otlphttp',
      clearedForRestricted: false,
      enabled: true,
    });
    const exporter = await ts.resolve(t.id, row.id);
    expect(exporter).toBe(resolved.exporter);
    await exporter!.export(traceBatch().batch);
    expect(received).toHaveLength(1);
    expect(received[0]['x-api-key']).toBe(SECRET);
    expect(received[0]['x-plain']).toBe('visible');
    expect(logLines.join('\n')).not.toContain(SECRET);
  });

  it('delivers through a zipkin sink to the real Zipkin server', async () => {
    const t = await newTenant('zipkin');
    const row = await sinks.create(t.id, {
      name: 'zipkin',
      kind: 'zipkin',
      config: { endpoint: process.env.ZIPKIN_URL! },
    });
    const ts = newSinks();
    const exporter = await ts.resolve(t.id, row.id);
    expect(exporter?.kind).toBe('zipkin');
    const { traceHex, batch: b } = traceBatch();
    await exporter!.export(b);
    const spans = await waitFor(
      'zipkin to store the trace',
      async () => {
        const res = await fetch(`${process.env.ZIPKIN_URL}/api/v2/trace/${traceHex}`);
        if (res.status !== 200) return undefined;
        const body = (await res.json()) as { name?: string }[];
        return body.length ? body : undefined;
      },
      10000,
    );
    expect(spans[0].name).toBe('llm.call');
  });

  it('applies a change within 5 s and closes the replaced and deleted exporters', async () => {
    const t = await newTenant('reload');
    const row = await sinks.create(t.id, {
      name: 'a',
      kind: 'otlphttp',
      config: { endpoint: `${endpoint}/one`, compression: 'none' },
    });
    const ts = newSinks(500);
    ts.start();
    const first = await ts.resolve(t.id, row.id);
    expect(first).toBeDefined();

    const started = Date.now();
    await sinks.update(t.id, row.id, {
      config: { endpoint: `${endpoint}/two`, compression: 'none' },
      sealSecret: seal({ headers: { authorization: `Bearer ${SECRET}` } }),
    });
    const second = await waitFor(
      'the new exporter',
      async () => {
        const e = await ts.resolve(t.id, row.id);
        return e !== first ? e : undefined;
      },
      5000,
      50,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(closedExporters).toContain(`${endpoint}/one`);
    await second!.export(traceBatch().batch);
    expect(received.at(-1)?.authorization).toBe(`Bearer ${SECRET}`);

    // Disabled: listed, but resolves to nothing.
    await sinks.update(t.id, row.id, { enabled: false });
    await waitFor(
      'disabled',
      async () => ((await ts.resolve(t.id, row.id)) ? undefined : true),
      5000,
      50,
    );
    expect((await ts.forTenant(t.id))[0].enabled).toBe(false);

    await sinks.delete(t.id, row.id);
    await waitFor(
      'deleted',
      async () => ((await ts.forTenant(t.id)).length ? undefined : true),
      5000,
      50,
    );
    expect(closedExporters).toContain(`${endpoint}/two`);
  });

  it('scopes sinks by tenant', async () => {
    const a = await newTenant('sa');
    const b = await newTenant('sb');
    const row = await sinks.create(a.id, {
      name: 'only-a',
      kind: 'otlphttp',
      config: { endpoint },
      sealSecret: seal({ headers: { 'x-api-key': SECRET } }),
    });
    const ts = newSinks();
    expect(await ts.forTenant(b.id)).toEqual([]);
    expect(await ts.resolve(b.id, row.id)).toBeUndefined();
    expect(await ts.resolveByName(b.id, 'only-a')).toBeUndefined();
    expect((await ts.resolveByName(a.id, 'only-a'))?.id).toBe(row.id);
    expect(await sinks.get(b.id, row.id)).toBeNull();
    expect(await sinks.list(b.id)).toEqual([]);
    expect(await sinks.update(b.id, row.id, { enabled: false })).toBeNull();
    expect(await sinks.delete(b.id, row.id)).toBe(false);
    expect((await sinks.get(a.id, row.id))?.enabled).toBe(true);
  });

  it('refuses a secret sealed for another sink, and leaves kafka/store out with a counted warning', async () => {
    const t = await newTenant('bad');
    const donor = await sinks.create(t.id, {
      name: 'donor',
      kind: 'otlphttp',
      config: { endpoint },
      sealSecret: seal({ headers: { 'x-api-key': SECRET } }),
    });
    // Copy donor's ciphertext into another row: the AAD names the row, so it must not decrypt.
    const thief = await sinks.create(t.id, {
      name: 'thief',
      kind: 'otlphttp',
      config: { endpoint },
    });
    await db.sink.update({
      where: { id: thief.id },
      data: { secretCiphertext: donor.secretCiphertext },
    });
    const kafka = await sinks.create(t.id, { name: 'k', kind: 'kafka', config: { topic: 'x' } });
    const store = await sinks.create(t.id, { name: 's', kind: 'store' });

    const ts = newSinks();
    const names = (await ts.forTenant(t.id)).map((s) => s.name);
    expect(names).toEqual(['donor']);
    expect(await ts.resolve(t.id, thief.id)).toBeUndefined();
    expect(await ts.resolve(t.id, kafka.id)).toBeUndefined();
    expect(await ts.resolve(t.id, store.id)).toBeUndefined();
    expect(ts.stats()).toMatchObject({ built: 1, invalid: 1, unsupportedKind: 2 });
    expect(logLines.some((l) => l.includes('has no exporter yet'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(SECRET);
  });
});

describe('change stamps', () => {
  it('are set by the database on sink and key writes, and a tenant with sinks can still be deleted', async () => {
    const t = await newTenant('stamps');
    const before = await sinks.changedAt(t.id);
    const row = await sinks.create(t.id, { name: 'x', kind: 'otlphttp', config: { endpoint } });
    const afterCreate = await sinks.changedAt(t.id);
    expect(afterCreate!.getTime()).toBeGreaterThan(before!.getTime());
    await sinks.delete(t.id, row.id);
    expect((await sinks.changedAt(t.id))!.getTime()).toBeGreaterThan(afterCreate!.getTime());

    await sinks.create(t.id, { name: 'y', kind: 'zipkin', config: { endpoint } });
    await db.tenant.delete({ where: { id: t.id } });
    expect(await sinks.list(t.id)).toEqual([]);
    expect(await sinks.changedAt(t.id)).toBeNull();
  });
});
