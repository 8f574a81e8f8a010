/**
 * The data model against the real PostgreSQL, migrated by `prisma migrate deploy` exactly as
 * in production (test/run.sh): repositories scope by tenant, and the database itself enforces
 * the invariants the schema cannot (append-only audit log, immutable policy versions).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  ApiKeyRepository,
  RepositoryError,
  TenantRepository,
  createPrismaClient,
  type PrismaClient,
} from '@custodian/db';
import { mintApiKey, parseApiKey, verifyApiKeySecret } from '@custodian/auth';

const PEPPER = 'integration-test-pepper-0123456789abcdef';
let db: PrismaClient;
let tenants: TenantRepository;
let keys: ApiKeyRepository;

const slug = (p: string) => `${p}-${randomBytes(4).toString('hex')}`;

beforeAll(() => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  tenants = new TenantRepository(db);
  keys = new ApiKeyRepository(db);
});
afterAll(async () => {
  await db.$disconnect();
});

describe('tenants', () => {
  it('creates a tenant with defaults and refuses a duplicate slug with a clear error', async () => {
    const s = slug('acme');
    const t = await tenants.create({ slug: s, name: 'Acme' });
    expect(t).toMatchObject({ slug: s, name: 'Acme', status: 'active', limits: {} });
    await expect(tenants.create({ slug: s, name: 'Other' })).rejects.toEqual(
      new RepositoryError('conflict', `a tenant with slug "${s}" already exists`),
    );
    expect((await tenants.findBySlug(s))?.id).toBe(t.id);
  });

  it.each(['', 'UPPER', '-dash', 'dash-', 'a b', 'x'.repeat(41)])(
    'refuses slug %p',
    async (bad) => {
      await expect(tenants.create({ slug: bad, name: 'n' })).rejects.toBeInstanceOf(
        RepositoryError,
      );
    },
  );
});

describe('API keys', () => {
  it('stores only the keyed hash, and finds a key only within its own tenant', async () => {
    const a = await tenants.create({ slug: slug('a'), name: 'A' });
    const b = await tenants.create({ slug: slug('b'), name: 'B' });
    const minted = mintApiKey(PEPPER);
    await keys.create(a.id, {
      id: minted.id,
      name: 'ingest',
      secretHash: minted.secretHash,
      signals: ['traces', 'logs'],
    });

    const row = await keys.findInTenant(a.id, minted.id);
    expect(row).toMatchObject({ tenantId: a.id, name: 'ingest', signals: ['traces', 'logs'] });
    expect(Buffer.from(row!.secretHash).equals(minted.secretHash)).toBe(true);
    const secret = parseApiKey(minted.key)!.secret;
    expect(verifyApiKeySecret(secret, row!.secretHash, PEPPER)).toBe(true);
    const raw = await db.$queryRawUnsafe<{ t: string }[]>(
      `SELECT row_to_json(k)::text AS t FROM api_keys k WHERE id = $1`,
      minted.id,
    );
    expect(raw[0].t).not.toContain(secret);

    // Tenant B cannot see, list or revoke tenant A's key.
    expect(await keys.findInTenant(b.id, minted.id)).toBeNull();
    expect(await keys.listForTenant(b.id)).toEqual([]);
    expect(await keys.revoke(b.id, minted.id)).toBe(false);
    expect((await keys.findInTenant(a.id, minted.id))!.revokedAt).toBeNull();

    // Authentication starts from the key id alone and learns the tenant from it.
    const auth = await keys.findForAuthentication(minted.id);
    expect(auth?.tenant.id).toBe(a.id);

    expect(await keys.revoke(a.id, minted.id)).toBe(true);
    expect(await keys.revoke(a.id, minted.id)).toBe(false);
    expect((await keys.findInTenant(a.id, minted.id))!.revokedAt).toBeInstanceOf(Date);
  });
});

describe('database-enforced invariants', () => {
  async function auditRow(tenantId: string) {
    return db.auditEvent.create({
      data: {
        tenantId,
        actorType: 'user',
        actorId: randomUUID(),
        action: 'trace.reveal',
        fields: ['gen_ai.input.messages'],
        reason: 'incident 42',
        prevHash: Buffer.alloc(32),
        hash: randomBytes(32),
      },
    });
  }

  it('refuses UPDATE, DELETE and TRUNCATE of audit events', async () => {
    const t = await tenants.create({ slug: slug('audit'), name: 'Audit' });
    const row = await auditRow(t.id);
    await expect(
      db.auditEvent.update({ where: { seq: row.seq }, data: { reason: 'rewritten' } }),
    ).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(db.auditEvent.delete({ where: { seq: row.seq } })).rejects.toThrow(
      /append-only: DELETE refused/,
    );
    await expect(db.$executeRawUnsafe('TRUNCATE audit_events')).rejects.toThrow(
      /append-only: TRUNCATE refused/,
    );
    const again = await db.auditEvent.findUnique({ where: { seq: row.seq } });
    expect(again?.reason).toBe('incident 42');
    // A tenant with audit history cannot be deleted out from under it.
    await expect(db.tenant.delete({ where: { id: t.id } })).rejects.toThrow();
  });

  it('keeps policy versions immutable but lets a new version be added', async () => {
    const t = await tenants.create({ slug: slug('policy'), name: 'Policy' });
    const v1 = await db.policyVersion.create({
      data: {
        tenantId: t.id,
        version: 1,
        document: { redaction: { mode: 'block' } },
        source: '{}',
        format: 'json',
        checksum: 'x',
      },
    });
    await expect(
      db.policyVersion.update({ where: { id: v1.id }, data: { comment: 'edited' } }),
    ).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(
      db.policyVersion.create({
        data: {
          tenantId: t.id,
          version: 1,
          document: {},
          source: '{}',
          format: 'json',
          checksum: 'y',
        },
      }),
    ).rejects.toThrow();
    const v2 = await db.policyVersion.create({
      data: {
        tenantId: t.id,
        version: 2,
        document: {},
        source: '{}',
        format: 'json',
        checksum: 'y',
      },
    });
    await db.tenant.update({ where: { id: t.id }, data: { activePolicyId: v2.id } });
    const loaded = await db.tenant.findUnique({
      where: { id: t.id },
      include: { activePolicy: true },
    });
    expect(loaded?.activePolicy?.version).toBe(2);
  });

  it('keeps user emails lower-case', async () => {
    await expect(
      db.user.create({ data: { email: `Mixed-${randomBytes(3).toString('hex')}@Example.com` } }),
    ).rejects.toThrow(/users_email_lowercase/);
  });
});
