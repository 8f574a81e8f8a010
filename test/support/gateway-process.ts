import { randomBytes } from 'node:crypto';
import { mintApiKey } from '@custodian/auth';
import { ApiKeyRepository, TenantRepository, type PrismaClient } from '@custodian/db';
import { CustodianProcess } from './custodian-process';
import { freePort, waitFor } from './ports';

export const E2E_PEPPER = 'e2e-gateway-pepper-0123456789abcdef0123456789';

export interface GatewayPorts {
  http: number;
  grpc: number;
  zipkin: number;
  ops: number;
}

/** A custodian process (gateway-only unless `target` says more) on free ports, started and ready. */
export async function startGateway(
  env: Record<string, string> = {},
  waitReady = true,
  target = 'gateway',
) {
  const ports: GatewayPorts = {
    http: await freePort(),
    grpc: await freePort(),
    zipkin: await freePort(),
    ops: await freePort(),
  };
  const proc = new CustodianProcess(['start', `--target=${target}`], {
    CUSTODIAN_API_KEY_PEPPER: E2E_PEPPER,
    CUSTODIAN_OTLP_HTTP_PORT: String(ports.http),
    CUSTODIAN_OTLP_GRPC_PORT: String(ports.grpc),
    CUSTODIAN_ZIPKIN_PORT: String(ports.zipkin),
    CUSTODIAN_OPS_PORT: String(ports.ops),
    CUSTODIAN_BIND_HOST: '127.0.0.1',
    ...env,
  });
  await proc.waitForLog('custodian started');
  if (waitReady) {
    await waitFor('gateway ready', async () =>
      (await fetch(`http://127.0.0.1:${ports.ops}/readyz`)).status === 200 ? true : undefined,
    );
  }
  return { proc, ports };
}

/** A fresh tenant and an ingest key for it (hashed under E2E_PEPPER). */
export async function tenantWithKey(
  db: PrismaClient,
  opts: { limits?: object; signals?: ('traces' | 'logs' | 'metrics')[] } = {},
) {
  const t = await new TenantRepository(db).create({
    slug: `gw-${randomBytes(4).toString('hex')}`,
    name: 'gateway e2e',
  });
  if (opts.limits) await db.tenant.update({ where: { id: t.id }, data: { limits: opts.limits } });
  const minted = mintApiKey(E2E_PEPPER);
  await new ApiKeyRepository(db).create(t.id, {
    id: minted.id,
    name: 'e2e',
    secretHash: minted.secretHash,
    signals: opts.signals ?? [],
  });
  return { tenantId: t.id, key: minted.key };
}
