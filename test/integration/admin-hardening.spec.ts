/**
 * GraphQL hardening (issue #6 item 5) on the running admin API: depth and cost limits with
 * clear errors; in production no introspection and no internals in errors; CORS only for the
 * configured origins.
 */
import { AdminHarness, code } from './admin-harness';

describe('development process', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await AdminHarness.start({ CUSTODIAN_ADMIN_CORS_ORIGINS: 'https://console.example.com' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses a query deeper than 10 levels, saying so', async () => {
    let q = 'id';
    for (let i = 0; i < 11; i++) q = `memberships { ${q} }`;
    const r = await h.gql(`{ me { ${q} } }`);
    // Apollo reports validation-rule errors with code GRAPHQL_VALIDATION_FAILED.
    const deep = r.errors?.find((e) => e.extensions?.limit === 10);
    expect(deep?.message).toBe(
      'query depth 13 exceeds the limit of 10; split it into several queries',
    );
    expect(deep?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses a query whose estimated cost is over the limit, before running it', async () => {
    const pa = await h.platformAdmin();
    const r = await h.gql(
      `{ auditEvents(first: 500) { items { seq action actorId tenantId occurredAt } } }`,
      {},
      pa.token,
    );
    expect(code(r)).toBe('QUERY_TOO_COMPLEX');
    expect(r.errors![0].message).toMatch(/^query cost \d+ exceeds the limit of 1000/);
    const small = await h.gql(`{ auditEvents(first: 20) { items { seq action } } }`, {}, pa.token);
    expect(small.errors).toBeUndefined();
  });

  it('answers CORS preflights for configured origins only', async () => {
    const preflight = (origin: string) =>
      fetch(h.url, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const ok = await preflight('https://console.example.com');
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await preflight('https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('production process', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await AdminHarness.start({
      CUSTODIAN_ENV: 'production',
      CUSTODIAN_API_KEY_PEPPER: 'hardening-test-pepper-0123456789abcdefghij',
      CUSTODIAN_ENCRYPTION_KEY: '42'.repeat(32),
      CUSTODIAN_ADMIN_JWT_SECRET: 'hardening-test-jwt-secret-0123456789abcdef',
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('disables introspection and sends no stack traces', async () => {
    const r = await h.gql(`{ __schema { queryType { name } } }`);
    expect(r.errors?.[0].message).toMatch(/introspection/i);
    const bad = await h.gql(`{ nope }`);
    expect(bad.errors?.[0].extensions?.stacktrace).toBeUndefined();
    const unauth = await h.gql(`{ me { id } }`);
    expect(code(unauth)).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(unauth.errors)).not.toMatch(/stacktrace|node_modules/);
  });

  it('hides internal error messages', async () => {
    const pa = await h.platformAdmin();
    // A malformed cursor is a client error; a well-formed but huge one reaches PostgreSQL.
    const r = await h.gql(
      `{ auditEvents(after: "99999999999999999999") { nextCursor } }`,
      {},
      pa.token,
    );
    expect(code(r)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(r.errors)).not.toMatch(/stacktrace|prisma|node_modules/i);
  });
});
