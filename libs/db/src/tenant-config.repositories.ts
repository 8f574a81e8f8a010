/**
 * The tenant configuration the worker runs on (issue #5 items 1 and 4): policy versions, sinks
 * and the per-tenant HMAC key. Every method takes the tenant it acts in (CONVENTIONS.md,
 * "Tenancy"), except the change feeds (`*ChangedSince`), which say only WHICH tenants changed
 * so a worker can reload them; the reload itself goes through the tenant-scoped methods.
 *
 * Secrets never pass through here in the clear: sinks hold `secretCiphertext` and tenant keys
 * `hmacKeyCiphertext` (libs/auth secrets.ts: AES-256-GCM with the row bound in the AAD). A
 * ciphertext's AAD names the row id, so sink creation takes a `sealSecret(sinkId)` callback
 * and picks the id itself.
 *
 * Change stamps (`tenants.policy_changed_at`, `tenants.sinks_changed_at`) are set by database
 * triggers (migration 20261124040000_tenant_config), so a poll sees every writer.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { PrismaClient } from './prisma';
import type { Prisma } from './generated/prisma/client';
import type { PolicyVersion, Sink, TenantKey } from './generated/prisma/client';
import type { PolicyFormat, SinkKind } from './generated/prisma/enums';
import { RepositoryError } from './repositories';

export type { PolicyVersion, Sink, TenantKey, PolicyFormat, SinkKind };

/** A JSON object (sink config, policy document). */
export type JsonObject = Prisma.InputJsonObject;

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'P2002';
}

/** One tenant's change stamp, from a change feed. */
export interface TenantChange {
  tenantId: string;
  changedAt: Date;
}

// ---------------------------------------------------------------------------------------------

/** Per-tenant HMAC keys (ciphertext only). Deleting a key erases the ability to re-derive hashes. */
export class TenantKeyRepository {
  constructor(private readonly db: PrismaClient) {}

  find(tenantId: string): Promise<TenantKey | null> {
    return this.db.tenantKey.findUnique({ where: { tenantId } });
  }

  /**
   * The tenant's key row, created with `mintCiphertext()` when there is none. Safe under
   * concurrency: two workers racing both end up with the one row that won.
   */
  async getOrCreate(tenantId: string, mintCiphertext: () => Uint8Array): Promise<TenantKey> {
    const existing = await this.find(tenantId);
    if (existing) return existing;
    await this.db.tenantKey.createMany({
      data: [{ tenantId, hmacKeyCiphertext: Buffer.from(mintCiphertext()) }],
      skipDuplicates: true,
    });
    const row = await this.find(tenantId);
    if (!row) throw new RepositoryError('not_found', `tenant ${tenantId} does not exist`);
    return row;
  }

  /** Replaces the key (hashes made before no longer match new ones). */
  async rotate(tenantId: string, ciphertext: Uint8Array, at = new Date()): Promise<boolean> {
    const r = await this.db.tenantKey.updateMany({
      where: { tenantId },
      data: { hmacKeyCiphertext: Buffer.from(ciphertext), rotatedAt: at },
    });
    return r.count === 1;
  }

  /** Erases the key: hashes made under it can no longer be recomputed or linked. */
  async erase(tenantId: string): Promise<boolean> {
    const r = await this.db.tenantKey.deleteMany({ where: { tenantId } });
    return r.count === 1;
  }
}

// ---------------------------------------------------------------------------------------------

export interface NewSink {
  name: string;
  kind: SinkKind;
  /** Non-secret settings (endpoint, non-credential headers, batching). */
  config?: JsonObject;
  /** Encrypts the secret settings for the sink id the repository chose (AAD `sink:<id>`). */
  sealSecret?: (sinkId: string) => Uint8Array;
  clearedForRestricted?: boolean;
  enabled?: boolean;
}

export interface SinkPatch {
  name?: string;
  config?: JsonObject;
  /** A new secret (sealed for this sink's id), or null to remove it. */
  sealSecret?: ((sinkId: string) => Uint8Array) | null;
  clearedForRestricted?: boolean;
  enabled?: boolean;
}

/** A tenant's sinks. Secrets are written and read as ciphertext only. */
export class SinkRepository {
  constructor(private readonly db: PrismaClient) {}

  async create(tenantId: string, input: NewSink): Promise<Sink> {
    if (input.name.trim() === '') throw new RepositoryError('invalid', 'name must not be empty');
    const id = randomUUID();
    try {
      return await this.db.sink.create({
        data: {
          id,
          tenantId,
          name: input.name.trim(),
          kind: input.kind,
          config: input.config ?? {},
          secretCiphertext: input.sealSecret ? Buffer.from(input.sealSecret(id)) : null,
          clearedForRestricted: input.clearedForRestricted ?? false,
          enabled: input.enabled ?? true,
        },
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new RepositoryError('conflict', `a sink named "${input.name}" already exists`);
      }
      throw err;
    }
  }

  get(tenantId: string, sinkId: string): Promise<Sink | null> {
    return this.db.sink.findFirst({ where: { id: sinkId, tenantId } });
  }

  list(tenantId: string): Promise<Sink[]> {
    return this.db.sink.findMany({ where: { tenantId }, orderBy: { name: 'asc' } });
  }

  /** Updates a sink of this tenant; null when the tenant has no such sink. */
  async update(tenantId: string, sinkId: string, patch: SinkPatch): Promise<Sink | null> {
    const data: Prisma.SinkUpdateManyMutationInput = {};
    if (patch.name !== undefined) {
      if (patch.name.trim() === '') throw new RepositoryError('invalid', 'name must not be empty');
      data.name = patch.name.trim();
    }
    if (patch.config !== undefined) data.config = patch.config;
    if (patch.sealSecret === null) data.secretCiphertext = null;
    else if (patch.sealSecret) data.secretCiphertext = Buffer.from(patch.sealSecret(sinkId));
    if (patch.clearedForRestricted !== undefined) {
      data.clearedForRestricted = patch.clearedForRestricted;
    }
    if (patch.enabled !== undefined) data.enabled = patch.enabled;
    try {
      const r = await this.db.sink.updateMany({ where: { id: sinkId, tenantId }, data });
      if (r.count !== 1) return null;
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new RepositoryError('conflict', `a sink named "${patch.name}" already exists`);
      }
      throw err;
    }
    return this.get(tenantId, sinkId);
  }

  async delete(tenantId: string, sinkId: string): Promise<boolean> {
    const r = await this.db.sink.deleteMany({ where: { id: sinkId, tenantId } });
    return r.count === 1;
  }

  /** The tenant's sinks change stamp (null for an unknown tenant). */
  async changedAt(tenantId: string): Promise<Date | null> {
    const t = await this.db.tenant.findUnique({
      where: { id: tenantId },
      select: { sinksChangedAt: true },
    });
    return t?.sinksChangedAt ?? null;
  }

  /** Change feed: tenants whose sinks changed (created, updated, deleted) after `after`. */
  async tenantsChangedSince(after: Date): Promise<TenantChange[]> {
    const rows = await this.db.tenant.findMany({
      where: { sinksChangedAt: { gt: after } },
      select: { id: true, sinksChangedAt: true },
    });
    return rows.map((r) => ({ tenantId: r.id, changedAt: r.sinksChangedAt }));
  }
}

// ---------------------------------------------------------------------------------------------

export interface NewPolicyVersion {
  /** The validated, normalized document. */
  document: JsonObject;
  /** The text as submitted. */
  source: string;
  format: PolicyFormat;
  /** SHA-256 hex of the normalized document; computed from `document` when left out. */
  checksum?: string;
  comment?: string | null;
  createdBy?: string | null;
}

/** A tenant's active policy as the worker needs it. */
export interface ActivePolicy {
  tenantId: string;
  /** Null when the tenant has no policy of its own (the platform default applies). */
  policy: PolicyVersion | null;
  policyChangedAt: Date;
}

/** Policy versions: immutable rows (the database refuses UPDATE), one active per tenant. */
export class PolicyVersionRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Writes version n+1. Two concurrent writers cannot both get n+1 (unique tenant+version):
   * the loser retries with the next number.
   */
  async create(tenantId: string, input: NewPolicyVersion): Promise<PolicyVersion> {
    const checksum =
      input.checksum ?? createHash('sha256').update(JSON.stringify(input.document)).digest('hex');
    for (let attempt = 0; ; attempt++) {
      const last = await this.db.policyVersion.findFirst({
        where: { tenantId },
        orderBy: { version: 'desc' },
        select: { version: true },
      });
      try {
        return await this.db.policyVersion.create({
          data: {
            tenantId,
            version: (last?.version ?? 0) + 1,
            document: input.document,
            source: input.source,
            format: input.format,
            checksum,
            comment: input.comment ?? null,
            createdBy: input.createdBy ?? null,
          },
        });
      } catch (err) {
        if (isUniqueViolation(err) && attempt < 5) continue;
        throw err;
      }
    }
  }

  get(tenantId: string, policyId: string): Promise<PolicyVersion | null> {
    return this.db.policyVersion.findFirst({ where: { id: policyId, tenantId } });
  }

  list(tenantId: string): Promise<PolicyVersion[]> {
    return this.db.policyVersion.findMany({ where: { tenantId }, orderBy: { version: 'desc' } });
  }

  /** One version of this tenant by its number. */
  findByVersion(tenantId: string, version: number): Promise<PolicyVersion | null> {
    return this.db.policyVersion.findFirst({ where: { tenantId, version } });
  }

  /** The newest version of this tenant with this checksum (same normalized document). */
  findByChecksum(tenantId: string, checksum: string): Promise<PolicyVersion | null> {
    return this.db.policyVersion.findFirst({
      where: { tenantId, checksum },
      orderBy: { version: 'desc' },
    });
  }

  /** A page of this tenant's versions, newest first: those numbered below `beforeVersion`. */
  page(
    tenantId: string,
    opts: { limit: number; beforeVersion?: number },
  ): Promise<PolicyVersion[]> {
    return this.db.policyVersion.findMany({
      where: {
        tenantId,
        ...(opts.beforeVersion !== undefined ? { version: { lt: opts.beforeVersion } } : {}),
      },
      orderBy: { version: 'desc' },
      take: opts.limit,
    });
  }

  /** How many versions this tenant has. */
  count(tenantId: string): Promise<number> {
    return this.db.policyVersion.count({ where: { tenantId } });
  }

  /** Makes a version of this tenant the active one; false when the tenant has no such version. */
  async activate(tenantId: string, policyId: string): Promise<boolean> {
    const owned = await this.get(tenantId, policyId);
    if (!owned) return false;
    const r = await this.db.tenant.updateMany({
      where: { id: tenantId },
      data: { activePolicyId: policyId },
    });
    return r.count === 1;
  }

  /** Back to the platform default (no policy of the tenant's own). */
  async deactivate(tenantId: string): Promise<boolean> {
    const r = await this.db.tenant.updateMany({
      where: { id: tenantId },
      data: { activePolicyId: null },
    });
    return r.count === 1;
  }

  /** The tenant's active policy (null policy: the platform default applies). */
  async active(tenantId: string): Promise<ActivePolicy | null> {
    const t = await this.db.tenant.findUnique({
      where: { id: tenantId },
      select: { id: true, policyChangedAt: true, activePolicy: true },
    });
    return t
      ? { tenantId: t.id, policy: t.activePolicy, policyChangedAt: t.policyChangedAt }
      : null;
  }

  /** Change feed: tenants whose active policy or HMAC key changed after `after` (indexed). */
  async tenantsChangedSince(after: Date): Promise<TenantChange[]> {
    const rows = await this.db.tenant.findMany({
      where: { policyChangedAt: { gt: after } },
      select: { id: true, policyChangedAt: true },
    });
    return rows.map((r) => ({ tenantId: r.id, changedAt: r.policyChangedAt }));
  }

  /** Active policies of every tenant whose policy changed after `after`, in one query. */
  async activeSince(after: Date): Promise<ActivePolicy[]> {
    const rows = await this.db.tenant.findMany({
      where: { policyChangedAt: { gt: after } },
      select: { id: true, policyChangedAt: true, activePolicy: true },
    });
    return rows.map((t) => ({
      tenantId: t.id,
      policy: t.activePolicy,
      policyChangedAt: t.policyChangedAt,
    }));
  }
}
