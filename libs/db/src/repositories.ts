import type { PrismaClient } from './prisma';
import type { ApiKey, Tenant } from './generated/prisma/client';
import type { Signal } from './generated/prisma/enums';

export type { ApiKey, Tenant, Signal };

/** Thrown for input a caller must fix (duplicate slug, unknown tenant); safe to show. */
export class RepositoryError extends Error {
  constructor(
    readonly code: 'conflict' | 'not_found' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'RepositoryError';
  }
}

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'P2002';
}

export class TenantRepository {
  constructor(private readonly db: PrismaClient) {}

  async create(input: { slug: string; name: string }): Promise<Tenant> {
    if (!SLUG.test(input.slug)) {
      throw new RepositoryError(
        'invalid',
        'slug must be 1-40 lowercase letters, digits or dashes, not starting or ending with a dash',
      );
    }
    if (input.name.trim() === '') throw new RepositoryError('invalid', 'name must not be empty');
    try {
      return await this.db.tenant.create({ data: { slug: input.slug, name: input.name.trim() } });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new RepositoryError('conflict', `a tenant with slug "${input.slug}" already exists`);
      }
      throw err;
    }
  }

  findBySlug(slug: string): Promise<Tenant | null> {
    return this.db.tenant.findUnique({ where: { slug } });
  }

  findById(tenantId: string): Promise<Tenant | null> {
    return this.db.tenant.findUnique({ where: { id: tenantId } });
  }
}

/** API keys, always within one tenant: every method takes the tenant id it acts in. */
export class ApiKeyRepository {
  constructor(private readonly db: PrismaClient) {}

  create(
    tenantId: string,
    key: {
      id: string;
      name: string;
      secretHash: Uint8Array;
      signals?: Signal[];
      expiresAt?: Date | null;
      createdBy?: string | null;
    },
  ): Promise<ApiKey> {
    return this.db.apiKey.create({
      data: {
        id: key.id,
        tenantId,
        name: key.name,
        secretHash: Buffer.from(key.secretHash),
        signals: key.signals ?? [],
        expiresAt: key.expiresAt ?? null,
        createdBy: key.createdBy ?? null,
      },
    });
  }

  findInTenant(tenantId: string, keyId: string): Promise<ApiKey | null> {
    return this.db.apiKey.findFirst({ where: { id: keyId, tenantId } });
  }

  listForTenant(tenantId: string): Promise<ApiKey[]> {
    return this.db.apiKey.findMany({ where: { tenantId }, orderBy: { createdAt: 'desc' } });
  }

  async revoke(tenantId: string, keyId: string, at = new Date()): Promise<boolean> {
    const r = await this.db.apiKey.updateMany({
      where: { id: keyId, tenantId, revokedAt: null },
      data: { revokedAt: at },
    });
    return r.count === 1;
  }

  /**
   * The one lookup that starts from a key id alone: authenticating an ingest request, where the
   * key is what tells us the tenant. Returns the key with its tenant's status.
   */
  findForAuthentication(keyId: string): Promise<(ApiKey & { tenant: Tenant }) | null> {
    return this.db.apiKey.findUnique({ where: { id: keyId }, include: { tenant: true } });
  }
}
