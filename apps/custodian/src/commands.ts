/**
 * Operator commands that run without the admin API: bootstrap a tenant and its first key from a
 * shell (the README's demo, a fresh install). Keys are printed once and never stored in clear.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CustodianConfig } from '@custodian/config';
import { mintApiKey, parseApiKey, verifyApiKeySecret } from '@custodian/auth';
import { parsePolicy, policyHash } from '@custodian/policy';
import {
  ApiKeyRepository,
  PolicyVersionRepository,
  SinkRepository,
  RepositoryError,
  TenantRepository,
  createPrismaClient,
  type PrismaClient,
  type Signal,
  type Tenant,
} from '@custodian/db';

const SIGNALS: Signal[] = ['traces', 'logs', 'metrics'];

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function parseSignals(raw: string | undefined): Signal[] {
  if (!raw) return [];
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of list) {
    if (!(SIGNALS as string[]).includes(s)) {
      throw new RepositoryError(
        'invalid',
        `unknown signal "${s}"; signals are ${SIGNALS.join(', ')}`,
      );
    }
  }
  return list as Signal[];
}

async function createKey(
  config: CustodianConfig,
  keys: ApiKeyRepository,
  tenant: Tenant,
  opts: { name: string; signals: Signal[]; expiresDays?: number },
): Promise<string> {
  const minted = mintApiKey(config.apiKeyPepper);
  const expiresAt =
    opts.expiresDays !== undefined ? new Date(Date.now() + opts.expiresDays * 86400_000) : null;
  await keys.create(tenant.id, {
    id: minted.id,
    name: opts.name,
    secretHash: minted.secretHash,
    signals: opts.signals,
    expiresAt,
    createdBy: 'cli',
  });
  return minted.key;
}

/** True when `key` is a live key of `tenant` under the current pepper. */
async function isLiveKey(
  config: CustodianConfig,
  keys: ApiKeyRepository,
  tenant: Tenant,
  key: string,
): Promise<boolean> {
  const parsed = parseApiKey(key);
  if (!parsed) return false;
  const row = await keys.findInTenant(tenant.id, parsed.id);
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= new Date())) return false;
  return verifyApiKeySecret(parsed.secret, row.secretHash, config.apiKeyPepper);
}

/** The demo policy's description; a demo policy without the trace store route is upgraded. */
const DEMO_POLICY_COMMENT = 'created by custodian demo';

/**
 * The demo tenant's sinks — the Zipkin server (restricted values withheld) and Custodian's own
 * trace store (which keeps them, encrypted, for the admin API's audited reveal) — and a policy
 * that keeps everything and routes it to both.
 */
async function ensureDemoRouting(
  db: PrismaClient,
  tenantId: string,
  zipkinUrl: string,
): Promise<void> {
  const sinks = new SinkRepository(db);
  const existing = new Set((await sinks.list(tenantId)).map((s) => s.name));
  if (!existing.has('zipkin')) {
    await sinks.create(tenantId, {
      name: 'zipkin',
      kind: 'zipkin',
      config: { endpoint: zipkinUrl },
      clearedForRestricted: false,
    });
  }
  if (!existing.has('store')) {
    await sinks.create(tenantId, {
      name: 'store',
      kind: 'store',
      config: {},
      clearedForRestricted: true,
    });
  }
  const versions = new PolicyVersionRepository(db);
  const active = (await versions.active(tenantId))?.policy;
  if (active) {
    const routes = (active.document as { routes?: { sink: string }[] }).routes ?? [];
    // A policy the operator wrote is theirs; only the demo's own older policy is upgraded.
    if (active.comment !== DEMO_POLICY_COMMENT || routes.some((r) => r.sink === 'store')) return;
  }
  const source = JSON.stringify({
    version: 1,
    description:
      'Demo: the platform defaults (every detector, GenAI content restricted), all to Zipkin and to the trace store',
    routes: [
      { sink: 'zipkin', select: 'all', restricted_fields: false },
      { sink: 'store', select: 'all', restricted_fields: true },
    ],
  });
  const { policy, problems } = parsePolicy(source, 'json');
  if (!policy) throw new RepositoryError('invalid', `demo policy: ${JSON.stringify(problems)}`);
  const v = await versions.create(tenantId, {
    document: policy as unknown as Record<string, never>,
    source,
    format: 'json',
    checksum: policyHash(policy),
    comment: DEMO_POLICY_COMMENT,
    createdBy: 'cli',
  });
  await versions.activate(tenantId, v.id);
}

export async function runAdminCommand(
  command: 'tenant' | 'apikey' | 'demo',
  args: string[],
  config: CustodianConfig,
): Promise<number> {
  const db: PrismaClient = createPrismaClient(config.databaseUrl, 2);
  const tenants = new TenantRepository(db);
  const keys = new ApiKeyRepository(db);
  try {
    if (command === 'tenant') {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { slug: { type: 'string' }, name: { type: 'string' } },
      });
      if (positionals[0] !== 'create' || !values.slug) {
        process.stderr.write('usage: custodian tenant create --slug <slug> [--name <name>]\n');
        return 2;
      }
      const tenant = await tenants.create({ slug: values.slug, name: values.name ?? values.slug });
      out(`tenant ${tenant.slug} created (id ${tenant.id})`);
      return 0;
    }

    if (command === 'apikey') {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          tenant: { type: 'string' },
          name: { type: 'string' },
          signals: { type: 'string' },
          'expires-days': { type: 'string' },
        },
      });
      if (positionals[0] !== 'create' || !values.tenant) {
        process.stderr.write(
          'usage: custodian apikey create --tenant <slug> [--name <name>] [--signals traces,logs,metrics] [--expires-days <n>]\n',
        );
        return 2;
      }
      const tenant = await tenants.findBySlug(values.tenant);
      if (!tenant) throw new RepositoryError('not_found', `no tenant with slug "${values.tenant}"`);
      let expiresDays: number | undefined;
      if (values['expires-days'] !== undefined) {
        expiresDays = Number(values['expires-days']);
        if (!Number.isInteger(expiresDays) || expiresDays < 1) {
          throw new RepositoryError(
            'invalid',
            '--expires-days must be a whole number of days >= 1',
          );
        }
      }
      const key = await createKey(config, keys, tenant, {
        name: values.name ?? 'cli',
        signals: parseSignals(values.signals),
        expiresDays,
      });
      out(key);
      process.stderr.write('This key is shown once; store it now.\n');
      return 0;
    }

    // demo: the tenant "demo" and a live key, reusing the key in --key-file when it still works;
    // with --zipkin-url, also a Zipkin sink and a policy routing everything there, so the
    // sample trace can be seen where it arrives.
    const { values } = parseArgs({
      args,
      options: { 'key-file': { type: 'string' }, 'zipkin-url': { type: 'string' } },
    });
    const keyFile = values['key-file'];
    const tenant =
      (await tenants.findBySlug('demo')) ??
      (await tenants.create({ slug: 'demo', name: 'Demo tenant' }));
    let key = keyFile && existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '';
    if (!key || !(await isLiveKey(config, keys, tenant, key))) {
      key = await createKey(config, keys, tenant, { name: 'demo', signals: [] });
      if (keyFile) writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    }
    if (values['zipkin-url']) await ensureDemoRouting(db, tenant.id, values['zipkin-url']);
    out(JSON.stringify({ tenant: tenant.slug, tenantId: tenant.id, apiKey: key }));
    return 0;
  } catch (err) {
    if (err instanceof RepositoryError) {
      process.stderr.write(`custodian ${command}: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.$disconnect();
  }
}
