/**
 * The audit log (issue #6 item 4) against the real PostgreSQL: concurrent appends never fork a
 * tenant's chain, verification recomputes it, and tampering — a row inserted with a forged
 * hash, or a row rewritten below the application (trigger disabled by the table owner) — is
 * detected and named by its seq. Reading, exporting and paging are permissioned and audited.
 */
import { randomBytes } from 'node:crypto';
import { AdminAudit } from '../../apps/admin/src/audit/admin-audit.service';
import { AdminHarness, code } from './admin-harness';

let h: AdminHarness;
beforeAll(async () => {
  h = await AdminHarness.start();
});
afterAll(async () => {
  await h?.stop();
});

const VERIFY = `query($t: ID) { verifyAuditChain(tenantId: $t) { ok checked firstBrokenSeq reason } }`;
type Verify = {
  verifyAuditChain: {
    ok: boolean;
    checked: number;
    firstBrokenSeq: string | null;
    reason: string | null;
  };
};

describe('audit chain', () => {
  it('stays one unbroken chain under 40 concurrent appends', async () => {
    const t = await h.createTenant('chain');
    const owner = await h.member(t.id, 'owner');
    const audit = h.running.app.get(AdminAudit);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        audit.record(
          null,
          { action: 'tenant.update', tenantId: t.id, details: { i } },
          { actorType: 'system' },
        ),
      ),
    );
    const rows = await h.auditEvents({ tenantId: t.id });
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => Buffer.from(r.prevHash).toString('hex'))).size).toBe(40);
    const v = await h.ok<Verify>(VERIFY, { t: t.id }, owner.token);
    expect(v.verifyAuditChain).toEqual({
      ok: true,
      checked: 40,
      firstBrokenSeq: null,
      reason: null,
    });
  });

  it('the database refuses a fork: two rows of one chain with the same predecessor', async () => {
    const t = await h.createTenant('fork');
    const audit = h.running.app.get(AdminAudit);
    await audit.record(null, { action: 'tenant.update', tenantId: t.id }, { actorType: 'system' });
    const [first] = await h.auditEvents({ tenantId: t.id });
    await expect(
      h.db.auditEvent.create({
        data: {
          tenantId: t.id,
          actorType: 'system',
          action: 'tenant.update',
          prevHash: first.prevHash,
          hash: randomBytes(32),
        },
      }),
    ).rejects.toThrow(/Unique constraint/i);
  });

  it('names the seq of a row inserted with a forged hash', async () => {
    const t = await h.createTenant('forge');
    const owner = await h.member(t.id, 'owner');
    await h.ok(
      `mutation($t: ID!) { createApiKey(input: { tenantId: $t, name: "k" }) { key } }`,
      { t: t.id },
      owner.token,
    );
    const [last] = (await h.auditEvents({ tenantId: t.id })).slice(-1);
    const forged = await h.db.auditEvent.create({
      data: {
        tenantId: t.id,
        actorType: 'user',
        actorId: owner.id,
        action: 'api_key.revoke',
        prevHash: last.hash,
        hash: randomBytes(32),
      },
    });
    const v = await h.ok<Verify>(VERIFY, { t: t.id }, owner.token);
    expect(v.verifyAuditChain).toMatchObject({
      ok: false,
      firstBrokenSeq: forged.seq.toString(),
      reason: 'hash does not match the row content (the row was modified)',
    });
  });

  it('names the seq of a row rewritten below the application', async () => {
    const t = await h.createTenant('rewrite');
    const owner = await h.member(t.id, 'owner');
    for (const name of ['one', 'two', 'three']) {
      await h.ok(
        `mutation($t: ID!, $n: String!) { createApiKey(input: { tenantId: $t, name: $n }) { key } }`,
        { t: t.id, n: name },
        owner.token,
      );
    }
    const rows = await h.auditEvents({ tenantId: t.id });
    const victim = rows[1];
    // What an attacker with the table owner's rights could do: switch the append-only trigger
    // off for one statement. The chain still shows it.
    await h.db.$transaction([
      h.db.$executeRawUnsafe('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only'),
      h.db
        .$executeRaw`UPDATE audit_events SET details = '{"name":"innocent"}' WHERE seq = ${victim.seq}`,
      h.db.$executeRawUnsafe('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only'),
    ]);
    const v = await h.ok<Verify>(VERIFY, { t: t.id }, owner.token);
    expect(v.verifyAuditChain).toEqual({
      ok: false,
      checked: 2,
      firstBrokenSeq: victim.seq.toString(),
      reason: 'hash does not match the row content (the row was modified)',
    });
  });
});

describe('reading the audit log', () => {
  it('pages newest first with a cursor, filters, and exports JSON lines (audited)', async () => {
    const t = await h.createTenant('page');
    const owner = await h.member(t.id, 'owner');
    for (let i = 0; i < 5; i++) {
      await h.ok(
        `mutation($t: ID!) { createApiKey(input: { tenantId: $t, name: "k" }) { key } }`,
        { t: t.id },
        owner.token,
      );
    }
    const q = `query($t: ID!, $after: String) { auditEvents(filter: { tenantId: $t, action: "api_key." }, first: 2, after: $after) { items { seq action } nextCursor } }`;
    type Page = { auditEvents: { items: { seq: string }[]; nextCursor: string | null } };
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: Page = await h.ok<Page>(q, { t: t.id, after }, owner.token);
      seen.push(...page.auditEvents.items.map((i) => i.seq));
      after = page.auditEvents.nextCursor;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    expect([...seen].sort((a, b) => Number(b) - Number(a))).toEqual(seen);

    const exported = await h.ok<{ exportAuditEvents: string }>(
      `query($t: ID!) { exportAuditEvents(filter: { tenantId: $t }, limit: 100) }`,
      { t: t.id },
      owner.token,
    );
    const lines = exported.exportAuditEvents
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; details: object });
    expect(lines.filter((l) => l.action === 'api_key.create')).toHaveLength(5);
    expect(typeof lines[0].details).toBe('object');
    expect(await h.auditEvents({ tenantId: t.id, action: 'audit.export' })).toHaveLength(1);
  });

  it('platform admins read every tenant and the platform chain; it verifies', async () => {
    const pa = await h.platformAdmin();
    const r = await h.ok<{ auditEvents: { items: { tenantId: string | null; action: string }[] } }>(
      `{ auditEvents(filter: { action: "auth.login" }, first: 5) { items { tenantId action } } }`,
      {},
      pa.token,
    );
    expect(r.auditEvents.items.length).toBeGreaterThan(0);
    expect(r.auditEvents.items.every((i) => i.tenantId === null)).toBe(true);
    const v = await h.ok<Verify>(VERIFY, {}, pa.token);
    expect(v.verifyAuditChain.ok).toBe(true);
  });

  it('validates paging input', async () => {
    const t = await h.createTenant('bad');
    const owner = await h.member(t.id, 'owner');
    const r = await h.gql(
      `query($t: ID!) { auditEvents(filter: { tenantId: $t }, first: 100000) { nextCursor } }`,
      { t: t.id },
      owner.token,
    );
    expect(code(r)).toBe('BAD_USER_INPUT');
  });
});
