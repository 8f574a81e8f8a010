/**
 * API key lifecycle end to end (issue #6): a key created through the admin GraphQL API is
 * accepted by a gateway (a separate process, the built CLI) and, once revoked through the API,
 * refused by that gateway within 5 seconds. The secret appears only in the create response.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword } from '@custodian/auth';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway } from '../support/gateway-process';
import { freePort, waitFor } from '../support/ports';

const PASSWORD = 'e2e admin password 0123';
let db: PrismaClient;
let proc: CustodianProcess;
let gatewayHttp: number;
let adminUrl: string;

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!, 2);
  const adminPort = await freePort();
  const started = await startGateway(
    { CUSTODIAN_ADMIN_PORT: String(adminPort) },
    true,
    'gateway,admin',
  );
  proc = started.proc;
  gatewayHttp = started.ports.http;
  adminUrl = `http://127.0.0.1:${adminPort}/graphql`;
});
afterAll(async () => {
  await proc?.stop('SIGTERM');
  await db?.$disconnect();
});

async function gql<T>(
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<T> {
  const res = await fetch(adminUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const ingest = (key: string) =>
  fetch(`http://127.0.0.1:${gatewayHttp}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: '{}',
  });

it('create via GraphQL → the gateway accepts it → revoke via GraphQL → refused within 5 s', async () => {
  const email = `keys-${randomBytes(4).toString('hex')}@e2e.example`;
  await db.user.create({
    data: { email, passwordHash: await hashPassword(PASSWORD), isPlatformAdmin: true },
  });
  const { login } = await gql<{ login: { accessToken: string } }>(
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
    { e: email, p: PASSWORD },
  );
  const token = login.accessToken;
  const { createTenant } = await gql<{ createTenant: { id: string } }>(
    `mutation($s: String!) { createTenant(input: { slug: $s, name: "keys e2e" }) { id } }`,
    { s: `keys-${randomBytes(4).toString('hex')}` },
    token,
  );
  const { createApiKey } = await gql<{ createApiKey: { key: string; apiKey: { id: string } } }>(
    `mutation($t: ID!) { createApiKey(input: { tenantId: $t, name: "lifecycle", signals: [traces] }) { key apiKey { id } } }`,
    { t: createTenant.id },
    token,
  );
  expect(createApiKey.key).toMatch(/^cus_[a-z2-9]{12}_/);
  expect((await ingest(createApiKey.key)).status).toBe(200);

  const listed = await gql<{ apiKeys: unknown[] }>(
    `query($t: ID!) { apiKeys(tenantId: $t) { id name preview signals } }`,
    { t: createTenant.id },
    token,
  );
  expect(JSON.stringify(listed)).not.toContain(createApiKey.key.split('_')[2]);

  await gql(
    `mutation($t: ID!, $id: ID!) { revokeApiKey(tenantId: $t, id: $id) { revokedAt } }`,
    { t: createTenant.id, id: createApiKey.apiKey.id },
    token,
  );
  const status = await waitFor(
    'gateway refuses the revoked key',
    async () => {
      const r = await ingest(createApiKey.key);
      return r.status === 401 ? { status: r.status, body: await r.text() } : undefined;
    },
    5000, // the deadline of the issue: waitFor fails the test past it
  );
  expect(status.body).toMatch(/revoked/);

  const audit = await db.auditEvent.findMany({
    where: { tenantId: createTenant.id },
    orderBy: { seq: 'asc' },
  });
  expect(audit.map((e) => e.action)).toEqual(['tenant.create', 'api_key.create', 'api_key.revoke']);
});
