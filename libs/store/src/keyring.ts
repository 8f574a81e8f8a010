/**
 * Per-tenant data keys for the trace store's restricted values (ARCHITECTURE.md, "Storage":
 * "restricted values encrypted per tenant").
 *
 * Envelope encryption, chosen over deriving keys from the master key (HKDF) because it allows
 * crypto-shredding: each tenant has a random 32-byte data key (DEK), stored in
 * `store_tenant_keys` encrypted under CUSTODIAN_ENCRYPTION_KEY with AAD `store-dek:<tenant>`
 * (libs/auth secrets.ts). Deleting that row (`erase`) makes every restricted value the tenant
 * ever stored unreadable at once, without touching the span partitions. A derived key could
 * never be forgotten while the master key lives.
 *
 * Each span's restricted values are one AES-256-GCM blob under the tenant's DEK, with AAD
 * `store-span:<tenant>:<trace hex>:<span hex>`: a blob copied to another span or tenant fails
 * to decrypt instead of revealing it there.
 *
 * DEKs are cached in memory for `cacheTtlMs` (default 5 min), so an erase reaches other
 * processes within that time; the cache never holds a key for a tenant that has none.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { decryptSecret, encryptSecret } from '@custodian/auth';

export const storeDekAad = (tenantId: string): string => `store-dek:${tenantId}`;
export const storeSpanAad = (tenantId: string, traceHex: string, spanHex: string): string =>
  `store-span:${tenantId}:${traceHex}:${spanHex}`;

/** The tenant has no data key (never had restricted values, or it was erased). */
export class NoTenantKeyError extends Error {
  constructor(tenantId: string) {
    super(`tenant ${tenantId} has no trace-store data key (none stored, or it was erased)`);
    this.name = 'NoTenantKeyError';
  }
}

export class StoreKeyring {
  private readonly cache = new Map<string, { key: Buffer; at: number }>();
  private readonly creating = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly pool: Pool,
    private readonly masterKey: Uint8Array,
    private readonly cacheTtlMs = 300_000,
    private readonly clock: () => number = Date.now,
  ) {
    if (masterKey.length !== 32)
      throw new RangeError('StoreKeyring: the master key must be 32 bytes');
  }

  /** The tenant's DEK, created on first use (safe when several workers race). */
  dataKey(tenantId: string): Promise<Buffer> {
    const hit = this.cached(tenantId);
    if (hit) return Promise.resolve(hit);
    let p = this.creating.get(tenantId);
    if (!p) {
      p = this.getOrCreate(tenantId).finally(() => this.creating.delete(tenantId));
      this.creating.set(tenantId, p);
    }
    return p;
  }

  /** The tenant's DEK if it has one; throws NoTenantKeyError otherwise. Never creates one. */
  async existingKey(tenantId: string): Promise<Buffer> {
    const hit = this.cached(tenantId);
    if (hit) return hit;
    const key = await this.read(tenantId);
    if (!key) throw new NoTenantKeyError(tenantId);
    return key;
  }

  /** Crypto-shreds the tenant's restricted values: deletes its DEK. True when there was one. */
  async erase(tenantId: string): Promise<boolean> {
    this.cache.delete(tenantId);
    const r = await this.pool.query('DELETE FROM store_tenant_keys WHERE tenant_id = $1', [
      tenantId,
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  private cached(tenantId: string): Buffer | undefined {
    const c = this.cache.get(tenantId);
    if (c && this.clock() - c.at < this.cacheTtlMs) return c.key;
    if (c) this.cache.delete(tenantId);
    return undefined;
  }

  private async read(tenantId: string): Promise<Buffer | undefined> {
    const r = await this.pool.query<{ key_ciphertext: Buffer }>(
      'SELECT key_ciphertext FROM store_tenant_keys WHERE tenant_id = $1',
      [tenantId],
    );
    if (r.rows.length === 0) return undefined;
    const key = decryptSecret(this.masterKey, r.rows[0].key_ciphertext, storeDekAad(tenantId));
    this.cache.set(tenantId, { key, at: this.clock() });
    return key;
  }

  private async getOrCreate(tenantId: string): Promise<Buffer> {
    const existing = await this.read(tenantId);
    if (existing) return existing;
    const fresh = randomBytes(32);
    await this.pool.query(
      'INSERT INTO store_tenant_keys (tenant_id, key_ciphertext) VALUES ($1, $2) ON CONFLICT (tenant_id) DO NOTHING',
      [tenantId, encryptSecret(this.masterKey, fresh, storeDekAad(tenantId))],
    );
    fresh.fill(0);
    // Whoever won the race, the stored row is the key.
    const key = await this.read(tenantId);
    if (!key) throw new NoTenantKeyError(tenantId);
    return key;
  }
}
