/** Tenants: create (platform admins), rename, limit overrides, suspend and resume. */
import { Inject, Injectable } from '@nestjs/common';
import type { CustodianConfig } from '@custodian/config';
import { PrismaService, RepositoryError, TenantRepository, type Tenant } from '@custodian/db';
import { CONFIG } from '@custodian/ops';
import { AdminAudit } from '../audit/admin-audit.service';
import type { Actor } from '../auth/actor';
import { badInput, conflict, notFound } from '../auth/errors';
import { LIMIT_KEYS, applyLimitPatch, defaultLimits, type LimitKey } from './tenant-limits';
import type {
  CreateTenantInput,
  TenantLimitsInput,
  TenantLimitsView,
  TenantStatusEnum,
  TenantView,
  UpdateTenantInput,
} from './tenants.types';

function plainPatch(input: TenantLimitsInput): Partial<Record<LimitKey, number | null>> {
  const out: Partial<Record<LimitKey, number | null>> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v !== undefined) out[k as LimitKey] = v as number | null;
  }
  return out;
}

export function repositoryErrorToGraphQL(err: unknown): never {
  if (err instanceof RepositoryError) {
    if (err.code === 'conflict') throw conflict(err.message);
    if (err.code === 'not_found') throw notFound(err.message);
    throw badInput(err.message);
  }
  throw err;
}

@Injectable()
export class TenantsService {
  private readonly defaults: Record<LimitKey, number>;

  constructor(
    @Inject(CONFIG) config: CustodianConfig,
    private readonly prisma: PrismaService,
    private readonly tenants: TenantRepository,
    private readonly audit: AdminAudit,
  ) {
    this.defaults = defaultLimits(config as unknown as Record<string, unknown>);
  }

  view(t: Tenant): TenantView {
    const overrides = (t.limits ?? {}) as Record<string, unknown>;
    const limitOverrides = {} as TenantLimitsView;
    const effectiveLimits = {} as TenantLimitsView;
    for (const k of LIMIT_KEYS) {
      const v = typeof overrides[k] === 'number' ? (overrides[k] as number) : null;
      limitOverrides[k] = v;
      effectiveLimits[k] = v ?? this.defaults[k];
    }
    return {
      id: t.id,
      slug: t.slug,
      name: t.name,
      status: t.status as TenantStatusEnum,
      suspendedAt: t.suspendedAt,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
      limitOverrides,
      effectiveLimits,
    };
  }

  async get(id: string): Promise<Tenant> {
    const t = await this.tenants.findById(id);
    if (!t) throw notFound(`tenant ${id} not found`);
    return t;
  }

  list(where: Record<string, unknown>): Promise<Tenant[]> {
    return this.prisma.client.tenant.findMany({ where, orderBy: { slug: 'asc' } });
  }

  async create(actor: Actor, input: CreateTenantInput): Promise<Tenant> {
    const { limits, problems } = applyLimitPatch({}, input.limits ? plainPatch(input.limits) : {});
    if (problems.length > 0) throw badInput(`invalid tenant: ${problems.join('; ')}`, problems);
    const t = await this.tenants
      .create({ slug: input.slug.trim(), name: input.name })
      .catch(repositoryErrorToGraphQL);
    const withLimits =
      Object.keys(limits).length > 0
        ? await this.prisma.client.tenant.update({ where: { id: t.id }, data: { limits } })
        : t;
    await this.audit.record(actor, {
      action: 'tenant.create',
      tenantId: t.id,
      targetType: 'Tenant',
      targetId: t.id,
      details: { slug: t.slug, name: t.name, limits },
    });
    return withLimits;
  }

  async update(actor: Actor, id: string, input: UpdateTenantInput): Promise<Tenant> {
    const current = await this.get(id);
    const problems: string[] = [];
    const data: { name?: string; limits?: object } = {};
    const changed: string[] = [];
    if (input.name !== undefined && input.name !== null) {
      const name = input.name.trim();
      if (name === '' || name.length > 200) problems.push('name: 1 to 200 characters');
      else {
        data.name = name;
        changed.push('name');
      }
    }
    if (input.limits) {
      const patch = applyLimitPatch(
        (current.limits ?? {}) as Record<string, unknown>,
        plainPatch(input.limits),
      );
      problems.push(...patch.problems);
      data.limits = patch.limits;
      changed.push(...Object.keys(plainPatch(input.limits)).map((k) => `limits.${k}`));
    }
    if (problems.length > 0)
      throw badInput(`invalid tenant update: ${problems.join('; ')}`, problems);
    const updated = await this.prisma.client.tenant.update({ where: { id }, data });
    await this.audit.record(actor, {
      action: 'tenant.update',
      tenantId: id,
      targetType: 'Tenant',
      targetId: id,
      fields: changed,
      details: { before: { name: current.name, limits: current.limits }, after: data },
    });
    return updated;
  }

  async setStatus(
    actor: Actor,
    id: string,
    status: 'active' | 'suspended',
    reason?: string | null,
  ): Promise<Tenant> {
    await this.get(id);
    const updated = await this.prisma.client.tenant.update({
      where: { id },
      data: { status, suspendedAt: status === 'suspended' ? new Date() : null },
    });
    await this.audit.record(actor, {
      action: status === 'suspended' ? 'tenant.suspend' : 'tenant.resume',
      tenantId: id,
      targetType: 'Tenant',
      targetId: id,
      reason: reason ?? undefined,
    });
    return updated;
  }
}
