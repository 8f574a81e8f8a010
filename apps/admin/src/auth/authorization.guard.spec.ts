import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { GraphQLError } from 'graphql';
import type { PrismaService } from '@custodian/db';
import type { AdminAudit } from '../audit/admin-audit.service';
import { defineAbilityFor } from './abilities';
import type { Actor } from './actor';
import type { AuthService } from './auth.service';
import { AdminAuthGuard, argAtPath } from './authorization.guard';
import { Authorize, Public } from './authorize.decorator';

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

class Resolvers {
  undecorated(): void {}
  @Public()
  open(): void {}
  @Authorize('read', 'ApiKey', { tenantArg: 'input.tenantId' })
  keys(): void {}
}

const actor: Actor = {
  kind: 'user',
  id: 'u',
  email: 'u@x',
  isPlatformAdmin: false,
  memberships: [{ tenantId: A, role: 'viewer' }],
  ability: defineAbilityFor({
    id: 'u',
    isPlatformAdmin: false,
    memberships: [{ tenantId: A, role: 'viewer' }],
  }),
  meta: { ip: null, userAgent: null, requestId: 'r' },
};

function setup() {
  const denied: { message: string; tenantId: string | null }[] = [];
  const auth = { authenticate: jest.fn(async () => actor) } as unknown as AuthService;
  const audit = {
    denied: jest.fn(async (_a: Actor | null, d: { message: string; tenantId: string | null }) => {
      denied.push(d);
      return new GraphQLError(d.message, { extensions: { code: 'FORBIDDEN' } });
    }),
  } as unknown as AdminAudit;
  const prisma = {
    client: { tenant: { count: jest.fn(async () => 1) } },
  } as unknown as PrismaService;
  const guard = new AdminAuthGuard(new Reflector(), auth, audit, prisma);
  const run = (method: keyof Resolvers, args: Record<string, unknown>, token?: string) => {
    const req = { headers: token ? { authorization: `Bearer ${token}` } : {} };
    const info = { parentType: { name: 'Query' }, fieldName: method };
    const ctx = new ExecutionContextHost(
      [{}, args, { req }, info],
      Resolvers,
      Resolvers.prototype[method],
    );
    ctx.setType('graphql');
    return guard.canActivate(ctx);
  };
  return { run, denied };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as GraphQLError).extensions?.code as string;
  }
}

describe('AdminAuthGuard', () => {
  it('refuses a resolver with neither @Authorize nor @Public, even for a signed-in caller, and audits it', async () => {
    const { run, denied } = setup();
    expect(await codeOf(run('undecorated', {}, 'tok'))).toBe('FORBIDDEN');
    expect(denied[0].message).toMatch(/declares neither @Authorize nor @Public/);
  });

  it('lets @Public through without a token', async () => {
    expect(await setup().run('open', {})).toBe(true);
  });

  it('needs a token for @Authorize, then checks the tenant named by the argument path', async () => {
    const { run, denied } = setup();
    expect(await codeOf(run('keys', { input: { tenantId: A } }))).toBe('UNAUTHENTICATED');
    expect(await run('keys', { input: { tenantId: A } }, 'tok')).toBe(true);
    expect(await codeOf(run('keys', { input: { tenantId: B } }, 'tok'))).toBe('FORBIDDEN');
    expect(denied).toEqual([expect.objectContaining({ tenantId: B })]);
    expect(await codeOf(run('keys', { input: { tenantId: 'nope' } }, 'tok'))).toBe(
      'BAD_USER_INPUT',
    );
    // Absent tenant = platform scope: not for tenant roles.
    expect(await codeOf(run('keys', {}, 'tok'))).toBe('FORBIDDEN');
  });

  it('reads dotted argument paths', () => {
    expect(argAtPath({ input: { tenantId: 'x' } }, 'input.tenantId')).toBe('x');
    expect(argAtPath({ input: null }, 'input.tenantId')).toBeUndefined();
  });
});
