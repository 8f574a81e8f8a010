/**
 * The worker asks for a tenant's compiled policy once per batch: TenantPolicies.get on a loaded
 * tenant must cost next to nothing. Measured against the real PostgreSQL (DATABASE_URL or the
 * local custodian_test database), with two baselines in the same run: compiling the policy per
 * batch (what caching avoids) and reading the active policy from PostgreSQL per batch (what
 * the poller avoids).
 *
 *   node --require ./bench/register.js bench/tenants/policy-lookup.bench.ts
 */
import { randomBytes } from 'node:crypto';
import { PolicyVersionRepository, TenantRepository, createPrismaClient } from '@custodian/db';
import { DEFAULT_POLICY, compilePolicy } from '@custodian/policy';
import { TenantPolicies } from '../../apps/worker/src/tenants/tenant-policies';

const TENANTS = 50;
const url =
  process.env.DATABASE_URL ?? 'postgresql://custodian:custodian@127.0.0.1:5432/custodian_test';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function report(name: string, items: number, ms: number, baseline: boolean): void {
  console.log(
    JSON.stringify({
      bench: 'tenant-policy-lookup',
      name,
      baseline,
      items,
      items_per_sec: Math.round(items / (ms / 1000)),
      ns_per_item: Math.round((ms * 1e6) / items),
    }),
  );
}

async function time(n: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const db = createPrismaClient(url);
  const tenants = new TenantRepository(db);
  const ids: string[] = [];
  for (let i = 0; i < TENANTS; i++) {
    const t = await tenants.create({ slug: `bench-${randomBytes(5).toString('hex')}`, name: 'b' });
    ids.push(t.id);
  }
  const policies = new TenantPolicies(db, { encryptionKey: randomBytes(32), logger: quiet });
  for (const id of ids) await policies.get(id);

  const n = 1_000_000;
  await time(10_000, (i) => policies.get(ids[i % TENANTS]));
  report('cached get', n, await time(n, (i) => policies.get(ids[i % TENANTS])), false);

  const key = randomBytes(32);
  const m = 200;
  report(
    'compile per batch',
    m,
    await time(m, () => compilePolicy(DEFAULT_POLICY, { hmacKey: key })),
    true,
  );

  const repo = new PolicyVersionRepository(db);
  const q = 2_000;
  report('query per batch', q, await time(q, (i) => repo.active(ids[i % TENANTS])), true);

  await db.tenant.deleteMany({ where: { id: { in: ids } } });
  await db.$disconnect();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
