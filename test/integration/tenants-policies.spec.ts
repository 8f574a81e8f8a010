/**
 * Tenant policies from the real PostgreSQL (issue #5 item 1): a change is visible within 5 s
 * without a restart, a tenant without a policy gets the safe platform default, a broken stored
 * policy keeps the last good one, tenants never see each other's policies, and deleting a
 * tenant's HMAC key erases it (a new key, different hashes).
 */
import { randomBytes } from 'node:crypto';
import { encryptSecret, tenantHmacAad } from '@custodian/auth';
import {
  PolicyVersionRepository,
  TenantKeyRepository,
  TenantRepository,
  createPrismaClient,
  type JsonObject,
  type PrismaClient,
} from '@custodian/db';
import { DEFAULT_POLICY, RESTRICTED_KEYS_ATTRIBUTE, type PolicyDocument } from '@custodian/policy';
import { TenantPolicies, UnknownTenantError } from '../../apps/worker/src/tenants/tenant-policies';
import { allSpans, attr, batch, span, traceId } from '../../libs/policy/testdata/fixtures';

const ENCRYPTION_KEY = randomBytes(32);
let db: PrismaClient;
let tenants: TenantRepository;
let policies: PolicyVersionRepository;
let keys: TenantKeyRepository;
const logged: { level: string; obj: object; msg: string }[] = [];
const logger = {
  info: (obj: object, msg: string) => logged.push({ level: 'info', obj, msg }),
  warn: (obj: object, msg: string) => logged.push({ level: 'warn', obj, msg }),
  error: (obj: object, msg: string) => logged.push({ level: 'error', obj, msg }),
};
const open: TenantPolicies[] = [];

function newPolicies(reloadIntervalMs = 200): TenantPolicies {
  const p = new TenantPolicies(db, { encryptionKey: ENCRYPTION_KEY, logger, reloadIntervalMs });
  open.push(p);
  return p;
}

const newTenant = (p: string) =>
  tenants.create({ slug: `${p}-${randomBytes(4).toString('hex')}`, name: p });

/** A policy that stamps `policy.marker` = marker on every span (attributes stage). */
function markerPolicy(marker: string): PolicyDocument {
  const doc = structuredClone(DEFAULT_POLICY) as PolicyDocument;
  doc.description = `marker ${marker}`;
  doc.attributes = [
    { actions: [{ key: 'policy.marker', value: marker, action: 'upsert' }] },
  ] as PolicyDocument['attributes'];
  return doc;
}

async function activate(tenantId: string, doc: unknown): Promise<void> {
  const v = await policies.create(tenantId, {
    document: doc as JsonObject,
    source: JSON.stringify(doc),
    format: 'json',
  });
  expect(await policies.activate(tenantId, v.id)).toBe(true);
}

function run(compiled: { prepareTraces: TenantPoliciesPrepare }, attrs = [attr('k', 'v')]) {
  const data = batch([span({ traceId: traceId(1), attributes: attrs })]);
  compiled.prepareTraces(data);
  return allSpans(data)[0].attributes;
}
type TenantPoliciesPrepare = (d: ReturnType<typeof batch>) => unknown;
const valueOf = (attrs: { key: string; value: { stringValue?: string } }[], key: string) =>
  attrs.find((a) => a.key === key)?.value.stringValue;

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(() => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  tenants = new TenantRepository(db);
  policies = new PolicyVersionRepository(db);
  keys = new TenantKeyRepository(db);
});
afterAll(async () => {
  for (const p of open) await p.stop();
  await db.$disconnect();
});
beforeEach(() => {
  logged.length = 0;
});

describe('TenantPolicies', () => {
  it('gives a tenant without a policy the platform default: masks an email, restricts GenAI input', async () => {
    const t = await newTenant('default');
    const p = newPolicies();
    const tp = await p.get(t.id);
    expect(tp).toMatchObject({ tenantId: t.id, source: 'default', policyId: null });
    expect(tp.compiled.document).toEqual(DEFAULT_POLICY);
    const out = run(tp.compiled, [
      attr('note', 'contact ada@example.com'),
      attr('gen_ai.input.messages', '[{"role":"user","content":"my secret plan"}]'),
    ]);
    expect(valueOf(out, 'note')).not.toContain('ada@example.com');
    const restricted = out.find((a) => a.key === RESTRICTED_KEYS_ATTRIBUTE);
    expect(JSON.stringify(restricted)).toContain('gen_ai.input.messages');
    // Compiled once and cached: the same object on the next call.
    expect(await p.get(t.id)).toBe(tp);
    // The HMAC key row exists and holds only ciphertext.
    const row = await keys.find(t.id);
    expect(row?.hmacKeyCiphertext.length).toBe(1 + 12 + 16 + 32);
  });

  it('applies an activated policy within 5 s without a restart', async () => {
    const t = await newTenant('reload');
    const p = newPolicies(500);
    p.start();
    expect((await p.get(t.id)).source).toBe('default');
    const started = Date.now();
    await activate(t.id, markerPolicy('v1'));
    const tp = await until(
      () => p.get(t.id),
      (x) => x.source === 'tenant',
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(tp.version).toBe(1);
    expect(valueOf(run(tp.compiled), 'policy.marker')).toBe('v1');

    await activate(t.id, markerPolicy('v2'));
    const tp2 = await until(
      () => p.get(t.id),
      (x) => x.version === 2,
    );
    expect(valueOf(run(tp2.compiled), 'policy.marker')).toBe('v2');
    expect(tp2.hash).not.toBe(tp.hash);
  });

  it('keeps the last good policy when the stored one is broken, and logs and counts it', async () => {
    const t = await newTenant('broken');
    await activate(t.id, markerPolicy('good'));
    const p = newPolicies();
    const good = await p.get(t.id);
    expect(good.source).toBe('tenant');

    await activate(t.id, { version: 1, redaction: { detectors: 'not-a-list' }, bogus: true });
    await p.reloadNow();
    const after = await p.get(t.id);
    expect(after).toBe(good);
    expect(valueOf(run(after.compiled), 'policy.marker')).toBe('good');
    expect(p.stats().compileFailures).toBe(1);
    expect(
      logged.some((l) => l.level === 'error' && /keeping the previous policy/.test(l.msg)),
    ).toBe(true);

    // A fresh worker that never saw a good version falls back to the default, not to nothing.
    const fresh = newPolicies();
    const fb = await fresh.get(t.id);
    expect(fb.source).toBe('default-fallback');
    expect(fb.compiled.document).toEqual(DEFAULT_POLICY);
    expect(valueOf(run(fb.compiled, [attr('note', 'ada@example.com')]), 'note')).not.toContain(
      'ada@example.com',
    );
  });

  it('scopes policies by tenant', async () => {
    const a = await newTenant('pa');
    const b = await newTenant('pb');
    await activate(a.id, markerPolicy('A'));
    const p = newPolicies();
    expect((await p.get(a.id)).source).toBe('tenant');
    expect((await p.get(b.id)).source).toBe('default');
    expect(valueOf(run((await p.get(b.id)).compiled), 'policy.marker')).toBeUndefined();
    // B cannot activate or read A's version.
    const [va] = await policies.list(a.id);
    expect(await policies.activate(b.id, va.id)).toBe(false);
    expect(await policies.get(b.id, va.id)).toBeNull();
    expect(await policies.list(b.id)).toEqual([]);
  });

  it('erases the HMAC key: deleting the row yields a new key and different hashes', async () => {
    const t = await newTenant('erase');
    const hashDoc = structuredClone(DEFAULT_POLICY) as PolicyDocument;
    hashDoc.attributes = [
      { actions: [{ key: 'user.id', action: 'hash' }] },
    ] as PolicyDocument['attributes'];
    await activate(t.id, hashDoc);
    const p = newPolicies(200);
    p.start();
    const h1 = valueOf(run((await p.get(t.id)).compiled, [attr('user.id', 'u-42')]), 'user.id');
    expect(h1).toMatch(/^[0-9a-f]{64}$/);
    // Stable: the same input hashes the same (joins still work), in another worker too.
    const other = newPolicies();
    expect(
      valueOf(run((await other.get(t.id)).compiled, [attr('user.id', 'u-42')]), 'user.id'),
    ).toBe(h1);

    expect(await keys.erase(t.id)).toBe(true);
    const h2 = await until(
      async () => valueOf(run((await p.get(t.id)).compiled, [attr('user.id', 'u-42')]), 'user.id'),
      (h) => h !== h1,
    );
    expect(h2).toMatch(/^[0-9a-f]{64}$/);
    expect(await keys.find(t.id)).not.toBeNull();
  });

  it('remembers a key it cannot decrypt (logged once, no query per record) until the key changes', async () => {
    const t = await newTenant('badkey');
    // The tenant's HMAC key sealed under another CUSTODIAN_ENCRYPTION_KEY.
    await keys.getOrCreate(t.id, () =>
      encryptSecret(randomBytes(32), randomBytes(32), tenantHmacAad(t.id)),
    );
    const p = newPolicies(200);
    p.start();
    for (let i = 0; i < 5; i++)
      await expect(p.get(t.id)).rejects.toMatchObject({ name: 'TenantPolicyUnavailableError' });
    expect(p.stats().keyFailures).toBe(1);
    const told = logged.filter(
      (l) => l.level === 'error' && (l.obj as { tenantId?: string }).tenantId === t.id,
    );
    expect(told).toHaveLength(1);
    expect(JSON.stringify(told)).not.toMatch(/[0-9a-f]{64}/);

    // An operator re-seals the key under the right one: the tenant recovers without a restart.
    const raw = randomBytes(32);
    expect(await keys.rotate(t.id, encryptSecret(ENCRYPTION_KEY, raw, tenantHmacAad(t.id)))).toBe(
      true,
    );
    const ok = await until(
      () =>
        p.get(t.id).then(
          (x) => x.source,
          () => 'unavailable',
        ),
      (s) => s !== 'unavailable',
    );
    expect(ok).toBe('default');
  });

  it('refuses an unknown tenant', async () => {
    const p = newPolicies();
    await expect(p.get('00000000-0000-4000-8000-000000000000')).rejects.toThrow(/unknown tenant/);
  });

  it('refuses a tenant id that is not a uuid as unknown, not as a transient failure to retry', async () => {
    // PostgreSQL's "invalid input syntax for type uuid" read as transient: the worker retried
    // such a record forever and its partition stalled.
    const p = newPolicies();
    await expect(p.get('lanes')).rejects.toBeInstanceOf(UnknownTenantError);
  });
});
