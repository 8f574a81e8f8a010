import { mintApiKey } from '@custodian/auth';
import type { Signal } from '@custodian/bus';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { IngestError } from '../ingest/ingest-error';

const PEPPER = 'unit-test-pepper-0123456789abcdef01234567';

function keyRow(over: Partial<Record<string, unknown>> = {}) {
  const minted = mintApiKey(PEPPER);
  const row = {
    id: minted.id,
    tenantId: 't-1',
    name: 'k',
    secretHash: minted.secretHash,
    signals: [] as Signal[],
    createdAt: new Date(),
    createdBy: null,
    expiresAt: null as Date | null,
    revokedAt: null as Date | null,
    lastUsedAt: null,
    tenant: { id: 't-1', slug: 'acme', status: 'active', limits: { spansPerSecond: 5 } },
    ...over,
  };
  return { key: minted.key, row };
}

function fakeRepo(rows: Map<string, unknown>) {
  const calls: string[] = [];
  return {
    calls,
    findForAuthentication: async (id: string) => {
      calls.push(id);
      return (rows.get(id) ?? null) as never;
    },
  };
}

async function failure(p: Promise<unknown>): Promise<IngestError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IngestError) return err;
    throw err;
  }
  throw new Error('expected an IngestError');
}

describe('ApiKeyAuthenticator', () => {
  it('reads the key from Authorization: Bearer or x-custodian-api-key', () => {
    expect(ApiKeyAuthenticator.presentedKey('Bearer abc', undefined)).toBe('abc');
    expect(ApiKeyAuthenticator.presentedKey('bearer   abc  ', undefined)).toBe('abc');
    expect(ApiKeyAuthenticator.presentedKey('Basic abc', undefined)).toBeUndefined();
    expect(ApiKeyAuthenticator.presentedKey('Bearer a', 'b')).toBe('b');
    expect(ApiKeyAuthenticator.presentedKey(undefined, undefined)).toBeUndefined();
  });

  it('authenticates a valid key to its tenant and carries the tenant limits', async () => {
    const { key, row } = keyRow();
    const auth = new ApiKeyAuthenticator(fakeRepo(new Map([[row.id, row]])), PEPPER, 2000);
    await expect(auth.authenticate(key, 'traces')).resolves.toEqual({
      tenantId: 't-1',
      tenantSlug: 'acme',
      keyId: row.id,
      limits: { spansPerSecond: 5 },
    });
  });

  it('gives missing, malformed, unknown and wrong-secret keys the same answer', async () => {
    const { key, row } = keyRow();
    const auth = new ApiKeyAuthenticator(fakeRepo(new Map([[row.id, row]])), PEPPER, 2000);
    const missing = await failure(auth.authenticate(undefined, 'traces'));
    expect(missing.kind).toBe('unauthenticated');
    expect(missing.message).toMatch(/missing API key/);
    const other = mintApiKey(PEPPER).key;
    const wrongSecret = key.slice(0, 17) + mintApiKey(PEPPER).key.slice(17);
    for (const bad of ['garbage', other, wrongSecret]) {
      const e = await failure(auth.authenticate(bad, 'traces'));
      expect([e.kind, e.message]).toEqual(['unauthenticated', 'invalid API key']);
    }
  });

  it('refuses revoked and expired keys, suspended tenants and signals the key may not send', async () => {
    const revoked = keyRow({ revokedAt: new Date() });
    const expired = keyRow({ expiresAt: new Date(Date.now() - 1000) });
    const suspended = keyRow({ tenant: { id: 't', slug: 's', status: 'suspended', limits: {} } });
    const logsOnly = keyRow({ signals: ['logs'] });
    const rows = new Map<string, unknown>(
      [revoked, expired, suspended, logsOnly].map((k) => [k.row.id, k.row]),
    );
    const auth = new ApiKeyAuthenticator(fakeRepo(rows), PEPPER, 2000);
    expect((await failure(auth.authenticate(revoked.key, 'traces'))).message).toBe(
      'API key revoked',
    );
    expect((await failure(auth.authenticate(expired.key, 'traces'))).message).toBe(
      'API key expired',
    );
    expect((await failure(auth.authenticate(suspended.key, 'traces'))).kind).toBe(
      'permission_denied',
    );
    const signal = await failure(auth.authenticate(logsOnly.key, 'traces'));
    expect([signal.kind, signal.message]).toEqual([
      'permission_denied',
      'API key may not send traces (allowed: logs)',
    ]);
    await expect(auth.authenticate(logsOnly.key, 'logs')).resolves.toMatchObject({
      tenantId: 't-1',
    });
  });

  it('caches lookups for the TTL, so a revocation takes effect once the TTL has passed', async () => {
    let now = 1_000_000;
    const { key, row } = keyRow();
    const rows = new Map<string, unknown>([[row.id, row]]);
    const repo = fakeRepo(rows);
    const auth = new ApiKeyAuthenticator(repo, PEPPER, 2000, () => now);
    await auth.authenticate(key, 'traces');
    await auth.authenticate(key, 'traces');
    expect(repo.calls).toHaveLength(1);

    rows.set(row.id, { ...row, revokedAt: new Date(now) });
    now += 1999;
    await expect(auth.authenticate(key, 'traces')).resolves.toBeTruthy();
    now += 2;
    expect((await failure(auth.authenticate(key, 'traces'))).message).toBe('API key revoked');
    expect(repo.calls).toHaveLength(2);
  });

  it('caches unknown ids too, and shares one lookup between concurrent requests', async () => {
    const repo = fakeRepo(new Map());
    const auth = new ApiKeyAuthenticator(repo, PEPPER, 2000);
    const unknown = mintApiKey(PEPPER).key;
    await Promise.all(
      Array.from({ length: 20 }, () => failure(auth.authenticate(unknown, 'traces'))),
    );
    await failure(auth.authenticate(unknown, 'traces'));
    expect(repo.calls).toHaveLength(1);
  });

  it('answers UNAVAILABLE, not UNAUTHENTICATED, when the key store fails', async () => {
    const auth = new ApiKeyAuthenticator(
      { findForAuthentication: () => Promise.reject(new Error('connection refused')) },
      PEPPER,
      2000,
    );
    const e = await failure(auth.authenticate(mintApiKey(PEPPER).key, 'traces'));
    expect(e.kind).toBe('unavailable');
    expect(e.retryable).toBe(true);
  });
});
