/**
 * The reveal's ordering guarantees, with the store, Redis and the audit writer replaced by
 * recorders (the same paths against the real services: test/integration/admin-traces.spec.ts).
 */
import type { RedisConnection } from '@custodian/redis';
import type { StoredSpan } from '@custodian/store';
import type { AdminAudit } from '../audit/admin-audit.service';
import type { AuditEventInput } from '../audit/audit-actions';
import type { Actor } from '../auth/actor';
import { defineAbilityFor } from '../auth/abilities';
import type { AdminStore } from './admin-store';
import { REVEAL_RATE_LIMIT, TracesService } from './traces.service';

const TENANT = '11111111-2222-4333-8444-555555555555';
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const REASON = 'incident INC-1: customer asked';

function setup(opts: { auditFails?: boolean; count?: number; redisDown?: boolean } = {}) {
  const calls: string[] = [];
  const events: AuditEventInput[] = [];
  const span = { spanId: SPAN, restrictedKeys: ['gen_ai.prompt'] } as StoredSpan;
  const store = {
    traces: {
      getTrace: async () => {
        calls.push('getTrace');
        return [span];
      },
      revealValue: async () => {
        calls.push('revealValue');
        return { found: true as const, value: 'the secret prompt' };
      },
      search: async () => ({ traces: [] }),
    },
  } as unknown as AdminStore;
  const redis = {
    client: {
      multi: () => ({
        incr: () => ({
          expire: () => ({
            exec: async () => {
              if (opts.redisDown) throw new Error('connection refused');
              return [
                [null, opts.count ?? 1],
                [null, 1],
              ];
            },
          }),
        }),
      }),
    },
  } as unknown as RedisConnection;
  const audit = {
    record: async (_actor: Actor | null, e: AuditEventInput) => {
      calls.push(`audit:${e.outcome ?? 'success'}`);
      if (opts.auditFails) throw new Error('audit write failed');
      events.push(e);
    },
  } as unknown as AdminAudit;
  const actor: Actor = {
    kind: 'user',
    id: 'u1',
    email: 'sec@example.com',
    isPlatformAdmin: false,
    memberships: [{ tenantId: TENANT, role: 'security' }],
    ability: defineAbilityFor({
      id: 'u1',
      isPlatformAdmin: false,
      memberships: [{ tenantId: TENANT, role: 'security' }],
    }),
    meta: { ip: '127.0.0.1', userAgent: 'jest', requestId: 'req-1' },
  };
  return { service: new TracesService(store, redis, audit), calls, events, actor };
}

const input = (key = 'gen_ai.prompt') => ({ traceId: TRACE, spanId: SPAN, key, reason: REASON });

it('writes the audit event before the value is fetched, and exactly one', async () => {
  const { service, calls, events, actor } = setup();
  const r = await service.reveal(actor, TENANT, input());
  expect(r).toMatchObject({
    value: 'the secret prompt',
    valueJson: '"the secret prompt"',
    requestId: 'req-1',
  });
  expect(calls).toEqual(['getTrace', 'audit:success', 'revealValue']);
  expect(events).toEqual([
    expect.objectContaining({
      action: 'trace.reveal',
      tenantId: TENANT,
      targetType: 'Span',
      targetId: `${TRACE}/${SPAN}`,
      fields: ['gen_ai.prompt'],
      reason: REASON,
    }),
  ]);
});

it('returns no value when the audit write fails', async () => {
  const { service, calls, actor } = setup({ auditFails: true });
  await expect(service.reveal(actor, TENANT, input())).rejects.toThrow('audit write failed');
  expect(calls).not.toContain('revealValue');
});

it('audits a missing key as a failure and never decrypts', async () => {
  const { service, calls, events, actor } = setup();
  await expect(service.reveal(actor, TENANT, input('other'))).rejects.toMatchObject({
    extensions: { code: 'NOT_FOUND' },
  });
  expect(calls).toEqual(['getTrace', 'audit:failure']);
  expect(events).toHaveLength(1);
});

it('over the limit: refused, audited as denied, nothing looked up; fails closed without Redis', async () => {
  const over = setup({ count: REVEAL_RATE_LIMIT.reveals + 1 });
  await expect(over.service.reveal(over.actor, TENANT, input())).rejects.toMatchObject({
    extensions: { code: 'TOO_MANY_REQUESTS' },
  });
  expect(over.calls).toEqual(['audit:denied']);
  const down = setup({ redisDown: true });
  await expect(down.service.reveal(down.actor, TENANT, input())).rejects.toMatchObject({
    extensions: { code: 'TOO_MANY_REQUESTS' },
  });
  expect(down.calls).toEqual([]);
});

it('checks every input before anything else, reporting all problems', async () => {
  const { service, calls, actor } = setup();
  const err = await service
    .reveal(actor, TENANT, { traceId: 'x', spanId: 'y', key: '', reason: 'short' })
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  expect(
    (err as { extensions: { problems: string[] } }).extensions.problems.map((p) => p.split(':')[0]),
  ).toEqual(['traceId', 'spanId', 'key', 'reason']);
  expect(calls).toEqual([]);
});
