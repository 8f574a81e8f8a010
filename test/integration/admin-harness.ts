/**
 * The admin API in this process, exactly as `custodian start --target=admin` composes it
 * (apps/custodian/src/start.ts), on a free port, against the real PostgreSQL and Redis; and the
 * fixtures the admin suites share: users with passwords, tenants, memberships, GraphQL calls.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword } from '@custodian/auth';
import { loadConfig } from '@custodian/config';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { startProcess, type RunningProcess } from '../../apps/custodian/src/start';

export const PASSWORD = 'correct horse battery staple';
export const ROLES = ['owner', 'admin', 'security', 'operator', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data: T | null;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
}

export class AdminHarness {
  readonly db: PrismaClient;
  private constructor(
    readonly running: RunningProcess,
    readonly url: string,
  ) {
    this.db = createPrismaClient(process.env.DATABASE_URL!, 4);
  }

  static async start(env: Record<string, string> = {}): Promise<AdminHarness> {
    const config = loadConfig({
      ...process.env,
      CUSTODIAN_TARGET: 'admin',
      CUSTODIAN_ADMIN_PORT: '0',
      CUSTODIAN_OPS_PORT: '0',
      CUSTODIAN_BIND_HOST: '127.0.0.1',
      CUSTODIAN_LOG_LEVEL: 'silent',
      ...env,
    });
    const running = await startProcess(config, { handleSignals: false });
    return new AdminHarness(running, `http://127.0.0.1:${running.adminPort}/graphql`);
  }

  async stop(): Promise<void> {
    await this.db.$disconnect();
    await this.running.stop('test done');
  }

  async gql<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    token?: string,
    headers: Record<string, string> = {},
  ): Promise<GqlResult<T>> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as Omit<GqlResult<T>, 'status'>;
    return { status: res.status, data: body.data ?? null, errors: body.errors };
  }

  /** data of a call that must succeed. */
  async ok<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    token?: string,
  ): Promise<T> {
    const r = await this.gql<T>(query, variables, token);
    if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data!;
  }

  async createUser(opts: { platformAdmin?: boolean; password?: string } = {}) {
    const email = `u-${randomBytes(5).toString('hex')}@admin-test.example`;
    const user = await this.db.user.create({
      data: {
        email,
        passwordHash: await hashPassword(opts.password ?? PASSWORD),
        isPlatformAdmin: opts.platformAdmin ?? false,
      },
    });
    return { id: user.id, email };
  }

  async createTenant(prefix = 't') {
    return this.db.tenant.create({
      data: { slug: `${prefix}-${randomBytes(5).toString('hex')}`, name: `${prefix} tenant` },
    });
  }

  async grant(userId: string, tenantId: string, role: Role) {
    await this.db.membership.create({ data: { userId, tenantId, role } });
  }

  async login(email: string, password = PASSWORD) {
    const data = await this.ok<{
      login: { accessToken: string; refreshToken: string };
    }>(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }`,
      { e: email, p: password },
    );
    return data.login;
  }

  /** A signed-in user holding `role` in `tenantId`. */
  async member(tenantId: string, role: Role) {
    const u = await this.createUser();
    await this.grant(u.id, tenantId, role);
    const { accessToken } = await this.login(u.email);
    return { ...u, token: accessToken };
  }

  async platformAdmin() {
    const u = await this.createUser({ platformAdmin: true });
    const { accessToken } = await this.login(u.email);
    return { ...u, token: accessToken };
  }

  auditEvents(where: { actorId?: string; action?: string; tenantId?: string | null }) {
    return this.db.auditEvent.findMany({ where, orderBy: { seq: 'asc' } });
  }
}

export const code = (r: GqlResult) => r.errors?.[0]?.extensions?.code;
