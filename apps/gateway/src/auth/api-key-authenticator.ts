/**
 * Tenant authentication at the edge: the API key names its tenant, and from here on the tenant
 * is carried explicitly (Kafka header), never re-derived from the data.
 *
 * Keys are looked up by their public id and verified against the stored keyed hash in constant
 * time. Lookups are cached for CUSTODIAN_API_KEY_CACHE_TTL_MS (default 2 s), so a revoked or
 * expired key stops working on every gateway within that time; unknown ids are cached too, so
 * a flood of made-up keys cannot reach the database once per request. Concurrent lookups of
 * one id share a single query.
 */
import { parseApiKey, verifyApiKeySecret } from '@custodian/auth';
import type { ApiKey, ApiKeyRepository, Tenant } from '@custodian/db';
import type { Signal } from '@custodian/bus';
import { IngestError } from '../ingest/ingest-error';

export interface AuthenticatedTenant {
  tenantId: string;
  tenantSlug: string;
  keyId: string;
  /** Per-tenant overrides of the default limits (Tenant.limits). */
  limits: Record<string, unknown>;
}

type KeyRow = ApiKey & { tenant: Tenant };

interface CacheEntry {
  row: KeyRow | null;
  expiresAt: number;
}

const MISSING_KEY =
  'missing API key: send it as "Authorization: Bearer <key>" or "x-custodian-api-key: <key>"';
const INVALID_KEY = 'invalid API key';
const MAX_CACHE_ENTRIES = 50_000;

export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pending = new Map<string, Promise<KeyRow | null>>();

  constructor(
    private readonly keys: Pick<ApiKeyRepository, 'findForAuthentication'>,
    private readonly pepper: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key from `authorization: Bearer …` or `x-custodian-api-key`, if any. */
  static presentedKey(
    authorization: string | undefined,
    apiKeyHeader: string | undefined,
  ): string | undefined {
    if (apiKeyHeader && apiKeyHeader.trim() !== '') return apiKeyHeader.trim();
    if (!authorization) return undefined;
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    return m ? m[1] : undefined;
  }

  async authenticate(presented: string | undefined, signal: Signal): Promise<AuthenticatedTenant> {
    if (!presented) throw new IngestError('unauthenticated', MISSING_KEY);
    const parsed = parseApiKey(presented);
    if (!parsed) throw new IngestError('unauthenticated', INVALID_KEY);
    const row = await this.lookup(parsed.id);
    // Unknown id and wrong secret get the same answer: nothing says whether a key or tenant exists.
    if (!row || !verifyApiKeySecret(parsed.secret, row.secretHash, this.pepper)) {
      throw new IngestError('unauthenticated', INVALID_KEY);
    }
    // Past this point the caller holds the real secret, so a precise reason helps and leaks nothing.
    if (row.revokedAt) throw new IngestError('unauthenticated', 'API key revoked');
    if (row.expiresAt && row.expiresAt.getTime() <= this.now()) {
      throw new IngestError('unauthenticated', 'API key expired');
    }
    if (row.tenant.status !== 'active') {
      throw new IngestError('permission_denied', 'tenant suspended: ingest is refused');
    }
    if (row.signals.length > 0 && !row.signals.includes(signal)) {
      throw new IngestError(
        'permission_denied',
        `API key may not send ${signal} (allowed: ${row.signals.join(', ')})`,
      );
    }
    return {
      tenantId: row.tenantId,
      tenantSlug: row.tenant.slug,
      keyId: row.id,
      limits: (row.tenant.limits ?? {}) as Record<string, unknown>,
    };
  }

  /** Forgets a key at once (revocation notice). */
  invalidate(keyId: string): void {
    this.cache.delete(keyId);
  }

  private async lookup(keyId: string): Promise<KeyRow | null> {
    const now = this.now();
    const hit = this.cache.get(keyId);
    if (hit && hit.expiresAt > now) return hit.row;
    let p = this.pending.get(keyId);
    if (!p) {
      p = this.keys.findForAuthentication(keyId).finally(() => this.pending.delete(keyId));
      this.pending.set(keyId, p);
    }
    let row: KeyRow | null;
    try {
      row = await p;
    } catch {
      throw new IngestError('unavailable', 'API key store unavailable; retry later', 1000);
    }
    if (this.ttlMs > 0) {
      if (this.cache.size >= MAX_CACHE_ENTRIES) {
        // Drop the oldest entry (Map keeps insertion order).
        const first = this.cache.keys().next();
        if (!first.done) this.cache.delete(first.value);
      }
      this.cache.delete(keyId);
      this.cache.set(keyId, { row, expiresAt: this.now() + this.ttlMs });
    }
    return row;
  }
}
