/**
 * Authorization (issue #6 item 2) against the running admin API, real PostgreSQL and Redis:
 *  - every query and mutation of the BUILT schema (this app's modules and any added later)
 *    declares @Authorize or @Public;
 *  - cross-tenant: for every tenant-scoped operation of the schema, a user of tenant A in each
 *    role aims it at tenant B: all refused (FORBIDDEN), all audited in B's chain, B unchanged;
 *  - the role matrix of docs/admin-api.md for this area's operations, and field masking.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { AuthorizationCoverage } from '../../apps/admin/src/auth/authorization-coverage';
import { AdminHarness, ROLES, code, type Role } from './admin-harness';

let h: AdminHarness;
let schema: GraphQLSchema;
beforeAll(async () => {
  h = await AdminHarness.start();
  schema = h.running.app.get(GraphQLSchemaHost).schema;
});
afterAll(async () => {
  await h?.stop();
});

type RootField = { type: 'Query' | 'Mutation'; field: GraphQLField<unknown, unknown> };
function rootFields(): RootField[] {
  const out: RootField[] = [];
  for (const type of ['Query', 'Mutation'] as const) {
    const t = type === 'Query' ? schema.getQueryType() : schema.getMutationType();
    for (const field of Object.values(t?.getFields() ?? {})) out.push({ type, field });
  }
  return out;
}

const PUBLIC_FIELDS = ['Mutation.login', 'Mutation.logout', 'Mutation.refresh', 'Query.platform'];

describe('coverage', () => {
  it('every query and mutation of the built schema declares @Authorize or @Public', () => {
    const report = h.running.app.get(AuthorizationCoverage).report();
    const byField = new Map(report.map((r) => [`${r.type}.${r.field}`, r]));
    const fields = rootFields().map((f) => `${f.type}.${f.field.name}`);
    expect(fields.length).toBeGreaterThan(20);
    const uncovered = fields.filter((f) => {
      const r = byField.get(f);
      return !r || (!r.public && !r.authorize);
    });
    expect(uncovered).toEqual([]);
    const publicFields = fields.filter((f) => byField.get(f)!.public).sort();
    expect(publicFields).toEqual(PUBLIC_FIELDS);
  });
});

// ---- generic calls built from the schema ----------------------------------------------------

function sampleInput(type: GraphQLInputType, depth = 0): unknown {
  if (isNonNullType(type)) return sampleInput(type.ofType, depth);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    const obj: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) {
      if (isNonNullType(f.type) && f.defaultValue === undefined && depth < 5) {
        obj[f.name] = sampleInput(f.type, depth + 1);
      }
    }
    return obj;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return randomUUID();
      case 'Int':
        return 1;
      case 'Float':
        return 1;
      case 'Boolean':
        return false;
      case 'DateTime':
        return new Date().toISOString();
      default:
        return 'x';
    }
  }
  return null;
}

function typeString(t: GraphQLInputType): string {
  return t.toString();
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    cur[p] ??= {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

function callFor(rf: RootField, tenantArg: string, tenantId: string) {
  const args: readonly GraphQLArgument[] = rf.field.args;
  const variables: Record<string, unknown> = {};
  for (const a of args) {
    if (isNonNullType(a.type) || tenantArg.split('.')[0] === a.name) {
      variables[a.name] = sampleInput(a.type);
    }
  }
  setPath(variables, tenantArg, tenantId);
  const decl = args
    .filter((a) => a.name in variables)
    .map((a) => `$${a.name}: ${typeString(a.type)}`)
    .join(', ');
  const pass = args
    .filter((a) => a.name in variables)
    .map((a) => `${a.name}: $${a.name}`)
    .join(', ');
  const named = getNamedType(rf.field.type);
  const selection = isObjectType(named) ? ' { __typename }' : '';
  const op = rf.type === 'Query' ? 'query' : 'mutation';
  const query = `${op}${decl ? `(${decl})` : ''} { ${rf.field.name}${pass ? `(${pass})` : ''}${selection} }`;
  return { query, variables };
}

describe('cross-tenant', () => {
  it('a user of tenant A, in every role, is refused every tenant-scoped operation on tenant B, and each refusal is audited in B', async () => {
    const a = await h.createTenant('a');
    const b = await h.createTenant('b');
    const bOwner = await h.member(b.id, 'owner');
    const bKey = await h.ok<{ createApiKey: { apiKey: { id: string } } }>(
      `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }`,
      { i: { tenantId: b.id, name: 'b key' } },
      bOwner.token,
    );
    const before = {
      tenant: await h.db.tenant.findUniqueOrThrow({ where: { id: b.id } }),
      keys: await h.db.apiKey.findMany({ where: { tenantId: b.id } }),
      members: await h.db.membership.findMany({ where: { tenantId: b.id } }),
    };

    const report = h.running.app.get(AuthorizationCoverage).report();
    const scoped = rootFields()
      .map((rf) => ({
        rf,
        cov: report.find((r) => r.type === rf.type && r.field === rf.field.name),
      }))
      .filter((x) => x.cov?.authorize?.tenantArg);
    expect(scoped.length).toBeGreaterThanOrEqual(15);

    for (const role of ROLES) {
      const user = await h.member(a.id, role);
      const refused: string[] = [];
      const notRefused: string[] = [];
      for (const { rf, cov } of scoped) {
        const { query, variables } = callFor(rf, cov!.authorize!.tenantArg!, b.id);
        const r = await h.gql(query, variables, user.token);
        (code(r) === 'FORBIDDEN' ? refused : notRefused).push(
          `${rf.field.name}${code(r) === 'FORBIDDEN' ? '' : ` -> ${JSON.stringify(r.errors ?? r.data)}`}`,
        );
      }
      expect({ role, notRefused }).toEqual({ role, notRefused: [] });
      const denials = await h.auditEvents({ actorId: user.id, action: 'authz.denied' });
      expect({ role, audited: denials.length }).toEqual({ role, audited: scoped.length });
      expect(denials.every((d) => d.tenantId === b.id && d.outcome === 'denied')).toBe(true);

      // Lists are narrowed, not refused: B never appears.
      const list = await h.ok<{ tenants: { id: string }[] }>(`{ tenants { id } }`, {}, user.token);
      expect(list.tenants.map((t) => t.id)).toEqual([a.id]);
      const audit = await h.gql(`{ auditEvents { items { seq } } }`, {}, user.token);
      expect(code(audit)).toBe('FORBIDDEN');
    }

    expect(await h.db.tenant.findUniqueOrThrow({ where: { id: b.id } })).toEqual(before.tenant);
    expect(await h.db.apiKey.findMany({ where: { tenantId: b.id } })).toEqual(before.keys);
    expect(await h.db.membership.findMany({ where: { tenantId: b.id } })).toEqual(before.members);
    expect(bKey.createApiKey.apiKey.id).toBeTruthy();
  });

  it('refuses platform-only operations to every tenant role', async () => {
    const a = await h.createTenant('a');
    for (const role of ROLES) {
      const user = await h.member(a.id, role);
      const create = await h.gql(
        `mutation { createTenant(input: { slug: "x-${randomUUID().slice(0, 8)}", name: "x" }) { id } }`,
        {},
        user.token,
      );
      expect({ role, code: code(create) }).toEqual({ role, code: 'FORBIDDEN' });
      const suspend = await h.gql(
        `mutation($id: ID!) { suspendTenant(id: $id) { id } }`,
        { id: a.id },
        user.token,
      );
      expect({ role, code: code(suspend) }).toEqual({ role, code: 'FORBIDDEN' });
      const platformChain = await h.gql(`{ verifyAuditChain { ok } }`, {}, user.token);
      expect({ role, code: code(platformChain) }).toEqual({ role, code: 'FORBIDDEN' });
    }
  });
});

// ---- role matrix within one tenant --------------------------------------------------------

const OPS: Record<string, { query: string; vars: (t: string) => Record<string, unknown> }> = {
  readTenant: { query: `query($t: ID!) { tenant(id: $t) { id } }`, vars: (t) => ({ t }) },
  updateTenant: {
    query: `mutation($t: ID!) { updateTenant(id: $t, input: { name: "renamed" }) { id } }`,
    vars: (t) => ({ t }),
  },
  listMembers: {
    query: `query($t: ID!) { memberships(tenantId: $t) { id } }`,
    vars: (t) => ({ t }),
  },
  addMember: {
    query: `mutation($t: ID!, $e: String!) { addMember(input: { tenantId: $t, email: $e, role: viewer, initialPassword: "a long enough password" }) { id } }`,
    vars: (t) => ({ t, e: `m-${randomUUID().slice(0, 8)}@x.example` }),
  },
  listKeys: { query: `query($t: ID!) { apiKeys(tenantId: $t) { id } }`, vars: (t) => ({ t }) },
  createKey: {
    query: `mutation($t: ID!) { createApiKey(input: { tenantId: $t, name: "k" }) { key } }`,
    vars: (t) => ({ t }),
  },
  listServiceTokens: {
    query: `query($t: ID!) { serviceTokens(tenantId: $t) { id } }`,
    vars: (t) => ({ t }),
  },
  readAudit: {
    query: `query($t: ID!) { auditEvents(filter: { tenantId: $t }) { items { seq } } }`,
    vars: (t) => ({ t }),
  },
  verifyAudit: {
    query: `query($t: ID!) { verifyAuditChain(tenantId: $t) { ok } }`,
    vars: (t) => ({ t }),
  },
};

const ALLOWED: Record<Role, string[]> = {
  owner: Object.keys(OPS),
  admin: Object.keys(OPS),
  security: ['readTenant', 'listMembers', 'listKeys', 'readAudit', 'verifyAudit'],
  operator: ['readTenant', 'listMembers', 'listKeys', 'createKey'],
  analyst: ['readTenant', 'listMembers'],
  viewer: ['readTenant', 'listMembers', 'listKeys'],
};

describe('role matrix', () => {
  it.each(ROLES)('%s may do exactly what docs/admin-api.md says', async (role) => {
    const t = await h.createTenant('rm');
    const user = await h.member(t.id, role);
    const allowed: string[] = [];
    for (const [name, op] of Object.entries(OPS)) {
      const r = await h.gql(op.query, op.vars(t.id), user.token);
      if (!r.errors) allowed.push(name);
      else expect({ name, code: code(r) }).toEqual({ name, code: 'FORBIDDEN' });
    }
    expect(allowed).toEqual(ALLOWED[role]);
  });

  it('only owners grant the owner role, and the last owner cannot be removed', async () => {
    const t = await h.createTenant('own');
    const owner = await h.member(t.id, 'owner');
    const admin = await h.member(t.id, 'admin');
    const other = await h.createUser();
    const add = `mutation($t: ID!, $e: String!, $r: TenantRole!) { addMember(input: { tenantId: $t, email: $e, role: $r }) { role } }`;
    expect(code(await h.gql(add, { t: t.id, e: other.email, r: 'owner' }, admin.token))).toBe(
      'FORBIDDEN',
    );
    expect(
      code(
        await h.gql(
          `mutation($t: ID!, $u: ID!) { updateMemberRole(tenantId: $t, userId: $u, role: viewer) { role } }`,
          { t: t.id, u: owner.id },
          admin.token,
        ),
      ),
    ).toBe('FORBIDDEN');
    expect(
      (
        await h.ok<{ addMember: { role: string } }>(
          add,
          { t: t.id, e: other.email, r: 'operator' },
          admin.token,
        )
      ).addMember.role,
    ).toBe('operator');
    const removeOwner = await h.gql(
      `mutation($t: ID!, $u: ID!) { removeMember(tenantId: $t, userId: $u) { id } }`,
      { t: t.id, u: owner.id },
      owner.token,
    );
    expect(code(removeOwner)).toBe('CONFLICT');
    const actions = (await h.auditEvents({ tenantId: t.id })).map((e) => e.action);
    expect(actions.filter((a) => a === 'authz.denied')).toHaveLength(2);
    expect(actions).toContain('membership.add');
  });

  it('masks restricted audit fields for admins and says so; owners and security see them', async () => {
    const t = await h.createTenant('mask');
    const owner = await h.member(t.id, 'owner');
    const admin = await h.member(t.id, 'admin');
    const security = await h.member(t.id, 'security');
    await h.ok(
      `mutation($t: ID!) { createApiKey(input: { tenantId: $t, name: "k" }) { key } }`,
      { t: t.id },
      owner.token,
    );
    const q = `query($t: ID!) { auditEvents(filter: { tenantId: $t, action: "api_key.create" }) { items { action ip userAgent masked } } }`;
    type Page = { auditEvents: { items: { ip: string; userAgent: string; masked: string[] }[] } };
    const asAdmin = (await h.ok<Page>(q, { t: t.id }, admin.token)).auditEvents.items[0];
    expect(asAdmin).toMatchObject({
      ip: '[RESTRICTED]',
      userAgent: '[RESTRICTED]',
      masked: ['ip', 'userAgent'],
    });
    for (const who of [owner, security]) {
      const row = (await h.ok<Page>(q, { t: t.id }, who.token)).auditEvents.items[0];
      expect(row.masked).toEqual([]);
      expect(row.ip).toMatch(/127\.0\.0\.1/);
    }
  });
});

describe('platform admins', () => {
  it('get NOT_FOUND for a tenant that does not exist, not an internal error', async () => {
    const pa = await h.platformAdmin();
    const r = await h.gql(
      `mutation($t: ID!) { createApiKey(input: { tenantId: $t, name: "k" }) { key } }`,
      { t: randomUUID() },
      pa.token,
    );
    expect(code(r)).toBe('NOT_FOUND');
  });
});

describe('tenants', () => {
  it('platform admins create tenants; limit overrides are validated like the settings, every problem at once', async () => {
    const pa = await h.platformAdmin();
    const slug = `lim-${randomUUID().slice(0, 8)}`;
    const created = await h.ok<{
      createTenant: { id: string; effectiveLimits: { spansPerSecond: number } };
    }>(
      `mutation($s: String!) { createTenant(input: { slug: $s, name: "Limits", limits: { spansPerSecond: 500 } }) { id effectiveLimits { spansPerSecond burstSeconds } } }`,
      { s: slug },
      pa.token,
    );
    expect(created.createTenant.effectiveLimits).toEqual({ spansPerSecond: 500, burstSeconds: 5 });
    const bad = await h.gql(
      `mutation($id: ID!) { updateTenant(id: $id, input: { limits: { spansPerSecond: 0, burstSeconds: 99999 } }) { id } }`,
      { id: created.createTenant.id },
      pa.token,
    );
    expect(code(bad)).toBe('BAD_USER_INPUT');
    expect([...(bad.errors![0].extensions!.problems as string[])].sort()).toEqual([
      'limits.burstSeconds: expected 1..3600, got 99999',
      'limits.spansPerSecond: expected 1..100000000, got 0',
    ]);
    const dup = await h.gql(
      `mutation($s: String!) { createTenant(input: { slug: $s, name: "x" }) { id } }`,
      { s: slug },
      pa.token,
    );
    expect(code(dup)).toBe('CONFLICT');
    await h.ok(
      `mutation($id: ID!) { suspendTenant(id: $id, reason: "unpaid") { status } }`,
      { id: created.createTenant.id },
      pa.token,
    );
    const row = await h.db.tenant.findUniqueOrThrow({ where: { id: created.createTenant.id } });
    expect(row.status).toBe('suspended');
    const actions = (await h.auditEvents({ tenantId: row.id })).map((e) => e.action);
    expect(actions).toEqual(['tenant.create', 'tenant.suspend']);
  });
});
