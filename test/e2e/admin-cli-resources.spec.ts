/**
 * The CLI's policies, sinks and dead-letters commands (issue #6 item 6) with the built binary
 * against a running admin process: apply a policy file, dry-run it on an OTLP JSON payload,
 * activate, apply another with --activate, diff, roll back; create a sink, test it; list,
 * redrive and purge its dead letters — which a worker-side SinkDelivery in this test process
 * created (a sink answering 400) and delivers again once redriven (the admin only queues).
 * Tenants by slug, sinks by name, human output by default, `--json` for scripts, non-zero
 * exits with the API's message; RBAC applies (a viewer is refused).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { hashPassword } from '@custodian/auth';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { SinkDelivery } from '@custodian/delivery';
import { OtlpHttpExporter } from '@custodian/exporters';
import { decodeTraces, encodeTraces, type TracesData } from '@custodian/otlp';
import { CLI, CustodianProcess, REPO_ROOT } from '../support/custodian-process';
import { freePort, waitFor } from '../support/ports';

jest.setTimeout(180_000);

const dir = mkdtempSync(join(tmpdir(), 'custodian-cli-res-'));
const suffix = randomBytes(4).toString('hex');
const slug = `cli-res-${suffix}`;
const prefix = `cdcli-${suffix}`;
const PASSWORD = 'cli resources password 0123';

function cli(session: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CUSTODIAN_SESSION_FILE: join(dir, session),
      CUSTODIAN_LOG_LEVEL: 'warn',
    },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}
/** For commands that reach the backend in this process: spawnSync would block it. */
function cliAsync(session: string, ...args: string[]) {
  const p = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CUSTODIAN_SESSION_FILE: join(dir, session),
      CUSTODIAN_LOG_LEVEL: 'warn',
    },
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    p.once('close', (code) => resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() })),
  );
}
const json = <T>(r: { code: number | null; stdout: string; stderr: string }): T => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

/** An OTLP/HTTP backend answering `status`; records the span names it accepted. */
class Backend {
  status = 200;
  readonly accepted: string[] = [];
  private server!: Server;
  url = '';
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.status !== 200) {
          res.writeHead(this.status);
          res.end('refused by the test');
          return;
        }
        const data = decodeTraces(Buffer.concat(chunks));
        for (const rs of data.resourceSpans)
          for (const ss of rs.scopeSpans) for (const s of ss.spans) this.accepted.push(s.name);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

function traces(names: string[]): TracesData {
  const traceId = randomBytes(16);
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'cli-e2e' } }],
          droppedAttributesCount: 0,
        },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: { name: 'cli', version: '1', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            spans: names.map((name) => ({
              traceId,
              spanId: randomBytes(8),
              traceState: '',
              parentSpanId: new Uint8Array(0),
              flags: 1,
              name,
              kind: 2,
              startTimeUnixNano: now,
              endTimeUnixNano: now + 1_000_000n,
              attributes: [],
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

const POLICY_V1 = `version: 1
routes:
  - { sink: out, select: all }
`;
const POLICY_V2 = `version: 1
sampling:
  tail:
    decision_wait: 1s
    policies:
      - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
routes:
  - { sink: out, select: all }
`;
const PAYLOAD = JSON.stringify({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'agent' } }] },
      scopeSpans: [
        {
          spans: ['a', 'b'].map((name, i) => ({
            traceId: '5b8efff798038103d269b633813fc60c',
            spanId: `eee19b7ec3c1b17${i}`,
            name,
            startTimeUnixNano: '1700000000000000000',
            endTimeUnixNano: '1700000001000000000',
          })),
        },
      ],
    },
  ],
});

let db: PrismaClient;
let proc: CustodianProcess | undefined;
let backend: Backend;
let worker: SinkDelivery | undefined;
let exporter: OtlpHttpExporter | undefined;
let tenantId: string;
let adminUser: { id: string; email: string };
let viewerEmail: string;

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!, 2);
  backend = await new Backend().start();
  const passwordHash = await hashPassword(PASSWORD);
  adminUser = await db.user.create({
    data: { email: `root-${suffix}@cli-res.example`, passwordHash, isPlatformAdmin: true },
    select: { id: true, email: true },
  });
  tenantId = (await db.tenant.create({ data: { slug, name: 'CLI resources' } })).id;
  viewerEmail = `viewer-${suffix}@cli-res.example`;
  const viewer = await db.user.create({ data: { email: viewerEmail, passwordHash } });
  await db.membership.create({ data: { userId: viewer.id, tenantId, role: 'viewer' } });

  const port = await freePort();
  proc = new CustodianProcess(['start', '--target=admin'], {
    CUSTODIAN_ADMIN_PORT: String(port),
    CUSTODIAN_OPS_PORT: String(await freePort()),
    CUSTODIAN_BIND_HOST: '127.0.0.1',
    CUSTODIAN_DELIVERY_KEY_PREFIX: prefix,
  });
  await proc.waitForLog('custodian started');
  const url = `http://127.0.0.1:${port}/graphql`;
  writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`, { mode: 0o600 });
  for (const [session, email] of [
    ['admin.json', adminUser.email],
    ['viewer.json', viewerEmail],
  ]) {
    const r = cli(
      session,
      'login',
      '--url',
      url,
      '--email',
      email,
      '--password-file',
      join(dir, 'pw'),
    );
    expect(r.code).toBe(0);
  }
});

afterAll(async () => {
  await worker?.close();
  await exporter?.close();
  await proc?.stop('SIGTERM');
  await backend?.close();
  await db?.$disconnect();
  const redis = new Redis(process.env.REDIS_URL!);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

it('applies, dry-runs, activates, diffs and rolls back policies by tenant slug', () => {
  const v1File = join(dir, 'policy-v1.yaml');
  const v2File = join(dir, 'policy-v2.yaml');
  const payloadFile = join(dir, 'payload.json');
  writeFileSync(v1File, POLICY_V1);
  writeFileSync(v2File, POLICY_V2);
  writeFileSync(payloadFile, PAYLOAD);

  const applied = cli('admin.json', 'policies', 'apply', v1File, '--tenant', slug);
  expect(applied).toMatchObject({ code: 0 });
  expect(applied.stdout).toBe('stored as version 1 (not active until activated)');
  const again = json<{ created: boolean; version: { version: number } }>(
    cli('admin.json', 'policies', 'apply', v1File, '--tenant', slug, '--json'),
  );
  expect(again).toMatchObject({ created: false, version: { version: 1 } });

  const invalid = join(dir, 'bad.yaml');
  writeFileSync(invalid, 'version: 2\ncolour: blue\n');
  const refused = cli('admin.json', 'policies', 'apply', invalid, '--tenant', slug);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(
    /^custodian policies: .*\n {2}- colour: .*\n[\s\S]*\(BAD_USER_INPUT\)$/,
  );

  const dry = json<{
    policySource: string;
    input: { spans: number };
    sinks: { sink: string; delivered: boolean; spans: number }[];
  }>(
    cli(
      'admin.json',
      'policies',
      'dry-run',
      v1File,
      '--tenant',
      slug,
      '--payload',
      payloadFile,
      '--json',
    ),
  );
  expect(dry.policySource).toBe('source');
  expect(dry.input.spans).toBe(2);
  // No sink "out" exists yet: the route is counted, not delivered.
  expect(dry.sinks).toEqual([expect.objectContaining({ sink: 'out', delivered: false })]);
  const human = cli(
    'admin.json',
    'policies',
    'dry-run',
    v1File,
    '--tenant',
    slug,
    '--payload',
    payloadFile,
  );
  expect(human.stdout).toMatch(
    /^policy: source; input: 2 spans, 0 log records, 0 data points\nsinks:\nsink\s+delivered/,
  );

  const activated = cli('admin.json', 'policies', 'activate', '1', '--tenant', slug);
  expect(activated).toMatchObject({ code: 0 });
  expect(activated.stdout).toMatch(/^version 1 is active \(was the platform default\)/);

  const v2 = json<{ version: { version: number }; activation: { changed: boolean } }>(
    cli('admin.json', 'policies', 'apply', v2File, '--tenant', slug, '--activate', '--json'),
  );
  expect(v2).toMatchObject({ version: { version: 2 }, activation: { changed: true } });
  const list = json<{ activeVersion: number; items: { version: number; active: boolean }[] }>(
    cli('admin.json', 'policies', 'list', '--tenant', slug, '--json'),
  );
  expect(list.activeVersion).toBe(2);
  expect(list.items.map((v) => [v.version, v.active])).toEqual([
    [2, true],
    [1, false],
  ]);

  const diff = cli('admin.json', 'policies', 'diff', '--tenant', slug, '--from', '1', '--to', '2');
  expect(diff.code).toBe(0);
  expect(diff.stdout).toContain('+');
  expect(diff.stdout).toContain('status_code');

  const shown = cli('admin.json', 'policies', 'show', '--tenant', slug, '--version', '2');
  expect(shown.code).toBe(0);
  const [header, blank, ...source] = shown.stdout.split('\n');
  expect(header).toMatch(/^version 2 \(active\)\s+yaml\s+[0-9a-f]{12}\s+\S+$/);
  expect(blank).toBe('');
  expect(source.join('\n')).toBe(POLICY_V2.trimEnd());

  const rolled = cli('admin.json', 'policies', 'rollback', '--tenant', slug);
  expect(rolled).toMatchObject({ code: 0 });
  expect(rolled.stdout).toMatch(/^version 1 is active \(was version 2\)/);
  expect(
    json<{ activeVersion: number }>(
      cli('admin.json', 'policies', 'list', '--tenant', slug, '--json'),
    ).activeVersion,
  ).toBe(1);

  // RBAC: a viewer may read policies but not activate one.
  expect(cli('viewer.json', 'policies', 'list', '--tenant', slug).code).toBe(0);
  const denied = cli('viewer.json', 'policies', 'activate', '2', '--tenant', slug);
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/^custodian policies: .*\(FORBIDDEN\)$/);
});

it('creates and tests a sink, then lists, redrives and purges its dead letters by name', async () => {
  const config = JSON.stringify({ endpoint: backend.url, compression: 'none' });
  const created = cli(
    'admin.json',
    'sinks',
    'create',
    '--tenant',
    slug,
    '--name',
    'out',
    '--kind',
    'otlphttp',
    '--config',
    config,
  );
  expect(created.code).toBe(0);
  const sinkId = /id ([0-9a-f-]{36})/.exec(created.stdout)![1];
  expect(cli('admin.json', 'sinks', 'list', '--tenant', slug).stdout).toMatch(
    /^name\s+kind\s+enabled\s+hasSecret\s+configJson\s+id\nout\s+otlphttp\s+true\s+false\s+.*127\.0\.0\.1.*$/,
  );

  const ok = await cliAsync('admin.json', 'sinks', 'test', 'out', '--tenant', slug);
  expect(ok).toMatchObject({ code: 0, stderr: '' });
  expect(ok.stdout).toMatch(/^ok: /);
  expect(backend.accepted).toHaveLength(1);
  backend.status = 400;
  const failed = await cliAsync('admin.json', 'sinks', 'test', 'out', '--tenant', slug, '--json');
  expect(failed.code).toBe(3);
  expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, status: 'rejected' });
  const missing = cli('admin.json', 'sinks', 'test', 'nope', '--tenant', slug);
  expect(missing).toMatchObject({ code: 1 });
  expect(missing.stderr).toBe(
    'custodian sinks: the tenant has no sink "nope" that you may see (NOT_FOUND)',
  );

  // The worker's data plane, in this process: the backend refuses, so both batches are dead.
  exporter = new OtlpHttpExporter({ endpoint: backend.url, compression: 'none', timeoutMs: 2000 });
  const exp = exporter;
  worker = new SinkDelivery({
    redisUrl: process.env.REDIS_URL!,
    registry: new Registry(),
    resolveSink: async (t, s) => (t === tenantId && s === sinkId ? exp : undefined),
    config: { keyPrefix: prefix, laneScanMs: 100 },
  });
  await worker.start();
  for (const names of [['first-1', 'first-2'], ['second']]) {
    const data = traces(names);
    const r = await worker.deliver(
      { tenantId, sinkId, exporter: exp },
      { signal: 'traces', protobuf: encodeTraces(data), items: names.length },
    );
    expect(r.outcome).toBe('dead_lettered');
  }

  const listed = cli('admin.json', 'dead-letters', 'list', '--tenant', slug, '--sink', 'out');
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(
    /^id\s+signal\s+items\s+reason\s+attempts\s+deadLetteredAt\s+error\n/,
  );
  expect(listed.stdout).toContain('permanent_error');
  expect(listed.stdout.split('\n').pop()).toBe(
    '2 dead letter(s), 0 batch(es) in the retry queue, 0 dropped',
  );
  const page = json<{ entries: { id: string; items: number }[]; total: number }>(
    cli('admin.json', 'dead-letters', 'list', '--tenant', slug, '--sink', 'out', '--json'),
  );
  expect(page.entries.map((e) => e.items)).toEqual([2, 1]);
  expect(JSON.stringify(page)).not.toContain('first-1');

  const viewer = cli('viewer.json', 'dead-letters', 'list', '--tenant', slug, '--sink', 'out');
  expect(viewer.code).toBe(1);
  expect(viewer.stderr).toMatch(/\(FORBIDDEN\)$/);

  backend.status = 200;
  const redriven = cli(
    'admin.json',
    'dead-letters',
    'redrive',
    '--tenant',
    slug,
    '--sink',
    'out',
    '--ids',
    page.entries[0].id,
  );
  expect(redriven).toMatchObject({
    code: 0,
    stdout: '1 dead letter(s) of out queued for redelivery',
  });
  await waitFor(
    'the worker to deliver the redriven batch',
    () => (backend.accepted.includes('first-1') ? true : undefined),
    15_000,
    50,
  );
  expect(backend.accepted.filter((n) => n.startsWith('first-')).sort()).toEqual([
    'first-1',
    'first-2',
  ]);

  const purged = json<{ purged: number }>(
    cli('admin.json', 'dead-letters', 'purge', '--tenant', slug, '--sink', 'out', '--json'),
  );
  expect(purged).toEqual({ purged: 1 });
  expect(
    json<{ total: number }>(
      cli('admin.json', 'dead-letters', 'list', '--tenant', slug, '--sink', 'out', '--json'),
    ).total,
  ).toBe(0);
  expect(backend.accepted).not.toContain('second');

  const actions = (
    await db.auditEvent.findMany({
      where: { tenantId, actorId: adminUser.id },
      orderBy: { seq: 'asc' },
    })
  ).map((e) => e.action);
  expect(actions).toEqual(
    expect.arrayContaining(['sink.create', 'dead_letter.redrive', 'dead_letter.purge']),
  );

  const deleted = cli('admin.json', 'sinks', 'delete', 'out', '--tenant', slug);
  expect(deleted).toMatchObject({ code: 0, stdout: 'sink out deleted' });
  const gone = cli('admin.json', 'dead-letters', 'list', '--tenant', slug, '--sink', 'out');
  expect(gone.code).toBe(1);
  expect(gone.stderr).toMatch(/NOT_FOUND/);
});

it('explains usage mistakes with exit code 2', () => {
  const r = cli('admin.json', 'dead-letters', 'list', '--tenant', slug);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^custodian dead-letters: --sink is required\nusage:/);
  const unknown = cli('admin.json', 'sinks', 'list', '--tenant', slug, '--colour', 'blue');
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/--colour/);
});
