/**
 * The admin API's policy versions against the real PostgreSQL (issue #6 item 3, "policies"):
 * submit JSON, YAML and Collector configs (every problem reported with its path), identical
 * documents not stored twice, paginated listing, diff, activation that the worker's
 * TenantPolicies picks up, and rollback that walks the activation history back step by step.
 * Every mutation leaves an audit event.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CustodianConfig } from '@custodian/config';
import {
  PolicyVersionRepository,
  TenantRepository,
  createPrismaClient,
  type PrismaClient,
  type PrismaService,
} from '@custodian/db';
import { DEFAULT_POLICY, parsePolicy, policyHash } from '@custodian/policy';
import { AdminAudit } from '../../apps/admin/src/audit/admin-audit.service';
import { PoliciesService } from '../../apps/admin/src/policies/policies.service';
import { TenantPolicies } from '../../apps/worker/src/tenants/tenant-policies';

const ENCRYPTION_KEY = randomBytes(32);
const TESTDATA = join(__dirname, '../../libs/policy/testdata');
let db: PrismaClient;
let service: PoliciesService;
let tenants: TenantRepository;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const newTenant = async (p: string) =>
  (await tenants.create({ slug: `${p}-${randomBytes(4).toString('hex')}`, name: p })).id;

const json = (doc: object) => JSON.stringify({ version: 1, ...doc });
const waitFor = (seconds: string) =>
  json({
    sampling: {
      tail: {
        decision_wait: seconds,
        policies: [
          { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
        ],
      },
    },
  });

async function gqlErrorOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err as { message: string; extensions: Record<string, unknown> };
  }
  throw new Error('expected an error');
}

const auditOf = (tenantId: string) =>
  db.auditEvent.findMany({ where: { tenantId }, orderBy: { seq: 'asc' } });

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

describe('PoliciesService: submit', () => {
  it('stores a JSON document normalized, with the policy hash as checksum', async () => {
    const t = await newTenant('pol-json');
    const source = waitFor('5s');
    const out = await service.submit(null, t, { source, format: 'json', comment: ' first ' });
    expect(out.created).toBe(true);
    expect(out.version.version).toBe(1);
    expect(out.version.source).toBe(source);
    expect(out.version.comment).toBe('first');
    const expected = parsePolicy(source, 'json').policy!;
    expect(out.version.checksum).toBe(policyHash(expected));
    // Normalized: the defaults left out of the source are spelled out in the stored document.
    expect(out.version.document).toMatchObject({
      redaction: expect.any(Object),
      routes: expect.any(Array),
    });
    const [ev] = await auditOf(t);
    expect(ev).toMatchObject({
      action: 'policy.submit',
      outcome: 'success',
      targetId: out.version.id,
    });
  });

  it('does not store the same document twice, whatever its format', async () => {
    const t = await newTenant('pol-dup');
    const first = await service.submit(null, t, { source: waitFor('5s'), format: 'json' });
    const yaml = [
      'sampling:',
      '  tail:',
      '    policies:',
      '      - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }',
      '    decision_wait: 5s',
      'version: 1',
    ].join('\n');
    const again = await service.submit(null, t, { source: yaml, format: 'yaml' });
    expect(again.created).toBe(false);
    expect(again.version.id).toBe(first.version.id);
    expect(again.message).toContain('identical to version 1');
    expect(await new PolicyVersionRepository(db).count(t)).toBe(1);
  });

  it('reports every problem of an invalid YAML document with its path and line', async () => {
    const t = await newTenant('pol-bad');
    const source = readFileSync(join(TESTDATA, 'policies/invalid-many.yaml'), 'utf8');
    const expected = JSON.parse(
      readFileSync(join(TESTDATA, 'policies/invalid-many.problems.json'), 'utf8'),
    ) as { path: string; line: number }[];
    const err = await gqlErrorOf(service.submit(null, t, { source, format: 'yaml' }));
    expect(err.extensions.code).toBe('BAD_USER_INPUT');
    const errors = err.extensions.errors as { path: string; message: string; line: number }[];
    expect(errors.map((e) => ({ path: e.path, line: e.line }))).toEqual(expected);
    for (const e of errors) expect(e.message.length).toBeGreaterThan(0);
    expect(err.message).toContain('15 problems');
    expect(await new PolicyVersionRepository(db).count(t)).toBe(0);
    const [ev] = await auditOf(t);
    expect(ev).toMatchObject({ action: 'policy.submit', outcome: 'failure' });
  });

  it('reports a JSON syntax error with its line', async () => {
    const t = await newTenant('pol-syntax');
    const err = await gqlErrorOf(
      service.submit(null, t, { source: '{\n  "version": 1,\n  oops\n}', format: 'json' }),
    );
    const errors = err.extensions.errors as { path: string; message: string; line?: number }[];
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/^invalid JSON/);
    expect(errors[0].line).toBe(3);
  });

  it('imports a Collector config, with its warnings', async () => {
    const t = await newTenant('pol-otelcol');
    const source = readFileSync(join(TESTDATA, 'collector/otelcol-agents.yaml'), 'utf8');
    const out = await service.submit(null, t, { source, format: 'collector' });
    expect(out.created).toBe(true);
    expect(out.version.format).toBe('yaml');
    expect(out.warnings.map((w) => w.path)).toContain('processors.batch');
    expect((out.version.document as { description: string }).description).toContain('Collector');
    // Stored as the worker will load it: validating the stored document gives the same hash.
    const reloaded = parsePolicy(JSON.stringify(out.version.document), 'json').policy!;
    expect(policyHash(reloaded)).toBe(out.version.checksum);
  });

  it('refuses an unknown tenant', async () => {
    const err = await gqlErrorOf(
      service.submit(null, '00000000-0000-4000-8000-000000000000', {
        source: waitFor('5s'),
        format: 'json',
      }),
    );
    expect(err.extensions.code).toBe('NOT_FOUND');
  });
});

describe('PoliciesService: list, get, diff', () => {
  it('lists newest first, page by page, and marks the active version', async () => {
    const t = await newTenant('pol-list');
    for (const s of ['1s', '2s', '3s'])
      await service.submit(null, t, { source: waitFor(s), format: 'json' });
    await service.activate(null, t, 2);
    const p1 = await service.list(t, { limit: 2 });
    expect(p1.items.map((v) => v.version)).toEqual([3, 2]);
    expect(p1).toMatchObject({ total: 3, activeVersion: 2, nextBeforeVersion: 2 });
    const p2 = await service.list(t, { limit: 2, beforeVersion: p1.nextBeforeVersion });
    expect(p2.items.map((v) => v.version)).toEqual([1]);
    expect(p2.nextBeforeVersion).toBeNull();
    expect(await service.activeId(t)).toBe(p1.items[1].id);
    const v1 = await service.get(t, { version: 1 });
    expect(v1.source).toBe(waitFor('1s'));
    expect((await service.get(t, {})).version).toBe(2);
    const missing = await gqlErrorOf(service.get(t, { version: 9 }));
    expect(missing.extensions.code).toBe('NOT_FOUND');
  });

  it('diffs two versions structurally and as unified text', async () => {
    const t = await newTenant('pol-diff');
    await service.submit(null, t, { source: waitFor('5s'), format: 'json' });
    await service.submit(null, t, {
      source: json({
        sampling: {
          tail: {
            decision_wait: '30s',
            policies: [
              { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
            ],
          },
        },
        routes: [{ sink: 'zipkin', select: 'errors' }],
      }),
      format: 'json',
    });
    const d = await service.diff(t, 1, 2);
    expect(d.identical).toBe(false);
    const paths = Object.fromEntries(d.changes.map((c) => [c.path, c]));
    expect(paths['sampling.tail.decision_wait']).toEqual({
      path: 'sampling.tail.decision_wait',
      change: 'changed',
      before: '"5s"',
      after: '"30s"',
    });
    expect(Object.keys(paths).some((p) => p.startsWith('routes[0]'))).toBe(true);
    expect(d.unified).toMatch(/^--- version 1\n\+\+\+ version 2\n@@ /);
    expect(d.unified).toContain(
      '\n-      "decision_wait": "5s",\n+      "decision_wait": "30s",\n',
    );
    const same = await service.diff(t, 2, 2);
    expect(same).toMatchObject({ identical: true, changes: [], unified: '' });
  });
});

describe('PoliciesService: activate and roll back', () => {
  it('activates a version the worker picks up, and rolls back step by step', async () => {
    const t = await newTenant('pol-act');
    for (const s of ['1s', '2s', '3s'])
      await service.submit(null, t, { source: waitFor(s), format: 'json' });
    const worker = new TenantPolicies(db, { encryptionKey: ENCRYPTION_KEY, logger: quiet });
    try {
      expect((await worker.get(t)).source).toBe('default');
      const a1 = await service.activate(null, t, 1);
      expect(a1).toMatchObject({ changed: true, previousVersion: null });
      await service.activate(null, t, 2);
      const a3 = await service.activate(null, t, 3);
      expect(a3.previousVersion).toBe(2);
      const again = await service.activate(null, t, 3);
      expect(again).toMatchObject({ changed: false, message: 'version 3 is already active' });

      await worker.reloadNow();
      const seen = await worker.get(t);
      expect(seen).toMatchObject({ source: 'tenant', version: 3 });
      expect(seen.hash).toBe((await service.get(t, { version: 3 })).checksum);

      expect((await service.rollback(null, t)).version?.version).toBe(2);
      expect((await service.rollback(null, t)).version?.version).toBe(1);
      const toDefault = await service.rollback(null, t);
      expect(toDefault).toMatchObject({ version: null, previousVersion: 1, changed: true });
      const nothing = await gqlErrorOf(service.rollback(null, t));
      expect(nothing.extensions.code).toBe('CONFLICT');

      await service.rollback(null, t, 2);
      await worker.reloadNow();
      expect(await worker.get(t)).toMatchObject({ source: 'tenant', version: 2 });
    } finally {
      await worker.stop();
    }
    const rollbacks = (await auditOf(t))
      .filter((e) => e.action === 'policy.rollback')
      .map((e) => e.details as { version: number | null; previousVersion: number | null });
    expect(rollbacks.map((d) => [d.version, d.previousVersion])).toEqual([
      [2, 3],
      [1, 2],
      [null, 1],
      [2, null],
    ]);
  });

  it('falls back to the version below the active one without history', async () => {
    const t = await newTenant('pol-nohist');
    for (const s of ['1s', '2s'])
      await service.submit(null, t, { source: waitFor(s), format: 'json' });
    const repo = new PolicyVersionRepository(db);
    const v2 = (await repo.findByVersion(t, 2))!;
    await repo.activate(t, v2.id); // outside the API: no audit history
    expect((await service.rollback(null, t)).version?.version).toBe(1);
  });

  it('says whether a document changes the redaction section', async () => {
    const t = await newTenant('pol-redaction');
    const sampling = parsePolicy(waitFor('5s'), 'json').policy!;
    expect(await service.changesRedaction(t, sampling)).toBe(false);
    const redaction = structuredClone(DEFAULT_POLICY) as typeof sampling;
    redaction.redaction = {
      ...redaction.redaction,
      summary: 'silent',
    } as typeof redaction.redaction;
    expect(await service.changesRedaction(t, redaction)).toBe(true);
  });
});
